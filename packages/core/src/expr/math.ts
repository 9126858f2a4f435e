/**
 * Scalar float64 math that JavaScript lacks (erf) and the exact semantics of every primitive, shared by the
 * float64 reference evaluator and the CPU backend's generated kernels so that both agree bit for bit.
 */

// erf after Sun's fdlibm s_erf.c (the algorithm in FreeBSD and musl): rational approximations on
// [0, 0.84375), [0.84375, 1.25), [1.25, 1/0.35) and [1/0.35, 6); accurate to about 1 ulp in float64.
const ERX = 8.45062911510467529297e-1;
const EFX8 = 1.02703333676410069053;
const PP = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const QQ = [1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const PA = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const QA = [1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const RA = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const SA = [1, 1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const RB = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const SB = [1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

function horner(c: readonly number[], x: number): number {
  let r = 0;
  for (let i = c.length - 1; i >= 0; i--) r = r * x + c[i]!;
  return r;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
/** x with the low 32 bits of its mantissa cleared, so that z*z is exact (fdlibm's trick for exp(-x²)). */
function truncLow(x: number): number {
  f64[0] = x;
  u32[LOW_WORD] = 0;
  return f64[0];
}

/** erfc(|x|) for 0.84375 <= |x| < 6. */
function erfcMid(ax: number): number {
  if (ax < 1.25) return 1 - ERX - horner(PA, ax - 1) / horner(QA, ax - 1);
  const s = 1 / (ax * ax);
  const rs = ax < 1 / 0.35 ? horner(RA, s) / horner(SA, s) : horner(RB, s) / horner(SB, s);
  const z = truncLow(ax);
  return (Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + rs)) / ax;
}

/** The error function erf(x) = 2/√π ∫₀ˣ e^(−t²) dt, in float64. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return (8 * x + EFX8 * x) / 8;
    const z = x * x;
    return x + x * (horner(PP, z) / horner(QQ, z));
  }
  const y = ax < 6 ? 1 - erfcMid(ax) : 1;
  return x < 0 ? -y : y;
}

/** Logistic sigmoid, stable for every input: never exp of a large positive number. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** sign with sign(±0) = 0 and sign(NaN) = NaN, as PyTorch. */
export function sign(x: number): number {
  return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN;
}

/** Rounds to the nearest integer with ties to even (torch.round, IEEE roundTiesToEven); keeps −0, ±∞ and NaN. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round breaks ties upward; r − x is exact for |x| < 2^52 (beyond it every float64 is an integer and r = x)
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Cephes' tanh (S. L. Moshier): a rational approximation below 0.625, 1 − 2/(e^{2|x|} + 1) above. It is
// arithmetic the engine inlines, where V8's Math.tanh is a call into C about twice as slow, and small
// models' training steps spend a fifth of their time in tanh. Within 3 ulp of Math.tanh, and the same
// float32 after rounding (math.test.ts).
const TANH_P = [-1614.6876844170845, -99.28772310019185, -0.9643991794250523] as const;
const TANH_Q = [4844.063053251255, 2235.4883906010045, 112.81167849163293] as const;

/** Hyperbolic tangent in float64: tanh(±0) = ±0, ±1 at ±∞, NaN stays NaN. */
export function tanh(x: number): number {
  const a = Math.abs(x);
  if (a < 0.625) {
    const z = x * x;
    // x·(1 + …) keeps the sign of −0
    return x * (1 + (z * ((TANH_P[2] * z + TANH_P[1]) * z + TANH_P[0])) / (((z + TANH_Q[2]) * z + TANH_Q[1]) * z + TANH_Q[0]));
  }
  // e^{2a} = ∞ gives exactly 1; NaN stays NaN
  const t = 1 - 2 / (Math.exp(2 * a) + 1);
  return x < 0 ? -t : t;
}
