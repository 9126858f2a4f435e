/** `NEURITE_PROFILE=1`: a profile of each `fit`, printed on stderr when it ends. */
import { profile } from "./profile.js";

/** Read once, where a `process.env` exists (Node, Deno, Bun; never in a browser). */
const enabled = ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NEURITE_PROFILE ?? "") === "1";

/** Whether `NEURITE_PROFILE=1` was set when the core was loaded. */
export const profileFromEnv = (): boolean => enabled;

/**
 * @internal runs `fn`; under `NEURITE_PROFILE=1`, profiled, and prints the report on stderr (`console.error`) as
 * `NEURITE_PROFILE <what>` and the table, once, when it ends.
 */
export function profiledIfEnabled<T>(what: string, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return profile(fn).then((report) => {
    console.error(`NEURITE_PROFILE ${what}\n${report.format()}\n`);
    return report.result;
  });
}
