/** `n` pseudo-random bytes from a small linear congruential generator: the same seed gives the same bytes. */
export function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x >>> 24;
  });
}
