/**
 * The MLP section of the reference files (mlp.json and files in its schema): fixed small networks with
 * every layer's z and a, the loss, dL/dz, dL/da, every parameter's gradient, parameters and optimizer state
 * after full-batch optimizer steps, and full-batch SGD training trajectories. Every case read is reported
 * as pass, fail or unsupported; a field this runner does not understand becomes an unsupported case that
 * names its path in the file.
 *
 * Layout: schema.ts (the file's structure, tensors), losses.ts, network.ts (building and running the
 * network), training.ts (optimizers, steps), checks.ts (tolerances, comparisons), plan.ts (the cases).
 */
import { backendInstance, memory, setBackend } from "@neurite/core";
import type { CaseResult, RunOptions } from "@neurite/testkit";
import type { Outcome } from "./checks.js";
import { planFile } from "./plan.js";
import { Unsupported } from "./schema.js";

export { MLP_TOLERANCES } from "./checks.js";

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs every case of an MLP reference file (mlp.json's schema) on each of `options.backends`, which must be
 * registered. Networks are built with core's public API (`sequential`, dense layers, the registered
 * activations), gradients come from autograd, optimizer steps from core's optimizers. The previously
 * active backend is active again afterwards.
 *
 * Case ids: `VARIANT/forward/LAYER`, `VARIANT/loss`, `VARIANT/dL_dz/LAYER`, `VARIANT/dL_da/LAYER`,
 * `VARIANT/grads/PARAM`, `VARIANT/optimizers/KIND/step N`, `VARIANT/optimizers/KIND/loss after step N`,
 * `TRAJECTORY/checkpoint K`; networks other than `small_mlp` prefix theirs with `NETWORK/`. An unknown field
 * is reported under its path.
 *
 * @returns one result per case and backend: pass, fail (with the first mismatch) or unsupported (with the
 *   reason: an activation that is not registered, an unknown loss, optimizer, section or field).
 */
export async function runMlpFile(json: unknown, options: RunOptions): Promise<CaseResult[]> {
  const previous = memory().backend?.name;
  const results: CaseResult[] = [];
  try {
    for (const backend of options.backends) {
      const cases = planFile(json);
      let setupError: string | undefined;
      try {
        await backendInstance(backend);
        await setBackend(backend);
      } catch (e) {
        setupError = `backend ${backend} could not be started: ${describe(e)}`;
      }
      for (const c of cases) {
        let outcome: Outcome;
        if (setupError) {
          outcome = { status: "fail", maxAbsErr: null, maxRelErr: null, message: setupError };
        } else {
          try {
            outcome = c.run();
          } catch (e) {
            outcome = e instanceof Unsupported
              ? { status: "unsupported", maxAbsErr: null, maxRelErr: null, message: e.message }
              : { status: "fail", maxAbsErr: null, maxRelErr: null, message: describe(e) };
          }
        }
        results.push({ file: options.file, id: c.id, backend, op: c.op, ...outcome });
      }
    }
  } finally {
    if (previous !== undefined) await setBackend(previous);
  }
  return results;
}
