import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The app folder and the repository root. */
export const APP_DIR = fileURLToPath(new URL("..", import.meta.url));
export const REPO_DIR = fileURLToPath(new URL("../../..", import.meta.url));
/** The built CLI: the tests run what users run (turbo builds it before `test`). */
export const CLI = fileURLToPath(new URL("../dist/index.js", import.meta.url));

export interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, capturing its output (never throws on a non-zero exit). */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd ?? APP_DIR,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 170_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs the example CLI with `args`. */
export function cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Result> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the app first (npx tsup in apps/example, or pnpm test from the root)`);
  return run(process.execPath, [CLI, ...args], env ? { env } : {});
}

/** A line that looks like a JavaScript stack frame ("    at fn (file:1:2)"). */
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;
