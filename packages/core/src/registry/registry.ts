import { RegistryError } from "../errors.js";

/** What every plugin carries, whatever its kind: how it is named and where it comes from. */
export interface PluginIdentity {
  readonly name: string;
  /** The npm package that provides it ("@acme/activations"), named in errors and saved models. */
  readonly package: string;
  readonly version: string;
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

  /** The plugin registered as `name`, or a {@link RegistryError} listing what is registered and what to install. */
  get(name: string): T {
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

  unknownMessage(name: string, pkg?: string): string {
    const registered = this.names();
    const provider = pkg ?? this.knownPackages[name];
    const listed = registered.length ? `registered ${this.kind}s: ${registered.join(", ")}` : `no ${this.kind} is registered`;
    const hint = provider
      ? `; "${name}" is provided by ${provider}: install it and register it with use(...)`
      : `; register a plugin that provides it with use(...)`;
    return `unknown ${this.kind} "${name}" (${listed})${hint}`;
  }
}
