/**
 * One core per process. An app can load @neurite/core more than once: `import` gives the ESM build and a
 * CommonJS dependency's `require` the CJS build, or a package manager installs two copies. Each copy is a
 * separate module with its own module-level variables, so a backend registered through one copy would be
 * unknown to the other. Every piece of process-wide state (registries, the active backend, the live-tensor
 * accounting, the scope stack, the brand sets that tell core-built values from forged data) therefore lives on
 * `globalThis` under a `Symbol.for("@neurite/core/…")` key, created once by whichever copy loads first and used
 * by all of them.
 *
 * Copies share only if they are compatible: the same state layout and versions that npm's caret rule accepts
 * as one another (same major; same minor in 0.x). An incompatible copy throws at load, naming both.
 */

declare const __NEURITE_CORE_VERSION__: string | undefined;

/** The version of this copy of the core (injected by the build; "0.0.0-source" when run from source). */
export const CORE_VERSION: string = typeof __NEURITE_CORE_VERSION__ === "string" ? __NEURITE_CORE_VERSION__ : "0.0.0-source";

/**
 * The shape of the shared state. Bump it whenever a shared object's fields or methods change, so that copies
 * which would misread each other's state refuse to share it instead of failing later.
 */
export const SHARED_STATE_LAYOUT = 2;

/** One loaded copy of the core, as recorded on `globalThis`. */
export interface CoreCopy {
  readonly version: string;
  /** Where it was loaded from (a file URL or path), for messages. */
  readonly location: string;
  readonly layout: number;
}

function thisLocation(): string {
  // ESM: import.meta.url; CJS (where the bundler leaves import.meta empty): __filename
  const url = (import.meta as { url?: string }).url;
  if (typeof url === "string") return url;
  try {
    return typeof __filename === "string" ? __filename : "an unknown location";
  } catch {
    return "an unknown location";
  }
}

function globalKey(name: string): symbol {
  return Symbol.for(`@neurite/core/${name}`);
}

/**
 * The process-wide value stored under `Symbol.for("@neurite/core/<name>")`, created by `create` the first time
 * any copy of the core asks for it. The property is neither enumerable nor writable, so no code replaces it by
 * accident.
 */
export function sharedState<T>(name: string, create: () => T): T {
  const key = globalKey(name);
  const holder = globalThis as Record<symbol, unknown>;
  if (Object.hasOwn(holder, key)) return holder[key] as T;
  const value = create();
  Object.defineProperty(holder, key, { value, writable: false, enumerable: false, configurable: false });
  return value;
}

// the rule of registry.ts's versionChange, restated: this module is evaluated before every other (errors.ts
// depends on it), so it cannot import one that depends on errors.ts
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Whether two copies of the core can share one state: npm's caret rule both ways (same major, or same minor
 * in 0.x, or the same patch in 0.0.x), equal pre-release tags, and the same state layout.
 */
export function compatibleCopies(a: CoreCopy, b: CoreCopy): boolean {
  if (a.layout !== b.layout) return false;
  if (a.version === b.version) return true;
  const [x, y] = [SEMVER.exec(a.version), SEMVER.exec(b.version)];
  if (!x || !y) return false;
  if ((x[4] ?? "") !== (y[4] ?? "")) return false;
  const [vx, vy] = [x.slice(1, 4).map(Number), y.slice(1, 4).map(Number)];
  const breaking = vx[0] !== 0 ? 0 : vx[1] !== 0 ? 1 : 2;
  for (let i = 0; i <= breaking; i++) if (vx[i] !== vy[i]) return false;
  return true;
}

/** The copies of the core loaded in this process, first one first. */
export function loadedCoreCopies(): readonly CoreCopy[] {
  return [...copies];
}

const copies = sharedState<CoreCopy[]>("copies", () => []);

// an Error (not a NeuriteError: errors.ts depends on this module, and the error classes are shared state too)
function registerThisCopy(): void {
  const self: CoreCopy = Object.freeze({ version: CORE_VERSION, location: thisLocation(), layout: SHARED_STATE_LAYOUT });
  const clash = copies.find((c) => !compatibleCopies(c, self));
  if (clash) {
    throw new Error(
      `two incompatible copies of @neurite/core are loaded in one process: ${clash.version} from ${clash.location} ` +
        `and ${self.version} from ${self.location} (shared state layout ${clash.layout} and ${self.layout}). ` +
        "Plugins registered through one would be unknown to the other. Make every package use one version of " +
        "@neurite/core (check with `npm ls @neurite/core`, align the dependency ranges, then dedupe)",
    );
  }
  copies.push(self);
}
registerThisCopy();

// ---- brands: instanceof and "built by the core" checks that hold across copies ----

const brandSets = sharedState("brands", () => new Map<string, WeakSet<object>>());

function brandSet(brand: string): WeakSet<object> {
  let set = brandSets.get(brand);
  if (!set) brandSets.set(brand, (set = new WeakSet()));
  return set;
}

/**
 * A process-wide set of objects that the core made (checked declarations, bound activations, expressions):
 * every copy of the core adds to and reads the same set, and an object built from plain data is in none.
 */
export function sharedBrand(brand: string): WeakSet<object> {
  return brandSet(brand);
}

const BRAND = Symbol("neurite brand");
interface Branded {
  [BRAND]?: string;
}

/**
 * Makes `instanceof cls` true for instances built by the same class of another copy of the core: the class is
 * given a process-wide brand, its constructor calls {@link brandInstance}, and `Symbol.hasInstance` accepts an
 * object that is either a native instance or carries the brand. A subclass without a brand of its own (a
 * user's `class MyError extends NeuriteError`) keeps the native check.
 */
export function brandClass(cls: abstract new (...args: never[]) => object, brand: string): void {
  Object.defineProperty(cls, BRAND, { value: brand });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (typeof this !== "function") return false;
      if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
      if (typeof value !== "object" || value === null || !Object.hasOwn(this, BRAND)) return false;
      return brandSet((this as Branded)[BRAND]!).has(value);
    },
  });
}

/** Records `instance` under the brand of every branded class from `newTarget` up its chain. */
export function brandInstance(instance: object, newTarget: unknown): void {
  for (let c = newTarget; typeof c === "function"; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, BRAND)) brandSet((c as Branded)[BRAND]!).add(instance);
  }
}
