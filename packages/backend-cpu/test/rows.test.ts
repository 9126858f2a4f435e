import { describe, expect, it } from "vitest";
import { randomArray, rng, setup } from "./helpers.js";

function softmaxRef(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function runRows(kernel: "softmax" | "logSoftmax", rows: number[][]): number[][] {
  const { be, up, read } = setup();
  const cols = rows[0]!.length;
  const out = be.alloc(rows.length * cols);
  be.kernels[kernel]!({ x: up(rows.flat()), out, rows: rows.length, cols });
  const flat = read(out);
  return rows.map((_, r) => flat.slice(r * cols, (r + 1) * cols));
}

function close(got: number[], want: number[], tol = 1e-6): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(g, `element ${i}`).toBe(w);
    else expect(Math.abs(g - w), `element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
}

describe("softmax / logSoftmax", () => {
  it("is stable for large logits", () => {
    const [p] = runRows("softmax", [[1000, 1001, 1002]]);
    close(p!, softmaxRef([0, 1, 2]));
    const [l] = runRows("logSoftmax", [[1000, 1001, 1002]]);
    close(l!, softmaxRef([0, 1, 2]).map(Math.log));
  });

  it("gives -Infinity entries zero probability", () => {
    const [p] = runRows("softmax", [[-Infinity, 0, 1]]);
    close(p!, [0, ...softmaxRef([0, 1])]);
    const [l] = runRows("logSoftmax", [[-Infinity, 0, 1]]);
    close(l!, [-Infinity, ...softmaxRef([0, 1]).map(Math.log)]);
  });

  it("gives a row of NaN for NaN, +Infinity or all -Infinity, and leaves other rows alone", () => {
    for (const kernel of ["softmax", "logSoftmax"] as const) {
      const out = runRows(kernel, [[1, NaN, 2], [0, Infinity, 1], [-Infinity, -Infinity, -Infinity], [0, 0, 0]]);
      for (let r = 0; r < 3; r++) expect(out[r]!.every(Number.isNaN), `${kernel} row ${r}`).toBe(true);
      close(out[3]!, kernel === "softmax" ? [1 / 3, 1 / 3, 1 / 3] : [-Math.log(3), -Math.log(3), -Math.log(3)]);
    }
  });

  it("matches a float64 reference on random rows", () => {
    const rand = rng(21);
    const rows = Array.from({ length: 5 }, () => Array.from(randomArray(37, rand), (v) => v * 20));
    const p = runRows("softmax", rows);
    const l = runRows("logSoftmax", rows);
    rows.forEach((row, r) => {
      close(p[r]!, softmaxRef(row));
      close(l[r]!, softmaxRef(row).map(Math.log), 1e-5);
    });
  });
});

describe("softmax backward kernels", () => {
  it("softmaxBackward: y ⊙ (g − Σ g⊙y)", () => {
    const { be, up, read } = setup();
    const rand = rng(22);
    const rows = 4, cols = 9;
    const y = randomArray(rows * cols, rand), g = randomArray(rows * cols, rand);
    const out = be.alloc(rows * cols);
    be.kernels.softmaxBackward!({ y: up(y), g: up(g), out, rows, cols });
    const got = read(out);
    for (let r = 0; r < rows; r++) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += g[r * cols + j]! * y[r * cols + j]!;
      close(got.slice(r * cols, (r + 1) * cols), Array.from({ length: cols }, (_, j) => y[r * cols + j]! * (g[r * cols + j]! - dot)));
    }
  });

  it("logSoftmaxBackward: g − exp(y) Σ g", () => {
    const { be, up, read } = setup();
    const rand = rng(23);
    const rows = 3, cols = 11;
    const y = randomArray(rows * cols, rand).map((v) => v - 2), g = randomArray(rows * cols, rand);
    const out = be.alloc(rows * cols);
    be.kernels.logSoftmaxBackward!({ y: up(y), g: up(g), out, rows, cols });
    const got = read(out);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += g[r * cols + j]!;
      close(got.slice(r * cols, (r + 1) * cols), Array.from({ length: cols }, (_, j) => g[r * cols + j]! - Math.exp(y[r * cols + j]!) * sum));
    }
  });
});
