/**
 * The backends the suite runs against: always "cpu", and "wasm" when `@neurite/backend-wasm` can be
 * imported. Every backend test is written once and parametrised by backend name with {@link forEachBackend}.
 *
 * An optional backend that this package declares as a dependency must load: a failed import is then an
 * error, not a skipped variant. `NEURITE_REQUIRE_BACKENDS=cpu,wasm` requires backends explicitly.
 */
import { readFileSync } from "node:fs";
import { cpuBackend } from "@neurite/backend-cpu";
import { type BackendPlugin, setBackend, use } from "@neurite/core";
import { beforeAll, describe } from "vitest";

/** A backend the suite can run against. */
export interface BackendEntry {
  readonly name: string;
  readonly plugin: BackendPlugin;
}

/** Which backends loaded, and why the others did not. */
export interface BackendAvailability {
  readonly available: readonly BackendEntry[];
  readonly missing: readonly { readonly name: string; readonly package: string; readonly reason: string }[];
}

/** Optional backends, loaded by dynamic import so that the suite runs before they exist. */
const OPTIONAL = [{ name: "wasm", package: "@neurite/backend-wasm" }] as const;

function isBackendPlugin(v: unknown): v is BackendPlugin {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Partial<BackendPlugin>;
  return p.kind === "backend" && typeof p.name === "string" && typeof p.create === "function";
}

async function loadOptional(name: string, pkg: string): Promise<BackendPlugin | string> {
  try {
    // a variable specifier keeps TypeScript and Vite from resolving a package that may not be installed
    const specifier: string = pkg;
    const mod = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    const plugin = Object.values(mod).find((v): v is BackendPlugin => isBackendPlugin(v) && v.name === name);
    return plugin ?? `${pkg} exports no backend plugin named "${name}" (exports: ${Object.keys(mod).join(", ")})`;
  } catch (e) {
    return `${pkg} could not be imported: ${(e as Error).message.split("\n")[0]}`;
  }
}

/** The packages this test package depends on (a declared backend is required, not optional). */
function declaredDependencies(): Set<string> {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  return new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
}

async function loadBackends(): Promise<BackendAvailability> {
  const available: BackendEntry[] = [{ name: "cpu", plugin: cpuBackend }];
  const missing: { name: string; package: string; reason: string }[] = [];
  for (const { name, package: pkg } of OPTIONAL) {
    const r = await loadOptional(name, pkg);
    if (typeof r === "string") missing.push({ name, package: pkg, reason: r });
    else available.push({ name, plugin: r });
  }
  const fromEnv = (process.env.NEURITE_REQUIRE_BACKENDS ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const name of fromEnv) {
    const m = missing.find((x) => x.name === name);
    if (m) throw new Error(`NEURITE_REQUIRE_BACKENDS lists "${name}" but it is not available: ${m.reason}`);
    if (!available.some((x) => x.name === name)) throw new Error(`NEURITE_REQUIRE_BACKENDS lists unknown backend "${name}"`);
  }
  const declared = declaredDependencies();
  for (const m of missing) {
    if (declared.has(m.package)) throw new Error(`${m.package} is a dependency of @neurite/test-suite, so the ${m.name} backend must load: ${m.reason}`);
  }
  return { available, missing };
}

/** Backend availability, loaded once per test file (top-level await). */
export const AVAILABILITY: BackendAvailability = await loadBackends();

/** Names of the backends every backend test runs against, "cpu" first. */
export const BACKENDS: readonly string[] = AVAILABILITY.available.map((b) => b.name);

/** One line saying which backends run and which were left out (and why). */
export function availabilityLine(): string {
  const missing = AVAILABILITY.missing.map((m) => `${m.name} NOT RUN (${m.reason})`);
  return `[neurite backend suite] running on: ${BACKENDS.join(", ")}${missing.length ? `; ${missing.join("; ")}` : ""}`;
}

let registered = false;

/** Registers every available backend plugin (once per file). */
export function registerBackends(): void {
  if (registered) return;
  use(...AVAILABILITY.available.map((b) => b.plugin));
  registered = true;
}

/**
 * `describe.each` over every available backend: the body's tests run with that backend active.
 * The backend name appears in every test's title, so the report shows which backends ran.
 */
export function forEachBackend(title: string, body: (backend: string) => void): void {
  registerBackends();
  describe.each(BACKENDS)(`%s backend: ${title}`, (name) => {
    beforeAll(async () => {
      await setBackend(name);
    });
    body(name);
  });
}
