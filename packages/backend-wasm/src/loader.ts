import { ArgumentError } from "@neurite/core";
import kernelsBase64 from "../build/kernels.wasm";
import kernelsFmaBase64 from "../build/kernels-fma.wasm";

/** Where the kernel module comes from: inlined bytes (default), a URL to fetch, or the bytes themselves. */
export type WasmSource = URL | string | ArrayBuffer | Uint8Array;

/** The exports of the AssemblyScript kernels (assembly/*.ts); pointers are byte addresses. */
export interface KernelExports {
  heapBase: () => number;
  /** 1 where the matmul's multiply-adds are fused (the relaxed-simd build, kernels-fma.wasm), else 0. */
  matmulFused: () => number;
  matmulScratchBytes: () => number;
  matmulPackB: (b: number, brs: number, bcs: number, k: number, n: number, dst: number) => void;
  matmulRows: (a: number, ars: number, acs: number, bp: number, c: number, n: number, ldc: number, k: number, i0: number, i1: number, ap: number) => void;
  sumRows: (x: number, out: number, outer: number, size: number) => void;
  sumInner: (x: number, out: number, outer: number, size: number, inner: number, scratch: number) => void;
  extremeRows: (x: number, out: number, outer: number, size: number, sign: number) => void;
  extremeInner: (x: number, out: number, outer: number, size: number, inner: number, sign: number) => void;
  argRows: (x: number, out: number, outer: number, size: number, sign: number) => void;
  argInner: (x: number, out: number, outer: number, size: number, inner: number, sign: number, scratch: number) => void;
  softmaxRows: (x: number, out: number, rows: number, cols: number) => void;
  logSoftmaxRows: (x: number, out: number, rows: number, cols: number) => void;
  softmaxBackwardRows: (y: number, g: number, out: number, rows: number, cols: number) => void;
  logSoftmaxBackwardRows: (y: number, g: number, out: number, rows: number, cols: number) => void;
  adam: (p: number, g: number, m: number, v: number, size: number, lr: number, beta1: number, beta2: number, eps: number, bc1: number, bc2: number, wd: number, dwd: number) => void;
  gather: (x: number, indices: number, out: number, outer: number, axisSize: number, inner: number, count: number) => void;
  scatterAdd: (src: number, indices: number, out: number, outer: number, axisSize: number, inner: number, count: number) => void;
  fill: (ptr: number, n: number, value: number) => void;
  /** The geometry, then the value a padding tap reads (f32). */
  im2col: (x: number, out: number, ...geometryAndPad: [...PatchGeometryArgs, padValue: number]) => void;
  col2im: (cols: number, out: number, ...geometry: PatchGeometryArgs) => void;
  im2colMatmulRows: (x: number, ...rest: [...PatchGeometryTail, bp: number, out: number, n: number, i0: number, i1: number, rows: number, ap: number]) => void;
}

/**
 * The geometry arguments of the im2col / col2im exports, in order: batch, height, width, channels, kernel
 * height and width, strides, dilations, padding top and left, output height and width.
 */
export type PatchGeometryArgs = [batch: number, ...PatchGeometryTail];

/** {@link PatchGeometryArgs} without the batch. */
export type PatchGeometryTail = [number, number, number, number, number, number, number, number, number, number, number, number, number];

/** Pages the kernels' memory may grow to (2 GiB; see memory.ts for why not 4). */
export { MAX_PAGES } from "./memory.js";

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  // atob exists in Node ≥ 16 and in every browser
  const binaryString = atob(b64);
  const bytes = new Uint8Array(binaryString.length);
  for (let i = 0; i < binaryString.length; i++) bytes[i] = binaryString.charCodeAt(i);
  return bytes;
}

function readLeb(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, pos];
    shift += 7;
  }
}

/**
 * The kernels are built against an unshared imported memory; threads need a shared one. The two differ
 * only in the flags byte of the memory import's limits (0x01 → 0x03), so one build serves both.
 */
