import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sigmoid64 } from "@neurite/core";

/** The reference files' encoding: NaN, ±Infinity and −0 as strings. */
export function enc(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return v;
}

export const G = [1, -0.5, 2, 0.25, -1.5, 0.75, -2, 1.25, 0.5, -1, 3];
export const gAt = (i: number): number => G[i % G.length]!;

type Case = Record<string, unknown>;

/** An elementwise case computed in float64 from f and f' (independent of the code under test). */
export function elementwiseCase(id: string, op: string, xs: number[], f: (x: number) => number, df: (x: number) => number, params: Record<string, unknown> = {}): Case {
  const g = xs.map((_, i) => gAt(i));
  return {
    id, op, kind: "elementwise", params, shape: [xs.length], x: xs.map(enc), g: g.map(enc),
    y64: xs.map((x) => enc(f(x))), grad64: xs.map((x, i) => enc(g[i]! * df(x))), dydx64: xs.map((x) => enc(df(x))),
  };
}

export const relu = (x: number): number => (x < 0 ? 0 : x);
export const drelu = (x: number): number => (x <= 0 ? 0 : 1); // torch: x <= 0 → 0, NaN passes g
export const sigmoid = sigmoid64;
export const dsigmoid = (x: number): number => sigmoid64(x) * (1 - sigmoid64(x));

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
