import { existsSync } from "node:fs";
import { type BackendPlugin, listBackends, setBackend, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { bentIdentity } from "./plugin/bent-identity.js";

/** The backends `--backend` accepts. */
export const BACKENDS = ["cpu", "wasm"] as const;
export type BackendName = (typeof BACKENDS)[number];

/** A problem the user can fix: printed as one line, without a stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

let registered = false;

/**
 * Registers everything the app uses, explicitly (nothing registers itself on import): the CPU backend, the
 * four activation families and the app's own activation.
 */
export function registerPlugins(): void {
  if (registered) return;
  use(cpuBackend, sigmoidFamily, reluFamily, softmaxFamily, smoothFamily, bentIdentity);
  registered = true;
}

// a variable specifier: the wasm backend is optional, so neither TypeScript nor the bundler should require it
const WASM_PACKAGE = "@neurite/backend-wasm";
/** Where the backend is built inside this repository (apps/example/dist → packages/backend-wasm/dist). */
const WASM_IN_REPO = new URL("../../../packages/backend-wasm/dist/index.js", import.meta.url);

type WasmModule = { wasmBackend?: BackendPlugin };

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND";
}

async function loadWasmBackend(): Promise<BackendPlugin> {
  let mod: WasmModule;
  try {
    try {
      mod = (await import(WASM_PACKAGE)) as WasmModule;
    } catch (e) {
      // not installed next to the app: when run from the repository, use the workspace's build
      if (!isNotFound(e) || !existsSync(WASM_IN_REPO)) throw e;
      mod = (await import(WASM_IN_REPO.href)) as WasmModule;
    }
  } catch (e) {
    const why = isNotFound(e) ? `${WASM_PACKAGE} is not installed or not built` : e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new CliError(`the wasm backend is not available (${why}). Install ${WASM_PACKAGE}, or run with --backend cpu.`);
  }
  if (!mod.wasmBackend) throw new CliError(`${WASM_PACKAGE} does not export wasmBackend; run with --backend cpu`);
  return mod.wasmBackend;
}

/** Registers the plugins and makes `backend` the active backend. */
export async function setup(backend: BackendName): Promise<void> {
  registerPlugins();
  if (backend === "wasm" && !listBackends().includes("wasm")) use(await loadWasmBackend());
  await setBackend(backend);
}
