/**
 * An independent implementation of the generator `Random` documents (sfc32 seeded through a splitmix-style
 * hash of a golden-ratio Weyl sequence, 12 discarded outputs, 53-bit doubles as MT19937's genrand_res53,
 * Box–Muller normals in float64), written in the usual signed-int32 style of JavaScript PRNGs rather than
 * core's unsigned one, to check the stream core produces.
 */
export class Sfc32Reference {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let w = Math.floor(seed) | 0;
    const hash = (): number => {
      w = (w + 0x9e3779b9) | 0;
      let z = w;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return z ^ (z >>> 16);
    };
    this.a = hash() ^ (Math.floor(seed / 4294967296) | 0);
    this.b = hash();
    this.c = hash();
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) with 53 bits: (a·2²⁶ + b) / 2⁵³ from a 27-bit and a 26-bit draw. */
  double(): number {
    const a = this.u32() >>> 5;
    const b = this.u32() >>> 6;
    return (a * 67108864 + b) * (1 / 9007199254740992);
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.double();
    while (u === 0) u = this.double();
    const v = this.double();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
