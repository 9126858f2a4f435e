// The elementwise op: collapses the operands' layout, picks the run-time kernel for it and runs it over the
// collapsed shape, on one thread or split across the pool.
import { type ElementwiseArgs, type Expr, checkViewBounds, collapseAxes, expr, exprArity, inputsRead } from "@neurite/core";
import type { KernelCache } from "./codegen.js";
import type { CompiledKernel, KernelSpec, Pattern } from "./kernel-spec.js";
import { bufferOf } from "./memory.js";
import type { TaskRunner } from "./task-runner.js";
import type { Call } from "./threads/protocol.js";

/**
 * Elementwise work below this many elements stays on one thread. Measured with scripts/cutover.mjs on the 2-core
 * VM at load average 1.4 (1 vs 2 threads, alternating, medians): an add of 2^19 elements ran at 0.75× on two
 * threads and 2^20 at 0.87× (the parts fit in cache and one thread streams them as fast as two), 2^21 at 1.75×
 * and 2^22 at 1.87× (see the README's Threads).
 */
export const PARALLEL_ELEMENTWISE_MIN = 1 << 21;
/** The fewest elements of one part of a threaded elementwise op, so that each part outweighs its claim. */
export const ELEMENTWISE_PART_MIN = 1 << 14;

/**
 * An Adam step over fewer parameters than this stays on one thread. It does ten times an add's arithmetic
 * per element, so a second thread pays off much sooner: scripts/cutover.mjs on the 2-core VM (quiet, 1 vs 2
 * threads alternating, medians) measured 0.93× at 2^14, 1.45–1.65× at 2^15–2^16, 1.85× at 2^17 and 2.0× at
 * 2^18. Inside a training step the gradients were just written by both cores and the gain is smaller, so the
 * cut-over sits where it is clear.
 */
export const PARALLEL_ADAM_MIN = 1 << 17;

/**
 * How many parts an elementwise op over `elements` is cut into for `threads` threads: 1 (this thread alone)
 * below `min`, else up to four per thread, each at least {@link ELEMENTWISE_PART_MIN} elements, so that a
 * thread on a busy core takes fewer parts instead of holding up the rest.
 */
export function elementwiseParts(elements: number, threads: number, min = PARALLEL_ELEMENTWISE_MIN): number {
  if (threads <= 1 || elements < min) return 1;
  return Math.max(threads, Math.min(4 * threads, Math.floor(elements / ELEMENTWISE_PART_MIN)));
}

/** Programs whose facts are cached before the cache is dropped (a generator of endless programs must not leak). */
const MAX_PROGRAM_FACTS = 4096;

/** What the runner needs to know of a program, computed once per program. */
interface ProgramFacts {
  /** The inputs it reads. */
  readonly used: Set<number>;
  /** How many inputs it expects (one more than the highest input index). */
  readonly inputs: number;
}

/** An operand of a collapsed layout: its byte address and its element stride along each axis. */
export interface Operand {
  readonly ptr: number;
  readonly strides: readonly number[];
}

/** The rows [r0, r1) × columns [c0, c1) of a [rows, cols] iteration space. */
export interface Block {
  readonly r0: number;
  readonly r1: number;
  readonly c0: number;
  readonly c1: number;
}

/**
 * The blocks one [rows, cols] space is cut into, about `parts` of them: row ranges as even as whole rows
 * allow, or, with fewer rows than parts, each row cut into ⌈parts / rows⌉ column chunks that are multiples
 * of 4 (so that SIMD loops stay whole).
 */
export function splitForThreads(rows: number, cols: number, parts: number): Block[] {
  const blocks: Block[] = [];
  if (rows >= parts) {
    for (let t = 0; t < parts; t++) {
      const r0 = Math.floor((rows * t) / parts), r1 = Math.floor((rows * (t + 1)) / parts);
      if (r1 > r0) blocks.push({ r0, r1, c0: 0, c1: cols });
    }
  } else {
    const chunk = Math.ceil(cols / Math.ceil(parts / rows) / 4) * 4;
    for (let c0 = 0; c0 < cols; c0 += chunk) {
      for (let r = 0; r < rows; r++) blocks.push({ r0: r, r1: r + 1, c0, c1: Math.min(cols, c0 + chunk) });
    }
  }
  return blocks;
}

const NOTHING = (): void => undefined;

/**
 * A kernel's arguments for one block of a collapsed layout of rank 1 or 2: the block's rows and columns, each
 * operand's byte address at the block's start (from `base`) and its row and column strides in bytes, then the scalars.
 */
function blockArgs(operands: readonly Operand[], rank: number, scalars: readonly number[], base: readonly number[], { r0, r1, c0, c1 }: Block): number[] {
  const a = [r1 - r0, c1 - c0];
  operands.forEach((op, i) => {
    const rs = rank >= 2 ? op.strides[rank - 2]! : 0;
    const cs = op.strides[rank - 1]!;
    a.push(base[i]! + (r0 * rs + c0 * cs) * 4, rs * 4, cs * 4);
  });
  for (const s of scalars) a.push(s);
  return a;
}

/** Runs elementwise programs through run-time kernels from `cache`, on the threads of `tasks`. */
export class ElementwiseRunner {
  private readonly programFacts = new Map<string, ProgramFacts>();

