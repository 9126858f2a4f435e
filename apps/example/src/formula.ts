/**
 * Activations typed on the command line: `train --activation "x*sigmoid(1.702*x)"` and `gallery --formula "…"`.
 * A value that is a registered name is that activation; one that parses as a formula (core's `parseFormula`
 * syntax, over `x`) becomes a string-formula activation, with fused kernels and the derived derivative like any
 * other; anything else is refused with both hints: the registered names it is close to, and the formula's caret.
 */
import { type ElementwiseActivation, FormulaError, activations, defineActivation, editDistance, parseFormula } from "@neurite/core";

/** The family of activations typed on the command line (the gallery draws them in a panel of their own). */
export const FORMULA_FAMILY = "formula";

/** An activation whose formula is `text`, named `name` (formulas are not registered unless the caller does). */
export function formulaActivation(text: string, name = "formula"): ElementwiseActivation {
  return defineActivation({
    name, family: FORMULA_FAMILY, package: "neurite-example (command line)", version: "0.1.0",
    description: text, params: {},
    // nothing is known of a typed-in formula: the widest range, and no claim of monotonicity or smoothness
    meta: { range: [-Infinity, Infinity], monotonic: false, smoothAtZero: false },
    formula: text,
  });
}

/** Why `value` is neither a registered activation nor a formula, with both hints; undefined when it is one of them. */
export function activationProblem(value: string): string | undefined {
  if (activations.has(value)) return undefined;
  let formulaError: FormulaError;
  try {
    parseFormula(value);
    return undefined;
  } catch (e) {
    if (!(e instanceof FormulaError)) throw e;
    formulaError = e;
  }
  const folded = value.toLowerCase();
  const near = activations.names().filter((n) => editDistance(n.toLowerCase(), folded) <= Math.max(1, Math.min(2, Math.floor(n.length / 3))));
  const hint = near.length ? ` Did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : "";
  return (
    `Unknown activation "${value}".${hint} Registered activations: ${activations.names().join(", ")}.\n` +
    `It is not a formula either (a formula over x, e.g. "x*sigmoid(1.702*x)"):\n${formulaError.message}`
  );
}

/** The activation `value` names: a registered name as is, otherwise the string-formula activation it parses to. */
export function activationFromArgument(value: string): string | ElementwiseActivation {
  return activations.has(value) ? value : formulaActivation(value);
}
