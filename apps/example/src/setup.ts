import { setBackend, use } from "@neurite/core";
import { cpuBackend } from "@neurite/backend-cpu";
import { wasmBackend } from "@neurite/backend-wasm";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { convLayers } from "@neurite/layers-conv";
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
 * Registers everything the app uses, explicitly (nothing registers itself on import): both backends, the
 * four activation families, the app's own activation and the convolution layers (for `digits`).
 */
export function registerPlugins(): void {
  if (registered) return;
  use(cpuBackend, wasmBackend, sigmoidFamily, reluFamily, softmaxFamily, smoothFamily, bentIdentity, convLayers);
  registered = true;
}

/** Registers the plugins and makes `backend` the active backend. */
export async function setup(backend: BackendName): Promise<void> {
  registerPlugins();
  await setBackend(backend);
}
