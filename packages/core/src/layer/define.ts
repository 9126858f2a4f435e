/** The tools for writing a layer plugin: `defineLayer`, `defineLayerFamily` and the validating `ConfigReader`. */
import { ArgumentError, NeuriteError } from "../errors.js";
import { describeValue, integer } from "../validation/options.js";
import { didYouMean } from "../validation/suggest.js";
import { fillMemberIdentity } from "../registry/member-identity.js";
import type { LayerFamily, LayerPlugin } from "./contract.js";

/**
 * Identity for declaring a layer plugin with its config type inferred. A family's member states only what is
 * its own: {@link defineLayerFamily} fills `package` and `version`; a standalone layer states them.
 */
export function defineLayer<C extends object>(
  plugin: Omit<LayerPlugin<C>, "kind" | "package" | "version"> & Partial<Pick<LayerPlugin<C>, "package" | "version">>,
): LayerPlugin<C> {
  return { kind: "layer", ...plugin } as LayerPlugin<C>;
}

/**
 * Groups layers into a family that registers with one `use(family)`. A member that leaves out `package` or
 * `version` gets the family's, written into the member (as `defineFamily` does for activations); a member
 * that states other ones is refused, naming both.
 */
export function defineLayerFamily(family: Omit<LayerFamily, "kind">): LayerFamily {
  fillMemberIdentity("layer", family, family.layers, ["package", "version"]);
  return { kind: "layer-family", ...family };
}

/**
 * Reads config fields with validation; each error names the layer, the field, the value and the expectation.
 * Only the config's own fields count, and an unknown field names the closest known one.
 */
export class ConfigReader {
  private readonly config: Readonly<Record<string, unknown>>;

  constructor(
    private readonly layer: string,
    config: Readonly<Record<string, unknown>>,
    allowed: readonly string[],
  ) {
    if (config === null || typeof config !== "object" || Array.isArray(config)) {
      throw new ArgumentError(`layer ${layer}: config must be an object of fields (fields: ${allowed.join(", ")}), got ${describeValue(config)}`);
    }
    // a copy of the own fields, read once: later reads see no getter and no prototype
    const own: Record<string, unknown> = {};
    try {
      for (const k of Object.keys(config)) {
        if (k !== "type" && !allowed.includes(k)) {
          throw new ArgumentError(`layer ${layer}: unknown config field ${describeValue(k)}${didYouMean(k, allowed)} (fields: ${allowed.join(", ")})`);
        }
        own[k] = config[k];
      }
    } catch (e) {
      if (e instanceof NeuriteError) throw e;
      throw new ArgumentError(`layer ${layer}: the config could not be read (${e instanceof Error ? e.message : typeof e}); pass a plain object of values`);
    }
    this.config = own;
  }

  private fail(field: string, value: unknown, expected: string): never {
    throw new ArgumentError(`layer ${this.layer}: ${field} must be ${expected}, got ${describeValue(value)}`);
  }

  raw(field: string): unknown {
    return Object.hasOwn(this.config, field) ? this.config[field] : undefined;
  }

  /** A safe integer >= min (counts and sizes: huge values are refused, not rounded). */
  int(field: string, def?: number, min = 1): number {
    const v = this.raw(field) ?? def;
    const f = integer(min);
    if (!f.accepts(v)) this.fail(field, v, f.expected);
    return v;
  }

  number(field: string, def: number, check: (v: number) => boolean = Number.isFinite, expected = "a finite number"): number {
    const v = this.raw(field) ?? def;
    if (typeof v !== "number" || !check(v)) this.fail(field, v, expected);
    return v;
  }

  bool(field: string, def: boolean): boolean {
    const v = this.raw(field) ?? def;
    if (typeof v !== "boolean") this.fail(field, v, "true or false");
    return v;
  }

  shape(field: string): number[] | undefined {
    const v = this.raw(field);
    if (v === undefined) return undefined;
    const dim = integer(1);
    if (!Array.isArray(v) || v.length > 64 || !v.every((d) => dim.accepts(d))) this.fail(field, v, "an array of positive integers");
    return [...v];
  }
}
