/**
 * Hostile activation declarations (issue 11, item 7): a declaration is data and is checked at registration;
 * generated kernel source holds only what the generators format themselves; parameter values are finite
 * float32 numbers inside their declared bounds, wherever they come from (bind, layer config, model file).
 */
import {
  type ActivationPlugin, ArgumentError, Expr, type ExprNode, NeuriteError, RegistryError,
  activations, applyActivation, bindActivation, compileScalar, constant, defineActivation, defineFamily, exprToJs,
  getBackend, input, loadModel, output, resolveActivation, saveModel, sequential, tensor, unary, use,
} from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { softmaxFamily } from "@neurite/activations-softmax";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { afterEach, beforeAll, expect, test } from "vitest";
import { forEachBackend } from "../../src/backends.js";

/** The global that injected code would set; it must stay undefined through every test. */
const SENTINEL = "__neuriteHostileDeclaration";
const INJECTION = `0; globalThis.${SENTINEL} = 1; 0`;
const sentinel = (): unknown => (globalThis as Record<string, unknown>)[SENTINEL];

beforeAll(() => {
  for (const f of [reluFamily, sigmoidFamily, softmaxFamily, smoothFamily]) if (!activations.has(f.activations[0]!.name)) use(f);
});

afterEach(() => {
  expect(sentinel()).toBeUndefined();
});

/** A valid declaration to derive broken ones from. */
function valid(overrides: Record<string, unknown> = {}): ActivationPlugin {
  return {
    ...defineActivation<{ k: number }>({
      name: "hostileOk", family: "hostile", package: "@hostile/acts", version: "1.0.0",
      description: "k·x",
      params: { k: { default: 2, min: 0, max: 10 } },
      meta: { range: [-Infinity, Infinity], monotonic: true, smoothAtZero: true },
      formula: (x, p) => x.mul(p.k),
    }),
    ...overrides,
  };
}

/** An object shaped like an expression but not built by the core. */
function forged(node: object): Expr {
  return { node, key: "c0" } as unknown as Expr;
}

const FORGED_CONST = forged({ kind: "const", value: INJECTION });

/** Registers `plugin` expecting a refusal that names `message`; nothing is registered afterwards. */
function refused(plugin: unknown, message: RegExp, kind: typeof RegistryError | typeof ArgumentError = RegistryError): void {
  const before = activations.names();
  let error: unknown;
  try {
    use(plugin as ActivationPlugin);
  } catch (e) {
    error = e;
  }
  expect(error, "registration must fail").toBeInstanceOf(kind);
  expect((error as Error).message).toMatch(message);
  expect(activations.names()).toEqual(before);
}