  constructor(
    private readonly cache: KernelCache,
    private readonly tasks: TaskRunner,
  ) {}

  /** The backend's `elementwise`: checks the arguments, then runs the program over the collapsed layout. */
  run(args: ElementwiseArgs): void {
    this.prepare(args)();
  }

  /**
   * {@link run} with the checks, the layout and the kernel lookup done once (Backend.prepare): the function
   * runs the call again over the same buffers, which must stay allocated while it is used.
   */
  prepare(args: ElementwiseArgs): () => void {
    const { program, inputs, shape } = args;
    // before its key is read or cached: only expressions built by the core reach the code generator
    expr.assertExpr(program, "wasm elementwise: the program");
    let n = 1;
    for (const size of shape) n *= size;
    if (n === 0) return NOTHING;
    const facts = this.facts(program);
    if (facts.inputs > inputs.length) {
      throw new RangeError(`wasm elementwise: the program reads input(${facts.inputs - 1}) but only ${inputs.length} inputs were given`);
    }
    const bufs = inputs.map((v, k) => bufferOf(v.id, `input ${k}`));
    const out = bufferOf(args.out.id, "out");
    inputs.forEach((v, k) => checkViewBounds(v, bufs[k]!.size, shape, `wasm elementwise: input ${k}`));
    checkViewBounds(args.out, out.size, shape, "wasm elementwise: out");
    const c = collapseAxes(shape, [...inputs.map((v) => v.strides), args.out.strides]);
    const rank = c.shape.length;
    const inner = (st: readonly number[]): Pattern => (st[rank - 1] === 1 ? "c" : st[rank - 1] === 0 ? "b" : "s");
    const spec: KernelSpec = {
      outputs: [program],
      inputs: inputs.map((_, k) => (facts.used.has(k) ? inner(c.strides[k]!) : "u")),
      outPatterns: [inner(c.strides[inputs.length]!)],
      scalars: args.scalars.length,
    };
    const operands: Operand[] = [{ ptr: out.ptr + args.out.offset * 4, strides: c.strides[inputs.length]! }];
    inputs.forEach((v, k) => operands.push({ ptr: bufs[k]!.ptr + v.offset * 4, strides: c.strides[k]! }));
    const { scalars } = args;
    if ((c.shape.length === 1 || c.shape.length === 2) && elementwiseParts(n, this.tasks.threads) === 1) {
      // one call of the kernel on this thread: its arguments are fixed now
      const compiled = this.cache.get(spec);
      const callArgs = blockArgs(operands, c.shape.length, scalars, operands.map((op) => op.ptr), { r0: 0, r1: c.shape.length >= 2 ? c.shape[0]! : 1, c0: 0, c1: c.shape[c.shape.length - 1]! });
      // the scalars come last, read from the caller's array at each run (Backend.prepare)
      const first = callArgs.length - scalars.length;
      return () => {
        for (let i = 0; i < scalars.length; i++) callArgs[first + i] = scalars[i]!;
        compiled.fn(...callArgs);
      };
    }
    return () => this.runCollapsed(spec, c.shape, operands, scalars);
  }

  private facts(program: Expr): ProgramFacts {
    let facts = this.programFacts.get(program.key);
    if (!facts) {
      facts = { used: new Set(inputsRead(program)), inputs: exprArity(program).inputs };
      if (this.programFacts.size > MAX_PROGRAM_FACTS) this.programFacts.clear();
      this.programFacts.set(program.key, facts);
    }
    return facts;
  }

  /**
   * Runs a kernel over a collapsed layout: operands are outputs first, then inputs, each with
   * a byte address and element strides per axis. Ranks above 2 loop over the leading axes here.
   */
  private runCollapsed(spec: KernelSpec, shape: readonly number[], operands: readonly Operand[], scalars: readonly number[]): void {
    const compiled: CompiledKernel = this.cache.get(spec);
    const rank = shape.length;
    const cols = shape[rank - 1]!;
    const rows = rank >= 2 ? shape[rank - 2]! : 1;
    const lead = shape.slice(0, Math.max(0, rank - 2));
    const argsFor = (base: readonly number[], block: Block): number[] => blockArgs(operands, rank, scalars, base, block);
    const parts = elementwiseParts(rows * cols, this.tasks.threads);
    const idx = lead.map(() => 0);
    const base = operands.map((op) => op.ptr);
    for (;;) {
      if (parts === 1) {
        compiled.fn(...argsFor(base, { r0: 0, r1: rows, c0: 0, c1: cols }));
      } else {
        const groups: Call[][] = splitForThreads(rows, cols, parts).map((block) => [this.tasks.kernelCall(compiled, spec, argsFor(base, block))]);
        this.tasks.runShared(groups);
      }
      // odometer over the leading axes
      let d = lead.length - 1;
      for (; d >= 0; d--) {
        operands.forEach((op, i) => (base[i]! += op.strides[d]! * 4));
        if (++idx[d]! < lead[d]!) break;
        operands.forEach((op, i) => (base[i]! -= op.strides[d]! * 4 * lead[d]!));
        idx[d] = 0;
      }
      if (d < 0) return;
    }
  }
}
