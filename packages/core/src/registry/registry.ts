import { ArgumentError, RegistryError, fmtValue } from "../errors.js";
import { closestName } from "../validation/suggest.js";

/** What every plugin carries, whatever its kind: how it is named and where it comes from. */
export interface PluginIdentity {
  readonly name: string;
  /** The npm package that provides it ("@acme/activations"), named in errors and saved models. */
  readonly package: string;
  readonly version: string;
}

/**
 * How a plugin's registered version differs from the version a model file recorded, by npm's caret rule:
 * the leftmost non-zero component of the recorded version is the breaking one ("major": 2.0.0 for 1.x,
 * 0.3.0 for 0.2.x, 0.0.4 for 0.0.3); one place to its right is a feature change ("minor": 1.1.0 for 1.0.x,
 * 0.2.5 for 0.2.3); further right is a fix ("patch"). So in 0.x a minor bump is breaking, as semver says.
 * Differing pre-release tags, and versions that are not semver, are "major" unless the strings are equal.
 * Build metadata (`+…`) is ignored.
 */
export type VersionChange = "same" | "patch" | "minor" | "major";

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Whether `version` is a semver version ("1.2.3", "1.0.0-beta.1"). */
export function isSemver(version: unknown): version is string {
  return typeof version === "string" && version.length <= 256 && SEMVER.test(version);
}

/** Compares a recorded version with a registered one; see {@link VersionChange}. */
export function versionChange(recorded: string, registered: string): VersionChange {
  const a = SEMVER.exec(recorded);
  const b = SEMVER.exec(registered);
  if (!a || !b) return recorded === registered ? "same" : "major";
  const [ra, rb] = [a.slice(1, 4).map(Number), b.slice(1, 4).map(Number)];
  const differs = [0, 1, 2].find((i) => ra[i] !== rb[i]);
  if (differs === undefined) return (a[4] ?? "") === (b[4] ?? "") ? "same" : "major";
  if ((a[4] ?? "") !== "" || (b[4] ?? "") !== "") return "major";
  const breaking = ra[0] !== 0 ? 0 : ra[1] !== 0 ? 1 : 2;
  return differs <= breaking ? "major" : differs === breaking + 1 ? "minor" : "patch";
}

export interface RegisterOptions {
  /** Replace plugins already registered under the same names instead of failing. */
  readonly replace?: boolean;
}

/**
 * A name → plugin table shared by the three plugin kinds (backends, activations, layers).
 * Registration is all-or-nothing: a batch with one bad plugin registers none of them.
 */
export class Registry<T extends PluginIdentity> {
  private readonly entries = new Map<string, T>();

  /**
   * @param kind what the registry holds, for messages ("activation").
   * @param knownPackages names that are not registered but that a known package provides, for the
   *   "install X" hint of an unknown-name error.
   */
  constructor(
    readonly kind: string,
    private readonly knownPackages: Readonly<Record<string, string>> = {},
    private readonly check: (plugin: T) => void = () => {},
  ) {}

  /** Registers plugins atomically. Throws on a duplicate name unless `replace` is set. */
  register(plugins: T | readonly T[], options: RegisterOptions = {}): void {
    const batch = Array.isArray(plugins) ? (plugins as readonly T[]) : [plugins as T];
    const seen = new Set<string>();
    for (const p of batch) {
      if (typeof p?.name !== "string" || p.name.length === 0) {
        throw new RegistryError(`cannot register ${this.kind}: it has no name (got ${JSON.stringify(p?.name)})`);
      }
      if (seen.has(p.name)) throw new RegistryError(`cannot register ${this.kind} "${p.name}" twice in one call`);
      seen.add(p.name);
      const existing = this.entries.get(p.name);
      if (existing && existing !== p && !options.replace) {
        throw new RegistryError(
          `${this.kind} "${p.name}" is already registered (from ${existing.package}); ` +
            `pass { replace: true } to replace it with the one from ${p.package}`,
        );
      }
      this.check(p);
    }
    for (const p of batch) this.entries.set(p.name, p);
  }

  /** Removes a plugin; returns whether it was registered. */
  unregister(name: string): boolean {
    return this.entries.delete(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * The plugin registered as `name`, or a {@link RegistryError} naming the closest registered name, listing
   * what is registered and what to install. Lookups are by Map, so "constructor" or "__proto__" are unknown
   * names like any other.
   */
  get(name: string): T {
    if (typeof name !== "string") throw new ArgumentError(`a ${this.kind} name must be a string such as ${fmtValue(this.names()[0] ?? "cpu")}, got ${fmtValue(name)}`);
    const p = this.entries.get(name);
    if (p) return p;
    throw new RegistryError(this.unknownMessage(name));
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  list(): T[] {
    return this.names().map((n) => this.entries.get(n)!);
  }

  /** @internal a copy of the table, to restore after a failed multi-step operation. */
  snapshot(): Map<string, T> {
    return new Map(this.entries);
  }

  /** @internal */
  restore(snapshot: Map<string, T>): void {
    this.entries.clear();
    for (const [k, v] of snapshot) this.entries.set(k, v);
  }

  /** The package that provides a first-party name that is not registered (own keys only: no "constructor"). */
  private providerOf(name: string): string | undefined {
    return Object.hasOwn(this.knownPackages, name) ? this.knownPackages[name] : undefined;
  }

  /**
   * The message for an unknown name: the closest registered (or installable) name, the registered names,
   * and the package to install or how to register one.
   */
  unknownMessage(name: string, pkg?: string): string {
    const registered = this.names();
    const provider = pkg ?? this.providerOf(name);
    const listed = registered.length ? `registered ${this.kind}s: ${registered.join(", ")}` : `no ${this.kind} is registered`;
    const hint = provider
      ? `; ${JSON.stringify(name)} is provided by ${provider}: install it and register it with use(...)`
      : `; register a plugin that provides it with use(...)`;
    const close = provider ? undefined : closestName(name, [...registered, ...Object.keys(this.knownPackages)]);
    const closeProvider = close !== undefined && !this.entries.has(close) ? this.providerOf(close) : undefined;
    const guess = close === undefined ? "" : `; did you mean ${JSON.stringify(close)}?${closeProvider ? ` (it is provided by ${closeProvider})` : ""}`;
    return `unknown ${this.kind} ${JSON.stringify(name)}${guess} (${listed})${hint}`;
  }
}
