import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ArgumentError, type Plugin, use } from "@neurite/core";

/** What {@link loadPlugins} registered. */
export interface LoadedPlugins {
  /** Per module path: the plugins it exported, as `kind name`. */
  readonly modules: readonly { readonly path: string; readonly plugins: readonly string[] }[];
}

const PLUGIN_KINDS = new Set(["backend", "activation", "activation-family", "layer", "layer-family"]);

function isPlugin(v: unknown): v is Plugin {
  return typeof v === "object" && v !== null && PLUGIN_KINDS.has(String((v as { kind?: unknown }).kind));
}

/** The plugins among a module's exports: named exports, and a default export that is a plugin or an object of them (CommonJS). */
function pluginsOf(namespace: Record<string, unknown>): Plugin[] {
  const found: Plugin[] = [];
  const add = (v: unknown): void => {
    if (isPlugin(v) && !found.includes(v)) found.push(v);
  };
  for (const [key, value] of Object.entries(namespace)) {
    add(value);
    if (key === "default" && typeof value === "object" && value !== null && !isPlugin(value)) Object.values(value).forEach(add);
  }
  // a module may export a family and its members too: register each member once, through its family
  const inFamilies = new Set<unknown>();
  for (const p of found) {
    if (p.kind === "activation-family") p.activations.forEach((a) => inFamilies.add(a));
    if (p.kind === "layer-family") p.layers.forEach((l) => inFamilies.add(l));
  }
  return found.filter((p) => !inFamilies.has(p));
}

/**
 * Imports each module (ESM or CommonJS, a path relative to `cwd`) and registers every plugin it exports —
 * activations, activation families, backends, layers — with `use`, so reference files can name their ops.
 * All or nothing: a module that cannot be loaded or exports no plugin throws an ArgumentError naming it,
 * and nothing of that module is registered.
 */
export async function loadPlugins(paths: readonly string[], cwd: string = process.cwd()): Promise<LoadedPlugins> {
  const modules: { path: string; plugins: string[] }[] = [];
  for (const given of paths) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) throw new ArgumentError(`--plugin ${given}: no such file (${path}); build your plugin package first and pass its built module, e.g. ./dist/index.js`);
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      throw new ArgumentError(`--plugin ${given}: the module could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
    }
    const plugins = pluginsOf(namespace);
    if (plugins.length === 0) {
      const names = Object.keys(namespace).join(", ") || "nothing";
      throw new ArgumentError(`--plugin ${given}: the module exports no Neurite plugin (it exports ${names}); export activations made with defineActivation, or a family made with defineFamily`);
    }
    use(...plugins);
    modules.push({ path, plugins: plugins.map((p) => `${p.kind} ${p.name}`) });
  }
  return { modules };
}
