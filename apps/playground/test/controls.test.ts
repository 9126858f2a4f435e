// @vitest-environment happy-dom
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { type ActivationPlugin, type ParamSpec, type ParamValue, activations, defineActivation, defineFamily, use } from "@neurite/core";
import { render } from "lit-html";
import { beforeAll, describe, expect, it } from "vitest";
import { renderActivationSelect, renderParamControls } from "../src/activation-controls.js";

beforeAll(() => {
  use(reluFamily, sigmoidFamily, softmaxFamily, smoothFamily);
});

function mount(plugin: ActivationPlugin, onChange: (name: string, value: ParamValue) => void = () => {}): HTMLElement {
  const root = document.createElement("div");
  render(renderParamControls({ id: "t", plugin, values: {}, errors: {}, onChange }), root);
  return root;
}

/** Checks that `root` holds one labelled input per declared parameter, with the declaration's bounds or choices. */
function expectControls(root: HTMLElement, plugin: ActivationPlugin): void {
  const specs = Object.entries(plugin.params as Record<string, ParamSpec>);
  expect(root.querySelectorAll("[data-param]").length).toBe(specs.length);
  for (const [name, spec] of specs) {
    const el = root.querySelector<HTMLInputElement | HTMLSelectElement>(`[data-param="${name}"]`);
    expect(el, `${plugin.name}.${name}`).not.toBeNull();
    expect(root.querySelector(`label[for="${el!.id}"]`)?.textContent).toContain(name);
    if (spec.choices?.length) {
      expect(el!.tagName).toBe("SELECT");
      expect([...(el as HTMLSelectElement).options].map((o) => o.value)).toEqual(spec.choices.map(String));
      expect(el!.value).toBe(String(spec.default));
    } else if (typeof spec.default === "boolean") {
      expect((el as HTMLInputElement).type).toBe("checkbox");
      expect((el as HTMLInputElement).checked).toBe(spec.default);
    } else if (typeof spec.default === "number") {
      expect((el as HTMLInputElement).type).toBe("number");
      expect(Number(el!.value)).toBe(spec.default);
      expect(el!.getAttribute("min")).toBe(Number.isFinite(spec.min) ? String(spec.min) : "");
      expect(el!.getAttribute("max")).toBe(Number.isFinite(spec.max) ? String(spec.max) : "");
      expect(el!.getAttribute("step")).toBe(spec.integer ? "1" : "any");
    }
  }
  if (specs.length === 0) expect(root.textContent).toContain("no parameters");
}

describe("parameter controls come from the declarations", () => {
  it("every registered activation renders its controls", () => {
    const all = activations.list();
    // the four first-party families and the core's linear, so the loop below cannot pass by being empty
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all.some((p) => Object.keys(p.params).length > 0)).toBe(true);
    for (const plugin of all) expectControls(mount(plugin), plugin);
  });

  it("a family registered later appears in the chooser with its controls, with no change to the app", () => {
    const family = defineFamily({
      name: "test-family",
      package: "test-family",
      version: "1.0.0",
      activations: [
        defineActivation({
          name: "scaledTanh",
          family: "test-family",
          package: "test-family",
          version: "1.0.0",
          description: "gain · tanh(x), with a variant",
          params: {
            gain: { default: 1.5, min: 0, exclusiveMin: true, max: 4 },
            taps: { default: 2, min: 1, max: 5, integer: true },
            mode: { default: "a", choices: ["a", "b"] },
            clip: { default: false },
          },
          meta: { range: [-4, 4], monotonic: true, smoothAtZero: true },
          formula: (x, p) => x.tanh().mul(p.gain),
        }),
      ],
    });
    use(family);
    try {
      const root = document.createElement("div");
      render(renderActivationSelect("sel", "scaledTanh", "formula", () => {}), root);
      const select = root.querySelector("select")!;
      expect([...select.querySelectorAll("optgroup")].map((g) => g.label)).toContain("test-family");
      // every registered name is offered, plus the formula
      expect([...select.options].map((o) => o.value).sort()).toEqual([...activations.names(), "formula"].sort());
      const plugin = activations.get("scaledTanh");
      const controls = mount(plugin);
      expectControls(controls, plugin);
      expect(controls.textContent).toContain("(0, 4]");
    } finally {
      activations.unregister("scaledTanh");
    }
  });

  it("an edited input reports the value in the parameter's type", () => {
    const seen: [string, ParamValue][] = [];
    const leaky = activations.get("leakyRelu");
    const root = mount(leaky, (name, value) => seen.push([name, value]));
    const input = root.querySelector<HTMLInputElement>('[data-param="alpha"]')!;
    input.value = "0.25";
    input.dispatchEvent(new Event("change"));
    expect(seen).toEqual([["alpha", 0.25]]);
  });
});
