import { type Expr, binary, expr, unary } from "@neurite/core";

// Both branches of a select run in every lane and the condition picks one, so inside a branch an operand
// may be assumed to satisfy the condition that leads there. The one fact used: an operand is ≤ 0. Then
// e^x and e^x − 1 cannot overflow and can take the cheaper base-2 reduction (simd-math.ts): ELU, SELU and
// their derivatives compute expm1(x) only in their x ≤ 0 branch.

/** A constant ≤ 0. */
function nonPositiveConst(e: Expr): boolean {
  return e.node.kind === "const" && e.node.value <= 0;
}

/**
 * Whether the codegen may treat `e` as ≤ 0 (or NaN): min(·, c ≤ 0), which {@link boundBranches} writes, and
 * −|·|. NaN lanes are allowed: every caller propagates them.
 */
export function isNonPositive(e: Expr): boolean {
  const n = e.node;
  if (n.kind === "binary" && n.op === "min") return nonPositiveConst(n.a) || nonPositiveConst(n.b);
  if (n.kind === "unary" && n.op === "neg") return n.a.node.kind === "unary" && n.a.node.op === "abs";
  return false;
}

/** Of select(cond, a, b): the operand known ≤ 0 (or NaN) in branch a, and in branch b. */
function branchFacts(cond: Expr): [string | undefined, string | undefined] {
  const n = cond.node;
  if (n.kind !== "binary" || !nonPositiveConst(n.b)) return [undefined, undefined];
  // x ≤ c or x < c with c ≤ 0: x ≤ 0 where true (NaN compares false, so NaN lanes take b)
  if (n.op === "le" || n.op === "lt") return [n.a.key, undefined];
  // x > c or x ≥ c with c ≤ 0: where false, x < c ≤ 0 or x is NaN
  if (n.op === "gt" || n.op === "ge") return [undefined, n.a.key];
  return [undefined, undefined];
}

/**
 * Rewrites exp(x) and expm1(x) inside a branch where x ≤ 0 to exp(min(x, 0)) and expm1(min(x, 0)): the same
 * values in the lanes that branch supplies, in a form {@link isNonPositive} recognises.
 */
export function boundBranches(root: Expr): Expr {
  const memo = new Map<string, Expr>();
  const go = (e: Expr, nonPositive: ReadonlySet<string>): Expr => {
    const memoKey = nonPositive.size ? `${[...nonPositive].join(",")}|${e.key}` : e.key;
    const hit = memo.get(memoKey);
    if (hit) return hit;
    const n = e.node;
    let out = e;
    if (n.kind === "unary") {
      const a = go(n.a, nonPositive);
      out = (n.op === "exp" || n.op === "expm1") && nonPositive.has(n.a.key) && !isNonPositive(a) ? unary(n.op, binary("min", a, 0)) : a === n.a ? e : unary(n.op, a);
    } else if (n.kind === "binary") {
      const [a, b] = [go(n.a, nonPositive), go(n.b, nonPositive)];
      out = a === n.a && b === n.b ? e : binary(n.op, a, b);
    } else if (n.kind === "where") {
      const [inA, inB] = branchFacts(n.cond);
      const add = (key: string | undefined): ReadonlySet<string> => (key === undefined || nonPositive.has(key) ? nonPositive : new Set([...nonPositive, key]));
      const [c, a, b] = [go(n.cond, nonPositive), go(n.a, add(inA)), go(n.b, add(inB))];
      out = c === n.cond && a === n.a && b === n.b ? e : expr.where(c, a, b);
    }
    memo.set(memoKey, out);
    return out;
  };
  return go(root, new Set());
}
