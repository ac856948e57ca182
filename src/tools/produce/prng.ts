/**
 * A small seeded PRNG (sfc32, seeded through a string hash) and the draws the generator needs.
 * Never Math.random: the same seed must give the same bytes on every run and every machine.
 */

/** 32-bit FNV-1a over a string's UTF-16 code units, then mixed: a stable hash for seeding. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator for a seed and any number of labels ("pools", a slot's start, ...): independent streams. */
  constructor(seed: number | string, ...labels: (string | number)[]) {
    const base = [String(seed), ...labels.map(String)].join("\u0000");
    this.#a = hash32(`a${base}`);
    this.#b = hash32(`b${base}`);
    this.#c = hash32(`c${base}`);
    this.#d = hash32(`d${base}`) | 1;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): empty range`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Pick with weights (need not sum to 1). */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    if (!(total > 0)) throw new RangeError("weighted pick needs a positive total weight");
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /**
   * Skewed pick: low indexes are much more frequent (Zipf-like, exponent ~1), as a few users, resources
   * and domains carry most of a real network's traffic.
   */
  skewed<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    const n = items.length;
    // Inverse CDF of a continuous 1/x law on [1, n+1).
    const idx = Math.floor((n + 1) ** this.next()) - 1;
    return items[Math.min(n - 1, Math.max(0, idx))]!;
  }

  /** Log-normal-ish positive integer around `median`, spread by `sigma` (natural log units). */
  logNormalInt(median: number, sigma: number, max = Number.MAX_SAFE_INTEGER): number {
    // Box-Muller from two uniforms.
    const u1 = 1 - this.next();
    const u2 = this.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.min(max, Math.max(0, Math.round(median * Math.exp(sigma * z))));
  }

  /** A string of `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet: string): string {
    let out = "";
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  /** Fisher-Yates: `k` distinct indexes out of [0, n), in increasing order. */
  sample(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i);
    const m = Math.min(k, n);
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    return idx.slice(0, m).sort((a, b) => a - b);
  }
}