forEachBackend("hostile activation declarations", (backend) => {
  test("the valid declaration the cases derive from registers and runs", () => {
    const ok = valid({ name: "hostileOkRuns" });
    use(ok, { replace: true });
    expect(resolveActivation({ name: "hostileOkRuns", k: 3 }).params).toEqual({ k: 3 });
    expect(applyActivation(tensor([1, -2]), bindActivation(ok, { k: 3 })).arraySync()).toEqual([3, -6]);
    activations.unregister("hostileOkRuns");
  });

  test("a formula returning null is refused (it used to become the identity inside a dense layer)", () => {
    refused(valid({ formula: () => null }), /activation "hostileOk": formula\(x, params\) returned null.*build it from x and params/);
    // passed as a plugin object straight to a layer, without registration, the same check applies
    expect(() => sequential([{ type: "dense", units: 2, inputShape: [2], activation: valid({ formula: () => null }) as never }]))
      .toThrow(/formula\(x, params\) returned null/);
  });

  test("a formula returning a forged expression node is refused: brand, not shape", () => {
    refused(valid({ formula: () => FORGED_CONST }), /formula\(x, params\) returned an object, not an expression built by @neurite\/core/);
    // the real prototype and a well-formed node do not make an expression either
    const lookalike = Object.assign(Object.create(Expr.prototype) as object, { node: { kind: "input", index: 0 } });
    refused(valid({ formula: () => lookalike }), /not an expression built by @neurite\/core/);
    refused(valid({ formula: (x: Expr) => x, derivative: () => 1 }), /derivative\(x, y, params\) returned 1.*not an expression/);
  });

  test("a formula that throws is refused, naming the formula and the error", () => {
    refused(valid({ formula: () => { throw new TypeError("boom"); } }), /activation "hostileOk": formula\(x, params\) threw TypeError: boom/);
    refused(valid({ formula: (x: Expr) => x, derivative: () => { throw new Error("bad y"); } }), /derivative\(x, y, params\) threw Error: bad y/);
  });

  test("a formula must read only x and its parameters", () => {
    refused(valid({ formula: (x: Expr) => x.add(input(3)) }), /formula reads input\(3\).*only x/);
    refused(valid({ formula: (x: Expr) => x.add(output()) }), /formula uses output\(\).*only.*derivative/);
  });

  test("huge or deep expressions are refused with a clear error, not a stack overflow", () => {
    const deep = (x: Expr): Expr => {
      let e = x;
      for (let i = 0; i < 200_000; i++) e = e.add(1);
      return e;
    };
    refused(valid({ formula: deep }), /formula\(x, params\) threw ArgumentError: expression nests deeper than \d+ levels/);
    const doubling = (x: Expr): Expr => {
      let e = x;
      for (let i = 0; i < 64; i++) e = e.add(e);
      return e;
    };
    refused(valid({ formula: doubling }), /expression has more than \d+ nodes/);
  });

  test("expressions cannot be forged, mutated or made cyclic", () => {
    expect(() => Expr.of({ kind: "const", value: INJECTION } as unknown as ExprNode)).toThrow(ArgumentError);
    expect(() => Expr.of({ kind: "const", value: INJECTION } as unknown as ExprNode)).toThrow(/constant must be a number, got "0; globalThis/);
    expect(() => Expr.of({ kind: "input", index: `0]; globalThis.${SENTINEL} = 1; X[0` } as unknown as ExprNode)).toThrow(/input index must be an integer/);
    expect(() => Expr.of({ kind: "evil" } as unknown as ExprNode)).toThrow(/unknown expression kind "evil"/);
    expect(() => unary("constructor" as never, 1)).toThrow(/unknown unary op "constructor"/);
    expect(() => Expr.of({ kind: "unary", op: "neg", a: FORGED_CONST } as unknown as ExprNode)).toThrow(/operand a .*not an expression built by @neurite\/core/);
    const e = input(0).add(1);
    expect(() => { (e.node as { b: unknown }).b = e; }).toThrow(TypeError);
    expect(() => { (e as { node: unknown }).node = { kind: "const", value: INJECTION }; }).toThrow(TypeError);
    expect(e.key).toBe("add(i0,c1)");
    class Sub extends (Expr as unknown as new (n: ExprNode) => Expr) {}
    expect(() => new Sub({ kind: "const", value: 1 })).toThrow(/cannot be subclassed/);
  });

  test("declaration fields: name, identity, params, meta, kernels and unknown keys", () => {
    refused(valid({ name: "constructor" }), /activation name "constructor" is a property of every object/);
    refused(valid({ name: "toString" }), /activation name "toString"/);
    refused(valid({ name: "has space" }), /activation name "has space" must be an identifier/);
    refused(valid({ version: 3 }), /activation "hostileOk": version must be a version string such as "1.0.0".*got 3/);
    refused(valid({ package: "" }), /package must be a non-empty string/);
    refused(valid({ formule: (x: Expr) => x }), /unknown field "formule"; did you mean "formula"\?/);
    refused(valid({ params: { k: { default: 1e39 } } }), /parameter k must be a finite float32 number.*got 1e\+39 \(the default in the declaration/, ArgumentError);
    refused(valid({ params: { k: { default: Infinity } } }), /parameter k must be a finite float32 number/, ArgumentError);
    refused(valid({ params: { k: { default: 2, min: "0" } } }), /parameter k: min must be a number, got "0"/);
    refused(valid({ params: { k: { default: 2, min: 5, max: 1 } } }), /parameter k: min 5 is greater than max 1/);
    refused(valid({ params: { k: { default: 2, minimum: 0 } } }), /parameter k: unknown field "minimum"; did you mean "min"\?/);
    refused(valid({ params: { k: { default: "a", choices: "abc" } } }), /parameter k: choices must be a non-empty array/);
    refused(valid({ params: { k: { default: "a", choices: ["a", 1] } } }), /parameter k: choice 1 is not a string like the default/);
    refused(valid({ params: { k: { default: "a", choices: ["a", "a"] } } }), /parameter k: choice "a" is listed twice/);
    refused(valid({ params: { k: { default: "a", trainable: true } } }), /parameter k: only numeric parameters can be trainable/);
    refused(valid({ params: { constructor: { default: 1 } } }), /parameter name "constructor" is a property of every object/);
    refused(valid({ params: { name: { default: 1 } } }), /parameter name "name" is taken by the activation's name/);
    refused(valid({ params: { k: null } }), /parameter k must be declared as \{ default, \.\.\. \}, got null/);
    refused(valid({ params: [] }), /params must be an object of parameter declarations/);
    refused(valid({ meta: undefined }), /meta must be \{ range, monotonic, smoothAtZero \} or a function of the parameters/);
    refused(valid({ meta: { range: [1, 0], monotonic: true, smoothAtZero: true } }), /meta\.range must be \[lo, hi\] with lo ≤ hi/);
    refused(valid({ meta: () => { throw new Error("no meta"); } }), /meta\(params\) threw Error: no meta/);
    refused(valid({ kernels: { cpu: () => undefined } }), /kernels\.cpu must be \{ forward, backward\? \}/);
    refused(valid({ kernels: { toString: { forward: () => undefined } } }), /kernels: backend name "toString"/);
    refused(valid({ validate: 1 }), /validate must be a function/);
  });

  test("accessor properties are refused: a declaration is data, read once", () => {
    let reads = 0;
    const tricky = valid();
    Object.defineProperty(tricky, "formula", { enumerable: true, get: () => (++reads > 1 ? () => FORGED_CONST : (x: Expr) => x) });
    refused(tricky, /activation "hostileOk": formula must be a plain data property, not a getter/);
    const trickyParams = valid({ params: {} });
    Object.defineProperty(trickyParams.params, "k", { enumerable: true, get: () => ({ default: 1 }) });
    refused(trickyParams, /params\.k must be a plain data property, not a getter/);
  });

  test("a family is all or nothing: one bad member registers none, duplicate names are refused", () => {
    const good = valid({ name: "hostileGood" });
    const bad = valid({ name: "hostileBad", formula: () => null });
    refused(defineFamily({ name: "hostile", package: "@hostile/acts", version: "1.0.0", activations: [good, bad] }), /activation "hostileBad": formula/);
    expect(activations.has("hostileGood")).toBe(false);
    refused(defineFamily({ name: "hostile", package: "@hostile/acts", version: "1.0.0", activations: [good, valid({ name: "hostileGood" })] }), /"hostileGood" twice/);
    refused({ kind: "activation-family", name: "hostile", package: "@hostile/acts", version: "1.0.0", activations: {} },
      /"hostile": activations must be an array/);
  });

  test(`forged nodes never reach generated source (${backend} kernels, compileScalar, exprToJs)`, () => {
    const b = getBackend();
    const out = b.alloc(4);
    try {
      for (const program of [FORGED_CONST, forged({ kind: "unary", op: "neg", a: FORGED_CONST }), forged({ kind: "input", index: `0]; globalThis.${SENTINEL} = 1; X[0` })]) {
        expect(() => b.elementwise({ program, inputs: [], scalars: [], shape: [4], out: { id: out, offset: 0, strides: [1] } })).toThrow(NeuriteError);
        expect(sentinel()).toBeUndefined();
      }
      const x = b.upload(new Float32Array([1, 2, 3, 4]));
      try {
        const epilogue = b.kernels?.matmulEpilogue;
        expect(epilogue, "both first-party backends have the fused dense kernel").toBeDefined();
        expect(() => epilogue!({ a: x, b: x, out, batch: 1, m: 1, k: 1, n: 1, transposeA: false, transposeB: false, aBatchStride: 0, bBatchStride: 0, activation: FORGED_CONST, scalars: [] })).toThrow(NeuriteError);
      } finally {
        b.free(x);
      }
    } finally {
      b.free(out);
    }
    expect(() => compileScalar(FORGED_CONST)).toThrow(NeuriteError);
    expect(() => exprToJs(FORGED_CONST, { input: () => "x", scalar: () => "s", output: () => "y" })).toThrow(/not an expression built by @neurite\/core/);
    expect(sentinel()).toBeUndefined();
  });

  test("a deep but legal expression compiles on this backend without overflowing the stack", () => {
    let e = input(0);
    for (let i = 0; i < 900; i++) e = e.add(constant(1));
    const f = compileScalar(e);
    expect(f([0.5])).toBe(900.5);
    // and through this backend's kernel generator
    const b = getBackend();
    const x = b.upload(new Float32Array([0.5, -2]));
    const out = b.alloc(2);
    try {
      b.elementwise({ program: e, inputs: [{ id: x, offset: 0, strides: [1] }], scalars: [], shape: [2], out: { id: out, offset: 0, strides: [1] } });
      expect([...b.read(out)]).toEqual([900.5, 898]);
    } finally {
      b.free(x);
      b.free(out);
    }
  });

  test("a plugin mutated after registration cannot smuggle a non-expression in", () => {
    const mutable = valid({ name: "hostileMutable" });
    use(mutable);
    (mutable as { formula: unknown }).formula = () => FORGED_CONST;
    expect(() => applyActivation(tensor([1, 2]), bindActivation(mutable))).toThrow(/not an expression built by @neurite\/core/);
    activations.unregister("hostileMutable");
  });
});

forEachBackend("hostile activation parameter values", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["alpha 1e39 (Infinity in float32)", { name: "leakyRelu", alpha: 1e39 }, /parameter alpha must be a finite float32 number.*got 1e\+39/],
    ["alpha Infinity", { name: "leakyRelu", alpha: Infinity }, /parameter alpha must be a finite float32 number/],
    ["alpha -Infinity on an unbounded parameter", { name: "hardTanh", minVal: -Infinity }, /parameter minVal must be a finite float32 number/],
    ["alpha NaN", { name: "elu", alpha: NaN }, /parameter alpha must be a number \(not NaN\)/],
    ["alpha as a string", { name: "elu", alpha: "1" }, /parameter alpha must be a number, got "1"/],
    ["alpha null", { name: "elu", alpha: null }, /parameter alpha must be a number, got null/],
    ["alpha below min", { name: "elu", alpha: -1 }, /parameter alpha must be in \[0, Infinity\]/],
    ["celu alpha that rounds to 0 in float32 (exclusive min 0)", { name: "celu", alpha: 1e-46 }, /parameter alpha must be in \(0, Infinity\].*float32/],
    ["an integer parameter beyond safe integers", { name: "softmax", axis: 2 ** 60 }, /parameter axis must be an integer/],
    ["a choice not in the list", { name: "gelu", approximate: "TANH" }, /parameter approximate must be one of "none", "tanh"/],
  ];
  for (const [what, config, message] of cases) {
    test(`refused at bind and layer-config time: ${what}`, () => {
      expect(() => resolveActivation(config as never)).toThrow(ArgumentError);
      expect(() => resolveActivation(config as never)).toThrow(message);
      expect(() => sequential([{ type: "dense", units: 2, inputShape: [2], activation: config as never }])).toThrow(message);
    });
  }

  test("a forged bound activation is validated like any other", () => {
    const forgedBound = { kind: "bound-activation", plugin: activations.get("leakyRelu"), params: { alpha: 1e39 } };
    expect(() => resolveActivation(forgedBound as never)).toThrow(/parameter alpha must be a finite float32 number/);
    expect(() => sequential([{ type: "dense", units: 2, inputShape: [2], activation: forgedBound as never }])).toThrow(/finite float32/);
  });

  test("a model file with an out-of-range activation parameter is refused on load", () => {
    const model = sequential([{ type: "dense", units: 2, inputShape: [2], activation: { name: "leakyRelu", alpha: 0.5 } as never }]);
    const saved = saveModel(model);
    const text = JSON.stringify(saved.json);
    expect(text).toContain('"alpha":0.5');
    // the JSON checksum would refuse any edit first; drop it, as an attacker would, so the parameter check is reached
    const edited = (value: string): unknown => {
      const json = JSON.parse(text.replace('"alpha":0.5', `"alpha":${value}`)) as Record<string, unknown>;
      delete json.jsonCrc32;
      return json;
    };
    const expected: Record<string, RegExp> = {
      "1e39": /parameter alpha must be a finite float32 number/,
      "-1": /parameter alpha must be/,
      '"0.5"': /parameter alpha must be a number/,
      null: /params must be numbers, strings or booleans/,
    };
    for (const [bad, message] of Object.entries(expected)) {
      expect(() => loadModel({ json: edited(bad), weights: saved.weights }), bad).toThrow(message);
    }
    // the original still loads
    expect(() => loadModel({ json: JSON.parse(text) as unknown, weights: saved.weights })).not.toThrow();
  });
});
