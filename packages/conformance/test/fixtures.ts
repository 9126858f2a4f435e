import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// float64 references written independently of core (the code under test), checked against published values there
import { sigmoidRef } from "@neurite/test-support";

/** The reference files' encoding: NaN, ±Infinity and −0 as strings. */
export function enc(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

/** The upstream gradients dL/dy the cases give, repeated along x: mixed signs and sizes, so a dropped or misplaced factor shows. */
const UPSTREAM_GRADIENTS = [1, -0.5, 2, 0.25, -1.5, 0.75, -2, 1.25, 0.5, -1, 3];
/** The upstream gradient at element `i`. */
export const upstreamGradient = (i: number): number => UPSTREAM_GRADIENTS[i % UPSTREAM_GRADIENTS.length]!;

type Case = Record<string, unknown>;

/** An elementwise case computed in float64 from f and f' (independent of the code under test). */
export function elementwiseCase(id: string, op: string, xs: number[], f: (x: number) => number, df: (x: number) => number, params: Record<string, unknown> = {}): Case {
  const g = xs.map((_, i) => upstreamGradient(i));
  return {
    id, op, kind: "elementwise", params, shape: [xs.length], x: xs.map(enc), g: g.map(enc),
    y64: xs.map((x) => enc(f(x))), grad64: xs.map((x, i) => enc(g[i]! * df(x))), dydx64: xs.map((x) => enc(df(x))),
  };
}

export const relu = (x: number): number => (x < 0 ? 0 : x);
export const drelu = (x: number): number => (x <= 0 ? 0 : 1); // torch: x <= 0 → 0, NaN passes g

/** s(x)·(1 − s(x)), written as s(x)·s(−x) so that 1 − s does not cancel for large x. */
export const dsigmoid = (x: number): number => sigmoidRef(x) * sigmoidRef(-x);

/** Writes JSON files into a fresh temporary directory; returns their paths. */
export function writeFiles(files: Record<string, unknown>): { dir: string; paths: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), "neurite-conformance-"));
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], typeof content === "string" ? content : JSON.stringify(content));
  }
  return { dir, paths };
}
