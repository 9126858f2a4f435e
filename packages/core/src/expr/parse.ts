/**
 * Formulas from text: `parseFormula("x * sigmoid(1.702 * x)")` builds the same expression tree as the builder API
 * (`x.mul(x.mul(1.702).sigmoid())`), so a typed-in formula gets fused kernels, the derived derivative, saving and
 * the checks exactly like a formula written in TypeScript.
 *
 * Grammar (precedence from loosest to tightest; all binary operators are left-associative except `^`):
 *
 * ```text
 * formula     = comparison
 * comparison  = additive [ ("<" | "<=" | ">" | ">=" | "==" | "!=") additive ]
 * additive    = term { ("+" | "-") term }
 * term        = prefix { ("*" | "/") prefix }
 * prefix      = ("-" | "+") prefix | power
 * power       = primary [ "^" prefix ]          (right-associative: 2^3^2 = 2^9; -x^2 = -(x^2); x^-1 works)
 * primary     = number | name | name "(" formula { "," formula } ")" | "(" formula ")"
 * number      = digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]   (also ".5"); must be finite
 * name        = letter { letter | digit | "_" }
 * ```
 *
 * Names: `x` (the input), the declared parameters, the constants `pi` and `e`, and the functions: every unary
 * primitive by its op name (`exp`, `sin`, `sigmoid`, `isnan`…), every binary primitive (`pow`, `min`, `max`, …,
 * also the comparisons `lt`, `le`, …), `where(cond, a, b)`, `clamp(v, lo, hi)` and `clip(v, lo, hi)` (as the
 * `Expr` methods of those names: they differ in the gradient at the bounds) and `square(v)`.
 * Parameters may not reuse those names. Comparisons give 1 or 0; `where` takes `a` where `cond` is neither 0 nor NaN.
 */
import { brandClass } from "../process-state.js";
import { ArgumentError } from "../errors.js";
import { closestName } from "../validation/suggest.js";
import { BINARY_OPS, type BinaryOp, type Expr, UNARY_OPS, binary, constant, input, param, unary, where } from "./expr.js";

/** Options of {@link parseFormula}. */
export interface ParseFormulaOptions {
  /** The parameter names the formula may use; each becomes `param(name)` (bound when the activation is applied). */
  readonly params?: readonly string[];
  /** The name of the input variable (default `"x"`). */
  readonly variable?: string;
}

/** A formula that cannot be parsed: the message points at the position with a caret and lists what was expected. */
export class FormulaError extends ArgumentError {
  override name = "FormulaError";
  constructor(
    message: string,
    /** The formula text. */
    readonly text: string,
    /** 0-based offset of the problem in `text`. */
    readonly position: number,
    /** Length of the offending token (at least 1). */
    readonly length: number,
  ) {
    super(message);
  }
}
brandClass(FormulaError, "FormulaError");

type Token =
  | { readonly kind: "number"; readonly value: number; readonly pos: number; readonly end: number }
  | { readonly kind: "name"; readonly name: string; readonly pos: number; readonly end: number }
  | { readonly kind: "op"; readonly op: string; readonly pos: number; readonly end: number }
  | { readonly kind: "end"; readonly pos: number; readonly end: number };

const NAMED_CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };
/** The longest formula accepted: parsing is linear, but a cap keeps a hostile string from building a huge tree. */
const MAX_FORMULA_LENGTH = 10_000;
/** Nesting deeper than this is refused before the recursive descent can exhaust the stack. */
const MAX_DEPTH = 200;

type FunctionDef = { readonly arity: number; readonly build: (args: Expr[]) => Expr };

/** The callable names, built from the primitive tables so that a new primitive is callable with no change here. */
function functionTable(): ReadonlyMap<string, FunctionDef> {
  const table = new Map<string, FunctionDef>();
  for (const op of UNARY_OPS) table.set(op, { arity: 1, build: ([a]) => unary(op, a!) });
  for (const op of BINARY_OPS) table.set(op, { arity: 2, build: ([a, b]) => binary(op, a!, b!) });
  table.set("where", { arity: 3, build: ([c, a, b]) => where(c!, a!, b!) });
  table.set("clamp", { arity: 3, build: ([v, lo, hi]) => v!.clamp(lo!, hi!) });
  table.set("clip", { arity: 3, build: ([v, lo, hi]) => v!.clip(lo!, hi!) });
  table.set("square", { arity: 1, build: ([v]) => v!.square() });
  return table;
}

