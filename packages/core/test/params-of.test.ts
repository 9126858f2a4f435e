/** `ParamsOf<typeof plugin>`: an activation's parameters as a type, for augmenting ActivationRegistry. */
import { expect, expectTypeOf, test } from "vitest";
import { type ActivationPlugin, type ParamsOf, bindActivation, defineActivation } from "../src/index.js";

const snake = defineActivation({
  name: "snakeParamsOf", family: "custom", package: "params-of-test", version: "1.0.0", description: "x + sin²(a·x)/a",
  params: { a: { default: 1, min: 0, exclusiveMin: true, trainable: true }, mode: { default: "fast", choices: ["fast", "exact"] } },
  meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
  formula: (x, p) => x.add(x.mul(p.a).sin().square().div(p.a)),
});

test("ParamsOf gives a plugin's parameter types, and never for what is not a plugin", () => {
  expectTypeOf<ParamsOf<typeof snake>>().toEqualTypeOf<{ a: number; mode: "fast" | "exact" }>();
  expectTypeOf<ParamsOf<ActivationPlugin<{ alpha: number }>>>().toEqualTypeOf<{ alpha: number }>();
  expectTypeOf<ParamsOf<{ name: string }>>().toBeNever();
  // the values bindActivation resolves have that type
  const bound = bindActivation(snake, { a: 2 });
  const params: ParamsOf<typeof snake> = bound.params;
  expect(params).toEqual({ a: 2, mode: "fast" });
});