export function withSharedMemory(src: Uint8Array): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(src);
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const [size, start] = readLeb(bytes, pos);
    if (id === 2) {
      let p = start;
      const [count, afterCount] = readLeb(bytes, p);
      p = afterCount;
      for (let i = 0; i < count; i++) {
        let len;
        [len, p] = readLeb(bytes, p);
        p += len;
        [len, p] = readLeb(bytes, p);
        p += len;
        const kind = bytes[p++]!;
        if (kind === 0x02) {
          if (bytes[p] !== 0x01 && bytes[p] !== 0x03) throw new Error("wasm backend: the kernels' memory import has no maximum, so it cannot be shared");
          bytes[p] = 0x03;
          return bytes;
        }
        if (kind === 0x00) [, p] = readLeb(bytes, p);
        else if (kind === 0x01) {
          p++;
          const flags = bytes[p++]!;
          [, p] = readLeb(bytes, p);
          if (flags & 1) [, p] = readLeb(bytes, p);
        } else if (kind === 0x03) p += 2;
      }
      break;
    }
    pos = start + size;
  }
  throw new Error("wasm backend: the kernels module imports no memory");
}

interface NodeFs {
  promises: { readFile(path: URL | string): Promise<Uint8Array> };
}

async function fetchBytes(url: URL | string): Promise<Response | Uint8Array> {
  const u = typeof url === "string" ? new URL(url, (globalThis as { location?: { href: string } }).location?.href ?? "file:///") : url;
  if (u.protocol === "file:") {
    // Node's fetch does not read files; process.getBuiltinModule keeps bundlers from seeing a node: import
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const fs = proc?.getBuiltinModule?.("node:fs") as NodeFs | undefined;
    if (!fs) throw new Error(`wasm backend: cannot read ${u.href} here (file: URLs need Node ≥ 20.16); pass the bytes or an http(s) URL`);
    return fs.promises.readFile(u);
  }
  const res = await fetch(u);
  if (!res.ok) throw new Error(`wasm backend: fetching the kernels from ${u.href} failed with HTTP ${res.status}; check the URL (the file ships as @neurite/backend-wasm/kernels.wasm)`);
  return res;
}

/**
 * The smallest module that uses relaxed SIMD: `(func (param v128 v128 v128) (result v128)
 * (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))`. It validates exactly where the engine
 * runs relaxed SIMD (Chrome ≥ 114; Node 20 only with --experimental-wasm-relaxed-simd).
 */
const RELAXED_MADD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128, v128, v128) → v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // f32x4.relaxed_madd
]);

let relaxedSimd: boolean | undefined;

/** Whether this engine runs WebAssembly relaxed SIMD (`f32x4.relaxed_madd`); checked once. */
export function hasRelaxedSimd(): boolean {
  relaxedSimd ??= WebAssembly.validate(RELAXED_MADD_PROBE);
  return relaxedSimd;
}

/** Which build of the kernels to use when no source is given: the plain SIMD128 one or the relaxed-simd (FMA) one. */
export type KernelVariant = "simd128" | "relaxed-simd-fma";

/**
 * Compiles the kernels module from the given source (default: the inlined bytes of `variant`), for a shared
 * or unshared memory.
 */
export async function compileKernels(source: WasmSource | undefined, shared: boolean, variant: KernelVariant = "simd128"): Promise<WebAssembly.Module> {
  let bytes: Uint8Array;
  if (source === undefined) bytes = decodeBase64(variant === "relaxed-simd-fma" ? kernelsFmaBase64 : kernelsBase64);
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (source instanceof Uint8Array) bytes = source;
  else {
    const got = await fetchBytes(source);
    if (got instanceof Uint8Array) bytes = got;
    else if (!shared && typeof WebAssembly.compileStreaming === "function" && got.headers.get("content-type")?.startsWith("application/wasm")) {
      return WebAssembly.compileStreaming(got);
    } else bytes = new Uint8Array(await got.arrayBuffer());
  }
  const final = shared ? withSharedMemory(bytes) : new Uint8Array(bytes);
  try {
    return await WebAssembly.compile(final);
  } catch (e) {
    // kernels-fma.wasm given to an engine without relaxed SIMD: say which file to load instead
    if (source !== undefined && e instanceof WebAssembly.CompileError && !hasRelaxedSimd() && !WebAssembly.validate(new Uint8Array(bytes)) && /simd/i.test(e.message)) {
      throw new ArgumentError(`wasm backend: the kernels module given as wasm needs WebAssembly relaxed SIMD, which this engine does not run (${e.message}); load kernels.wasm instead of kernels-fma.wasm`);
    }
    throw e;
  }
}
