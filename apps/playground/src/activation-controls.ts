/**
 * Parameter controls built from an activation's declaration alone (default, min, max, exclusiveMin/Max, integer,
 * choices, trainable): any registered activation, from any family, gets its inputs with no change to the app.
 */
import { type ActivationPlugin, type ParamSpec, type ParamValue, activations } from "@neurite/core";
import { html, type TemplateResult } from "lit-html";

/** How one parameter is edited. */
export type ParamControl =
  | { readonly kind: "number"; readonly name: string; readonly min?: number; readonly max?: number; readonly step: string; readonly spec: ParamSpec }
  | { readonly kind: "choice"; readonly name: string; readonly choices: readonly ParamValue[]; readonly spec: ParamSpec }
  | { readonly kind: "boolean"; readonly name: string; readonly spec: ParamSpec }
  | { readonly kind: "text"; readonly name: string; readonly spec: ParamSpec };

/** The controls of an activation's parameters, in declaration order. */
export function paramControls(plugin: ActivationPlugin): ParamControl[] {
  return Object.entries(plugin.params as Record<string, ParamSpec>).map(([name, spec]): ParamControl => {
    if (spec.choices?.length) return { kind: "choice", name, choices: spec.choices, spec };
    if (typeof spec.default === "boolean") return { kind: "boolean", name, spec };
    if (typeof spec.default === "number") {
      return {
        kind: "number",
        name,
        ...(Number.isFinite(spec.min) ? { min: spec.min } : {}),
        ...(Number.isFinite(spec.max) ? { max: spec.max } : {}),
        step: spec.integer ? "1" : "any",
        spec,
      };
    }
    return { kind: "text", name, spec };
  });
}

/** The range of a numeric parameter in interval notation, e.g. "(0, ∞)". */
export function rangeText(spec: ParamSpec): string {
  const lo = spec.min ?? -Infinity;
  const hi = spec.max ?? Infinity;
  const fmt = (v: number) => (v === Infinity ? "∞" : v === -Infinity ? "−∞" : String(v));
  return `${spec.exclusiveMin || lo === -Infinity ? "(" : "["}${fmt(lo)}, ${fmt(hi)}${spec.exclusiveMax || hi === Infinity ? ")" : "]"}`;
}

/** Reads a control's text back into the parameter's type (choices keep the type of their values). */
export function parseControlValue(control: ParamControl, raw: string, checked: boolean): ParamValue {
  switch (control.kind) {
    case "boolean":
      return checked;
    case "choice":
      return control.choices.find((c) => String(c) === raw) ?? raw;
    case "number":
      return raw.trim() === "" ? NaN : Number(raw);
    case "text":
      return raw;
  }
}

export interface ControlsProps {
  /** Prefix of the inputs' ids (unique per layer). */
  readonly id: string;
  readonly plugin: ActivationPlugin;
  /** Current values (defaults where absent). */
  readonly values: Readonly<Record<string, ParamValue>>;
  /** An error per parameter, shown next to its input. */
  readonly errors: Readonly<Record<string, string>>;
  readonly onChange: (name: string, value: ParamValue) => void;
}

/** The parameter inputs, each labelled, with its range or choices and any error beside it. */
export function renderParamControls(p: ControlsProps): TemplateResult {
  const controls = paramControls(p.plugin);
  if (controls.length === 0) return html`<p class="muted params-none">no parameters</p>`;
  return html`<div class="params">
    ${controls.map((c) => {
      const id = `${p.id}-${c.name}`;
      const value = p.values[c.name] ?? c.spec.default;
      const error = p.errors[c.name];
      const hint = c.kind === "number" ? rangeText(c.spec) + (c.spec.integer ? ", integer" : "") : "";
      const onInput = (e: Event) => {
        const el = e.target as HTMLInputElement | HTMLSelectElement;
        p.onChange(c.name, parseControlValue(c, el.value, el instanceof HTMLInputElement && el.checked));
      };
      let input: TemplateResult;
      switch (c.kind) {
        case "choice":
          input = html`<select id=${id} data-param=${c.name} @change=${onInput}>
            ${c.choices.map((v) => html`<option value=${String(v)} .selected=${v === value}>${String(v)}</option>`)}
          </select>`;
          break;
        case "boolean":
          input = html`<input id=${id} data-param=${c.name} type="checkbox" .checked=${value === true} @change=${onInput} />`;
          break;
        case "number":
          input = html`<input id=${id} data-param=${c.name} type="number" step=${c.step} min=${c.min ?? ""} max=${c.max ?? ""}
            .value=${String(value)} aria-invalid=${error ? "true" : "false"} aria-describedby=${`${id}-hint`} @change=${onInput} />`;
          break;
        case "text":
          input = html`<input id=${id} data-param=${c.name} type="text" .value=${String(value)} @change=${onInput} />`;
          break;
      }
      return html`<div class="param">
        <label for=${id} title=${c.spec.description ?? ""}>${c.name}${c.spec.trainable ? html` <span class="tag">trainable, initial</span>` : ""}</label>
        ${input}
        <span class="hint" id=${`${id}-hint`}>${hint}</span>
        ${error ? html`<span class="error" role="alert">${error}</span>` : ""}
      </div>`;
    })}
  </div>`;
}

/** The registered activations grouped by family, families and names sorted: whatever `use(...)` registered. */
export function familyGroups(): [string, ActivationPlugin[]][] {
  const groups = new Map<string, ActivationPlugin[]>();
  for (const p of activations.list()) groups.set(p.family, [...(groups.get(p.family) ?? []), p]);
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** The activation chooser of a layer: every registered activation by family, then the typed formula. */
export function renderActivationSelect(id: string, selected: string, formulaValue: string, onChange: (name: string) => void): TemplateResult {
  return html`<select id=${id} class="activation" @change=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
    ${familyGroups().map(([family, plugins]) => html`<optgroup label=${family}>
      ${plugins.map((p) => html`<option value=${p.name} .selected=${p.name === selected} title=${p.description}>${p.name}</option>`)}
    </optgroup>`)}
    <optgroup label="custom"><option value=${formulaValue} .selected=${selected === formulaValue}>formula…</option></optgroup>
  </select>`;
}
