import { type ActivationFamily, type Expr, defineActivation, defineFamily, parseFormula } from "@neurite/core";

// the package identity saved models record: from package.json at build time (the bundler keeps just these two strings)
import { name as PACKAGE, version as VERSION } from "../package.json";

/**
 * The activation an imported ONNX file's elementwise subgraph becomes when no registered activation matches it:
 * its formula is a parameter, in {@link parseFormula}'s syntax, so a saved model records it and loads again once
 * `use(onnxActivations)` has registered this plugin. It gets fused kernels and the derived derivative like any other.
 */
export const onnxFormula = defineActivation<{ formula: string }>({
  name: "onnxFormula",
  description: "an elementwise subgraph of an imported ONNX file, as a formula over x",
  params: { formula: { default: "x", description: "the formula, in parseFormula's syntax" } },
  meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: false },
  formula: (_x, p) => parseFormula(p.formula),
});

declare module "@neurite/core" {
  interface ActivationRegistry {
    onnxFormula: { formula: string };
  }
}

/** Registers {@link onnxFormula}, so that saved models holding imported subgraphs load: `use(onnxActivations)`. */
export const onnxActivations: ActivationFamily = defineFamily({ name: "onnx", package: PACKAGE, version: VERSION, activations: [onnxFormula] });

/** Writes an expression in {@link parseFormula}'s syntax (function-call form), so that parsing it gives the same values. */
export function formulaText(expr: Expr): string {
  const n = expr.node;
  switch (n.kind) {
    case "input":
      if (n.index !== 0) throw new Error(`internal error: formulaText reached input(${n.index})`);
      return "x";
    case "const": {
      const v = n.value;
      if (Number.isNaN(v)) return "div(0, 0)";
      if (v === Infinity) return "div(1, 0)";
      if (v === -Infinity) return "div(-1, 0)";
      if (Object.is(v, -0)) return "neg(0)";
      return v < 0 ? `neg(${String(-v)})` : String(v);
    }
    case "unary": return `${n.op}(${formulaText(n.a)})`;
    case "binary": return `${n.op}(${formulaText(n.a)}, ${formulaText(n.b)})`;
    case "where": return `where(${formulaText(n.cond)}, ${formulaText(n.a)}, ${formulaText(n.b)})`;
    default: throw new Error(`internal error: formulaText reached a ${n.kind} node`);
  }
}
