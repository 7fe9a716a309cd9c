/** Row-major 2x2 matrix [m00, m01, m10, m11]. */
export type Mat2 = [number, number, number, number];

export interface Svd2 {
  /** Rotation (det +1). */
  u: Mat2;
  /** Singular values, s[0] >= s[1] >= 0. */
  s: [number, number];
  /** Orthogonal; det is -1 exactly when det(m) < 0. */
  vt: Mat2;
}

/**
 * Closed-form SVD m = u · diag(s) · vt. m splits into a similarity part [[e,-h],[h,e]] and an
 * anti-similarity part [[f,g],[g,-f]]; then m = Rot(phi) · diag(q+r, q-r) · Rot(theta) with
 * q = |(e,h)|, r = |(f,g)|. When q < r the second singular value is negated into vt's second row.
 */
export function svd2x2(m: Mat2): Svd2 {
  const [m00, m01, m10, m11] = m;
  const e = (m00 + m11) / 2;
  const f = (m00 - m11) / 2;
  const g = (m10 + m01) / 2;
  const h = (m10 - m01) / 2;
  const q = Math.hypot(e, h);
  const r = Math.hypot(f, g);
  const a1 = Math.atan2(g, f);
  const a2 = Math.atan2(h, e);
  const theta = (a2 - a1) / 2;
  const phi = (a2 + a1) / 2;
  const cp = Math.cos(phi);
  const sp = Math.sin(phi);
  const ct = Math.cos(theta);
  const st = Math.sin(theta);
  const s2 = q - r;
  return {
    u: [cp, -sp, sp, cp],
    s: [q + r, Math.abs(s2)],
    vt: s2 < 0 ? [ct, -st, -st, -ct] : [ct, -st, st, ct],
  };
}

export const det2 = (m: Mat2): number => m[0] * m[3] - m[1] * m[2];

export function mul2(a: Mat2, b: Mat2): Mat2 {
  return [a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3], a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3]];
}
