import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { Random, SerializationError } from "@neurite/core";

/** scikit-learn's 8×8 digits: pixels scaled to [0, 1], NHWC rows of 64, and the labels 0–9. */
export interface Digits {
  /** `count × 64` pixel values in [0, 1], row-major 8×8 per image. */
  readonly pixels: Float32Array;
  readonly labels: readonly number[];
  readonly count: number;
}

// the file sits beside this module in src/; the built app runs from dist/, so look in both places
const CANDIDATES = ["./digits.csv.gz", "../src/datasets/digits.csv.gz"];

function digitsPath(): string {
  for (const c of CANDIDATES) {
    const path = fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new SerializationError(`digits.csv.gz not found beside ${fileURLToPath(import.meta.url)}; it ships in apps/example/src/datasets/ (reinstall or rebuild the app).`);
}

/** Loads the 1,797 images (see DIGITS-LICENSE.md for the source and license). */
export function digits(): Digits {
  const text = gunzipSync(readFileSync(digitsPath())).toString("utf8");
  const rows = text.trim().split("\n");
  const pixels = new Float32Array(rows.length * 64);
  const labels: number[] = [];
  rows.forEach((line, i) => {
    const values = line.split(",").map(Number);
    const label = values[64];
    if (values.length !== 65 || label === undefined || !Number.isInteger(label) || label < 0 || label > 9) {
      throw new SerializationError(`digits.csv.gz row ${i + 1} is not 64 pixels and a label 0–9: ${JSON.stringify(line.slice(0, 80))}`);
    }
    for (let j = 0; j < 64; j++) pixels[i * 64 + j] = values[j]! / 16;
    labels.push(label);
  });
  return { pixels, labels, count: rows.length };
}

/** A seeded shuffle split into `1 − testFraction` for training and `testFraction` held out (row indices). */
export function digitsSplit(count: number, seed: number, testFraction = 0.2): { train: number[]; test: number[] } {
  const order = new Random(seed).permutation(count);
  const cut = Math.round(count * (1 - testFraction));
  return { train: order.slice(0, cut), test: order.slice(cut) };
}

/** The images at `rows`, as one `[rows, 64]` buffer, and their labels. */
export function digitsRows(d: Digits, rows: readonly number[]): { pixels: Float32Array; labels: number[] } {
  const pixels = new Float32Array(rows.length * 64);
  rows.forEach((r, i) => pixels.set(d.pixels.subarray(r * 64, r * 64 + 64), i * 64));
  return { pixels, labels: rows.map((r) => d.labels[r]!) };
}
