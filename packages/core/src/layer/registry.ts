import { ArgumentError, RegistryError, fmtValue } from "../errors.js";
import { Registry } from "../registry/registry.js";
import type { LayerFamily, LayerPlugin } from "./contract.js";

function checkPlugin(p: LayerPlugin): void {
  if (p.kind !== "layer" || typeof p.configure !== "function" || typeof p.build !== "function") {
    throw new RegistryError(`"${p.name}" is not a layer plugin: it needs kind "layer", configure() and build(); build it with defineLayer`);
  }
}

/** The layer registry. Register with `use(...)`. */
export const layers = new Registry<LayerPlugin>("layer", {}, checkPlugin);

/** Identity for declaring a layer plugin with its config type inferred. */
export function defineLayer<C extends object>(plugin: Omit<LayerPlugin<C>, "kind">): LayerPlugin<C> {
  return { kind: "layer", ...plugin };
}

export function defineLayerFamily(family: Omit<LayerFamily, "kind">): LayerFamily {
  return { kind: "layer-family", ...family };
}

/** Reads config fields with validation; each error names the layer, the field, the value and the expectation. */
export class ConfigReader {
  constructor(
    private readonly layer: string,
    private readonly config: Readonly<Record<string, unknown>>,
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(config)) {
      if (k !== "type" && !allowed.includes(k)) {
        throw new ArgumentError(`layer ${layer}: unknown config field "${k}" (fields: ${allowed.join(", ")})`);
      }
    }
  }

  private fail(field: string, value: unknown, expected: string): never {
    throw new ArgumentError(`layer ${this.layer}: ${field} must be ${expected}, got ${fmtValue(value)}`);
  }

  raw(field: string): unknown {
    return this.config[field];
  }

  int(field: string, def?: number, min = 1): number {
    const v = this.config[field] ?? def;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) this.fail(field, v, `an integer >= ${min}`);
    return v;
  }

  number(field: string, def: number, check: (v: number) => boolean = Number.isFinite, expected = "a finite number"): number {
    const v = this.config[field] ?? def;
    if (typeof v !== "number" || !check(v)) this.fail(field, v, expected);
    return v;
  }

  bool(field: string, def: boolean): boolean {
    const v = this.config[field] ?? def;
    if (typeof v !== "boolean") this.fail(field, v, "true or false");
    return v;
  }

  shape(field: string): number[] | undefined {
    const v = this.config[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || (d as number) < 1)) this.fail(field, v, "an array of positive integers");
    return [...(v as number[])];
  }
}