const COMPARISONS: Readonly<Record<string, BinaryOp>> = { "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne" };

/**
 * Parses a formula into an expression over the input `x` and the named parameters.
 *
 * @throws {@link FormulaError} with the position, a caret under the problem and the names that were expected.
 * @example
 * const gelu = parseFormula("x * sigmoid(1.702 * x)");
 * const snake = parseFormula("x + sin(a * x)^2 / a", { params: ["a"] });
 */
export function parseFormula(text: string, options: ParseFormulaOptions = {}): Expr {
  if (typeof text !== "string") throw new ArgumentError(`parseFormula: the formula must be a string, got ${typeof text}`);
  if (text.length > MAX_FORMULA_LENGTH) {
    throw new ArgumentError(`parseFormula: the formula is ${text.length} characters long; the limit is ${MAX_FORMULA_LENGTH}`);
  }
  const variable = options.variable ?? "x";
  const params = options.params ?? [];
  const functions = functionTable();
  for (const name of [variable, ...params]) {
    if (typeof name !== "string" || !/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      throw new ArgumentError(`parseFormula: variable and parameter names must be identifiers, got ${JSON.stringify(name)}`);
    }
    if (functions.has(name) || name in NAMED_CONSTANTS) {
      throw new ArgumentError(`parseFormula: the name "${name}" is taken by a built-in function or constant; rename the parameter`);
    }
  }
  if (params.includes(variable)) throw new ArgumentError(`parseFormula: parameter "${variable}" has the name of the input variable`);
  return new Parser(text, variable, params, functions).parse();
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly variable: string,
    private readonly params: readonly string[],
    private readonly functions: ReadonlyMap<string, FunctionDef>,
  ) {
    this.tokens = this.tokenize();
  }

  parse(): Expr {
    const e = this.comparison();
    const t = this.peek();
    if (t.kind !== "end") this.fail(t, `unexpected ${describe(t)} after a complete formula`, ["an operator", "the end"]);
    return e;
  }

  // ---- grammar ----

  private comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === "op" && t.op in COMPARISONS) {
      this.index++;
      const right = this.additive();
      const after = this.peek();
      if (after.kind === "op" && after.op in COMPARISONS) {
        this.fail(after, "comparisons cannot be chained (a < b < c); combine them with where(...) or a product", ["an operator", "the end"]);
      }
      return binary(COMPARISONS[t.op]!, left, right);
    }
    return left;
  }

  private additive(): Expr {
    let e = this.term();
    for (let t = this.peek(); t.kind === "op" && (t.op === "+" || t.op === "-"); t = this.peek()) {
      this.index++;
      e = binary(t.op === "+" ? "add" : "sub", e, this.term());
    }
    return e;
  }

  private term(): Expr {
    let e = this.prefix();
    for (let t = this.peek(); t.kind === "op" && (t.op === "*" || t.op === "/"); t = this.peek()) {
      this.index++;
      e = binary(t.op === "*" ? "mul" : "div", e, this.prefix());
    }
    return e;
  }

  private prefix(): Expr {
    const t = this.peek();
    if (t.kind === "op" && (t.op === "-" || t.op === "+")) {
      this.index++;
      const operand = this.nested(() => this.prefix());
      return t.op === "-" ? unary("neg", operand) : operand;
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.primary();
    const t = this.peek();
    if (t.kind === "op" && t.op === "^") {
      this.index++;
      return binary("pow", base, this.nested(() => this.prefix()));
    }
    return base;
  }

  private primary(): Expr {
    const t = this.next();
    if (t.kind === "number") return constant(t.value);
    if (t.kind === "op" && t.op === "(") {
      const e = this.nested(() => this.comparison());
      this.expect(")", "to close the parenthesis");
      return e;
    }
    if (t.kind === "name") {
      const after = this.peek();
      if (after.kind === "op" && after.op === "(") return this.call(t);
      if (t.name === this.variable) return input(0);
      if (this.params.includes(t.name)) return param(t.name);
      const c = NAMED_CONSTANTS[t.name];
      if (c !== undefined && Object.hasOwn(NAMED_CONSTANTS, t.name)) return constant(c);
      if (this.functions.has(t.name)) this.fail(after, `"${t.name}" is a function: call it as ${t.name}(...)`, ["("]);
      this.fail(t, `unknown name "${t.name}"`, this.valueNames(), t.name);
    }
    this.fail(t, `unexpected ${describe(t)}`, ["a number", "a name", "("]);
  }

  private call(nameToken: Extract<Token, { kind: "name" }>): Expr {
    const def = this.functions.get(nameToken.name);
    if (!def) this.fail(nameToken, `unknown function "${nameToken.name}"`, [...this.functions.keys()], nameToken.name);
    this.index++; // "("
    const args: Expr[] = [];
    if (!(this.peek().kind === "op" && (this.peek() as { op: string }).op === ")")) {
      args.push(this.nested(() => this.comparison()));
      while (this.peek().kind === "op" && (this.peek() as { op: string }).op === ",") {
        this.index++;
        args.push(this.nested(() => this.comparison()));
      }
    }
    const close = this.peek();
    this.expect(")", `to close the call of ${nameToken.name}`);
    if (args.length !== def.arity) {
      this.fail(nameToken, `${nameToken.name} takes ${def.arity} argument${def.arity === 1 ? "" : "s"}, got ${args.length}`, [], undefined, close.end - nameToken.pos);
    }
    return def.build(args);
  }

  // ---- helpers ----

  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(this.peek(), `the formula nests deeper than ${MAX_DEPTH} levels`, []);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private valueNames(): string[] {
    return [this.variable, ...this.params, ...Object.keys(NAMED_CONSTANTS)];
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const t = this.tokens[this.index]!;
    if (t.kind !== "end") this.index++;
    return t;
  }

  private expect(op: string, why: string): void {
    const t = this.peek();
    if (t.kind === "op" && t.op === op) {
      this.index++;
      return;
    }
    this.fail(t, `expected "${op}" ${why}, found ${describe(t)}`, [op]);
  }

  private fail(t: { pos: number; end: number }, problem: string, expected: readonly string[], unknown?: string, span?: number): never {
    const length = Math.max(1, span ?? t.end - t.pos);
    const hint = unknown === undefined ? undefined : closestName(unknown, expected);
    const lines = [
      `parseFormula: ${problem} at column ${t.pos + 1}`,
      `  ${this.text}`,
      `  ${" ".repeat(t.pos)}${"^".repeat(length)}`,
    ];
    if (hint !== undefined) lines.push(`did you mean "${hint}"?`);
    if (expected.length > 0) lines.push(`expected: ${expected.join(", ")}`);
    throw new FormulaError(lines.join("\n"), this.text, t.pos, length);
  }

  private tokenize(): Token[] {
    const s = this.text;
    const out: Token[] = [];
    let i = 0;
    while (i < s.length) {
      const ch = s[i]!;
      if (/\s/.test(ch)) {
        i++;
        continue;
      }
      const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s.slice(i, i + 400));
      if (num) {
        const value = Number(num[0]);
        const end = i + num[0].length;
        if (!Number.isFinite(value)) this.fail({ pos: i, end }, `the number ${num[0]} is not finite`, []);
        out.push({ kind: "number", value, pos: i, end });
        i = end;
        continue;
      }
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i, i + 400));
      if (name) {
        out.push({ kind: "name", name: name[0], pos: i, end: i + name[0].length });
        i += name[0].length;
        continue;
      }
      const two = s.slice(i, i + 2);
      if (two === "<=" || two === ">=" || two === "==" || two === "!=" || two === "**") {
        // "**" is accepted as a synonym of "^" (Python's power)
        out.push({ kind: "op", op: two === "**" ? "^" : two, pos: i, end: i + 2 });
        i += 2;
        continue;
      }
      if ("+-*/^<>(),".includes(ch)) {
        out.push({ kind: "op", op: ch, pos: i, end: i + 1 });
        i++;
        continue;
      }
      this.fail({ pos: i, end: i + 1 }, `unexpected character ${JSON.stringify(ch)}`, ["a number", "a name", "an operator"]);
    }
    out.push({ kind: "end", pos: s.length, end: s.length });
    return out;
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "number": return `the number ${t.value}`;
    case "name": return `the name "${t.name}"`;
    case "op": return `"${t.op}"`;
    case "end": return "the end of the formula";
  }
}
