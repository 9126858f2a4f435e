import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type ActivationPlugin, activations, use } from "@neurite/core";
import { reluFamily } from "@neurite/activations-relu";
import { sigmoidFamily } from "@neurite/activations-sigmoid";
import { smoothFamily } from "@neurite/activations-smooth";
import { softmaxFamily } from "@neurite/activations-softmax";
import { type BackendAvailability, prepareBackends } from "./backends.js";
import { type CaseResult, type ConformanceReport, type RunOptions, runActivationFile } from "@neurite/testkit";
import { runMlpFile } from "./mlp/index.js";

export interface ConformanceOptions {
  /**
   * Backends to run on: registered names, or "cpu" / "wasm" (loaded when not registered); "all" (the
   * default) is every registered backend plus every first-party one that loads.
   */
  readonly backends?: readonly string[] | "all";
  /** Relative file paths resolve against this directory; default `process.cwd()`. */
  readonly cwd?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether a document holds MLP cases: `small_mlp`, or any object (itself included) with `variants` / `training_trajectories`. */
export function hasMlpSection(doc: Record<string, unknown>): boolean {
  const holds = (o: Record<string, unknown>): boolean => "variants" in o || "training_trajectories" in o;
  return "small_mlp" in doc || holds(doc) || Object.values(doc).some((v) => isObject(v) && holds(v));
}

/** Registers the four first-party families where their names are free (a plugin already registered under a name is the one checked). */
function registerFamilies(): void {
  const plugins: ActivationPlugin[] = [sigmoidFamily, reluFamily, softmaxFamily, smoothFamily].flatMap((f) => [...f.activations]);
  const free = plugins.filter((p) => !activations.has(p.name));
  if (free.length) use(...free);
}

function fileFailure(file: string, message: string): CaseResult {
  return { file, id: file, backend: "*", status: "fail", maxAbsErr: null, maxRelErr: null, message, op: "(file)" };
}

/** Reports every case of an MLP section as unsupported on backends that did not load. */
function mirrorUnavailable(results: readonly CaseResult[], file: string, skipped: Readonly<Record<string, string>>): CaseResult[] {
  const seen = new Map<string, CaseResult>();
  for (const r of results) if (!seen.has(r.id)) seen.set(r.id, r);
  const out: CaseResult[] = [];
  for (const [backend, why] of Object.entries(skipped)) {
    if (seen.size === 0) out.push({ file, id: `${file} (mlp)`, backend, status: "unsupported", maxAbsErr: null, maxRelErr: null, message: `backend not available: ${why}`, op: "(mlp)" });
    for (const r of seen.values()) out.push({ ...r, backend, status: "unsupported", maxAbsErr: null, maxRelErr: null, message: `backend not available: ${why}` });
  }
  return out;
}

async function runFile(file: string, path: string, availability: BackendAvailability): Promise<CaseResult[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    return [fileFailure(file, `cannot read ${path}: ${(e as Error).message}`)];
  }
  if (!isObject(doc)) return [fileFailure(file, "unknown format: the file is not a JSON object")];
  const options: RunOptions = { backends: availability.available, file };
  const results: CaseResult[] = [];
  const hasCases = Array.isArray(doc.cases);
  const hasMlp = hasMlpSection(doc);
  if (!hasCases && !hasMlp) {
    return [fileFailure(file, "unknown format: expected `cases` (activation cases) or `small_mlp` / `variants` / `training_trajectories` (MLP cases)")];
  }
  if (hasCases) {
    results.push(...(await runActivationFile(doc, { ...options, unavailable: availability.skipped })));
  }
  if (hasMlp) {
    const mlp = await runMlpFile(doc, options);
    results.push(...mlp, ...mirrorUnavailable(mlp, file, availability.skipped));
  }
  return results;
}

/**
 * Runs reference files (activations.json, mlp.json and any file in their schema) on the requested
 * backends and reports every case as pass, fail or unsupported on each backend. Registers the four
 * first-party activation families and loads the backends it needs.
 */
export async function runConformance(files: readonly string[], options: ConformanceOptions = {}): Promise<ConformanceReport> {
  registerFamilies();
  const availability = await prepareBackends(options.backends ?? "all");
  const cwd = options.cwd ?? process.cwd();
  const cases: CaseResult[] = [];
  for (const file of files) cases.push(...(await runFile(file, resolve(cwd, file), availability)));
  const summary = { pass: 0, fail: 0, unsupported: 0 };
  for (const c of cases) summary[c.status]++;
  return { cases, summary, backends: { used: availability.available, skipped: availability.skipped } };
}
