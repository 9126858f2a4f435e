/** f and f′ of a layer's activation over [−6, 6], and the checks a typed formula goes through before it is used. */
import { FormulaError, activations, scalarActivation } from "@neurite/core";
import type { ActivationCurve } from "./charts.js";
import { FORMULA, LIMITS, type LayerConfig } from "./config.js";
import { formulaActivation } from "./trainer.js";

/** Sample points of the f / f′ plot: [−6, 6] in steps of 0.05. */
export const CURVE_XS: readonly number[] = Array.from({ length: 241 }, (_, i) => -6 + i * 0.05);

/**
 * f and f′ from the declaration's float64 evaluation (the core's `scalarActivation`, with the derived derivative),
 * or a sentence saying why there is no scalar curve (softmax acts on a whole layer).
 */
export function activationCurve(layer: LayerConfig): ActivationCurve | string {
  const spec = layer.activation === FORMULA ? formulaActivation(layer.formula) : { name: layer.activation, ...layer.params };
  if (layer.activation !== FORMULA && activations.get(layer.activation).type === "axis") {
    return `${layer.activation} acts on the layer's units together, so it has no f(x) of one input to plot`;
  }
  const s = scalarActivation(spec);
  return { xs: CURVE_XS, f: CURVE_XS.map((x) => s.f(x)), df: CURVE_XS.map((x) => s.df(x)) };
}

/**
 * Why a typed formula cannot be used (a `FormulaError` with its position, or another error from building it), or
 * undefined when it can.
 */
export function checkFormula(text: string): FormulaError | Error | undefined {
  if (text.length > LIMITS.formulaLength) return new Error(`the formula is ${text.length} characters long; at most ${LIMITS.formulaLength} are allowed`);
  try {
    const s = scalarActivation(formulaActivation(text));
    s.f(0);
    s.df(0);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** The message to show beside the input: FormulaError's own text carries the caret under the position. */
export function formulaMessage(e: Error): string {
  return e.message;
}
