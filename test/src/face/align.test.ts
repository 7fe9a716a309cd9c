import t from 'tap';
import type { Point } from '../../../src/types.js';
import { applyAffine, estimateSimilarity, invertAffine, type Affine } from '../../../src/face/align.js';
import { ARCFACE_TEMPLATE_112, arcfaceTemplate } from '../../../src/face/arcface.js';
import { det2, mul2, svd2x2, type Mat2 } from '../../../src/face/svd2.js';

const TEMPLATE = ARCFACE_TEMPLATE_112 as Point[];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const close = (a: number, b: number, eps: number) => Math.abs(a - b) <= eps;

function similarity(scale: number, deg: number, tx: number, ty: number): Affine {
  const r = (deg * Math.PI) / 180;
  const c = scale * Math.cos(r);
  const s = scale * Math.sin(r);
  return [c, -s, tx, s, c, ty];
}

function sse(m: Affine, src: readonly Point[], dst: readonly Point[]): number {
  let e = 0;
  for (let i = 0; i < src.length; i++) {
    const [x, y] = applyAffine(m, src[i]);
    e += (x - dst[i][0]) ** 2 + (y - dst[i][1]) ** 2;
  }
  return e;
}

t.test('svd2x2 reconstructs, orthogonal factors, ordered non-negative singular values', async (t) => {
  const r = rng(1);
  const cases: Mat2[] = [
    [0, 0, 0, 0],
    [1, 0, 0, 1],
    [1, 0, 0, -1],
    [-2, 0, 0, -3],
    [0, 5, 0, 0],
    [1, 2, 2, 4],
    [1, 2, -2, -4],
    [3, 0, 0, 7],
  ];
  for (let i = 0; i < 500; i++) cases.push([r() * 20 - 10, r() * 20 - 10, r() * 20 - 10, r() * 20 - 10]);
  const bad: string[] = [];
  for (const m of cases) {
    const { u, s, vt } = svd2x2(m);
    const back = mul2(mul2(u, [s[0], 0, 0, s[1]]), vt);
    const tol = 1e-12 * (1 + Math.abs(s[0]));
    if (!back.every((v, k) => close(v, m[k], tol))) bad.push(`${m}: reconstructs ${back}`);
    if (!(s[0] >= s[1] && s[1] >= 0)) bad.push(`${m}: singular values ${s}`);
    for (const q of [u, vt]) {
      const qqt = mul2(q, [q[0], q[2], q[1], q[3]]);
      if (!(close(qqt[0], 1, 1e-12) && close(qqt[3], 1, 1e-12) && close(qqt[1], 0, 1e-12))) bad.push(`${m}: ${q} not orthogonal`);
    }
    if (!close(det2(u), 1, 1e-12)) bad.push(`${m}: det u ${det2(u)}`);
    if (Math.abs(det2(m)) > 1e-9 && Math.sign(det2(vt)) !== Math.sign(det2(m))) bad.push(`${m}: det vt sign`);
  }
  t.same(bad, [], `${cases.length} matrices`);
  const diag = svd2x2([3, 0, 0, 7]);
  t.ok(close(diag.s[0], 7, 1e-12) && close(diag.s[1], 3, 1e-12));
});

t.test('arcfaceTemplate', async (t) => {
  t.same(arcfaceTemplate(112, 112), TEMPLATE);
  const wide = arcfaceTemplate(224, 56);
  t.same(wide[0], [38.2946 * 2, 51.6963 / 2]);
  t.same(wide[4], [70.7299 * 2, 92.2041 / 2]);
});

t.test('applyAffine / invertAffine', async (t) => {
  const m = similarity(2.5, 20, 300, 150);
  const inv = invertAffine(m);
  for (const p of TEMPLATE) {
    const q = applyAffine(inv, applyAffine(m, p));
    t.ok(close(q[0], p[0], 1e-12) && close(q[1], p[1], 1e-12));
  }
  t.same(applyAffine([1, 2, 3, 4, 5, 6], [10, 100]), [1 * 10 + 2 * 100 + 3, 4 * 10 + 5 * 100 + 6]);
  t.same(invertAffine([2, 0, 4, 0, 4, -8]), [0.5, 0, -2, 0, 0.25, 2]);
  t.throws(() => invertAffine([1, 2, 0, 2, 4, 0]), /not invertible/);
});

t.test('exact similarity is recovered (landmarks -> template within 1e-6 px)', async (t) => {
  const known = similarity(2.5, 20, 300, 150);
  const detected = TEMPLATE.map((p) => applyAffine(known, p));
  const m = estimateSimilarity(detected, TEMPLATE);
  detected.forEach((p, i) => {
    const q = applyAffine(m, p);
    t.ok(close(q[0], TEMPLATE[i][0], 1e-6) && close(q[1], TEMPLATE[i][1], 1e-6), `landmark ${i} -> ${q}`);
  });
  // The estimate is the inverse of the known transform: scale 1/2.5, rotation -20 deg.
  const expected = invertAffine(known);
  t.ok(
    m.every((v, k) => close(v, expected[k], 1e-9)),
    `${m} vs ${expected}`,
  );
  t.ok(close(m[0], Math.cos((-20 * Math.PI) / 180) / 2.5, 1e-12));
  t.ok(close(m[3], Math.sin((-20 * Math.PI) / 180) / 2.5, 1e-12));
});

t.test('noisy landmarks land within 1 px of the template', async (t) => {
  const r = rng(42);
  for (const [s, deg] of [
    [2.5, 20],
    [0.7, -35],
    [4, 170],
  ]) {
    const known = similarity(s, deg, 300, 150);
    const detected = TEMPLATE.map((p): Point => {
      const [x, y] = applyAffine(known, p);
      return [x + r() - 0.5, y + r() - 0.5];
    });
    const m = estimateSimilarity(detected, TEMPLATE);
    detected.forEach((p, i) => {
      const q = applyAffine(m, p);
      t.ok(Math.hypot(q[0] - TEMPLATE[i][0], q[1] - TEMPLATE[i][1]) < 1, `scale ${s} rot ${deg}: landmark ${i}`);
    });
  }
});

t.test('matches an independent numpy Umeyama (skimage _umeyama) to 1e-9', async (t) => {
  const lm: Point[] = [
    [420.3, 310.8],
    [505.1, 298.2],
    [470.6, 360.4],
    [432.9, 410.7],
    [497.2, 402.5],
  ];
  const line: Point[] = [
    [10, 10],
    [20, 20],
    [30, 30],
    [40, 40],
    [50, 50],
  ];
  const mirror = (ps: Point[]) => ps.map(([x, y]): Point => [-x, y]);
  // Reference values computed with numpy 2.4 using skimage's _umeyama code (estimate_scale=True).
  const cases: [string, Point[], Affine][] = [
    ['face', lm, [0.40514059090705584, -0.024573310884109682, -123.69246890537772, 0.02457331088410968, 0.40514059090705584, -83.97193915968901]],
    [
      'mirrored face',
      mirror(lm),
      [0.10592349048281814, -0.01460386037596435, 110.51045454365547, 0.014603860375964348, 0.10592349048281813, 40.930945097171815],
    ],
    ['collinear (rank 1)', line, [0.7738389999999995, -0.44495800000000013, 46.159730000000025, 0.4449579999999997, 0.7738389999999998, 35.33687000000001]],
    [
      'mirrored collinear',
      mirror(line),
      [0.4449579999999997, 0.7738389999999995, 46.15973000000001, -0.7738389999999997, 0.4449579999999993, 35.336870000000026],
    ],
  ];
  for (const [name, src, ref] of cases) {
    const m = estimateSimilarity(src, TEMPLATE);
    t.ok(
      m.every((v, k) => close(v, ref[k], 1e-9 * Math.max(1, Math.abs(ref[k])))),
      `${name}: ${m}`,
    );
  }
});

t.test('mirrored landmarks give a rotation+scale, never a reflection, and it is optimal', async (t) => {
  const r = rng(7);
  const known = similarity(3, -15, 500, 200);
  const detected = TEMPLATE.map((p): Point => {
    const [x, y] = applyAffine(known, p);
    return [-(x + r() - 0.5), y + r() - 0.5];
  });
  const m = estimateSimilarity(detected, TEMPLATE);
  t.ok(m[0] * m[4] - m[1] * m[3] > 0, 'det of the linear part > 0');
  t.ok(close(m[0], m[4], 1e-12) && close(m[1], -m[3], 1e-12), 'linear part is [[a,-b],[b,a]]');
  checkOptimal((pass, msg) => t.ok(pass, msg), detected, m);
});

t.test('noisy case is the least-squares optimum over scale+angle (brute force)', async (t) => {
  const r = rng(123);
  const known = similarity(1.8, 33, -40, 620);
  const detected = TEMPLATE.map((p): Point => {
    const [x, y] = applyAffine(known, p);
    return [x + 6 * (r() - 0.5), y + 6 * (r() - 0.5)];
  });
  const m = estimateSimilarity(detected, TEMPLATE);
  checkOptimal((pass, msg) => t.ok(pass, msg), detected, m);
  // Linear least squares over [[a,-b],[b,a]] (closed form, no SVD) must give the same matrix.
  const n = detected.length;
  const ms = detected.reduce((acc, p) => [acc[0] + p[0] / n, acc[1] + p[1] / n], [0, 0]);
  const md = TEMPLATE.reduce((acc, p) => [acc[0] + p[0] / n, acc[1] + p[1] / n], [0, 0]);
  let num_a = 0;
  let num_b = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const x = detected[i][0] - ms[0];
    const y = detected[i][1] - ms[1];
    const u = TEMPLATE[i][0] - md[0];
    const v = TEMPLATE[i][1] - md[1];
    num_a += x * u + y * v;
    num_b += x * v - y * u;
    den += x * x + y * y;
  }
  const a = num_a / den;
  const b = num_b / den;
  const lin: Affine = [a, -b, md[0] - (a * ms[0] - b * ms[1]), b, a, md[1] - (b * ms[0] + a * ms[1])];
  t.ok(
    m.every((v, k) => close(v, lin[k], 1e-9 * Math.max(1, Math.abs(lin[k])))),
    `${m} vs ${lin}`,
  );
});

/** Grid search over angle with the per-angle optimal scale and translation, then local refinement. */
function checkOptimal(ok: (pass: boolean, msg: string) => void, src: Point[], m: Affine) {
  const n = src.length;
  const ms = src.reduce((acc, p) => [acc[0] + p[0] / n, acc[1] + p[1] / n], [0, 0]);
  const md = TEMPLATE.reduce((acc, p) => [acc[0] + p[0] / n, acc[1] + p[1] / n], [0, 0]);
  const fit = (th: number): { err: number; s: number } => {
    const c = Math.cos(th);
    const sn = Math.sin(th);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const x = src[i][0] - ms[0];
      const y = src[i][1] - ms[1];
      num += (c * x - sn * y) * (TEMPLATE[i][0] - md[0]) + (sn * x + c * y) * (TEMPLATE[i][1] - md[1]);
      den += x * x + y * y;
    }
    const s = Math.max(0, num / den);
    const aff: Affine = [s * c, -s * sn, 0, s * sn, s * c, 0];
    aff[2] = md[0] - (aff[0] * ms[0] + aff[1] * ms[1]);
    aff[5] = md[1] - (aff[3] * ms[0] + aff[4] * ms[1]);
    return { err: sse(aff, src, TEMPLATE), s };
  };
  let best = 0;
  let bestErr = Infinity;
  const steps = 36000;
  for (let k = 0; k < steps; k++) {
    const th = (2 * Math.PI * k) / steps;
    const { err } = fit(th);
    if (err < bestErr) {
      bestErr = err;
      best = th;
    }
  }
  let lo = best - (2 * Math.PI) / steps;
  let hi = best + (2 * Math.PI) / steps;
  for (let k = 0; k < 200; k++) {
    const m1 = lo + (hi - lo) / 3;
    const m2 = hi - (hi - lo) / 3;
    if (fit(m1).err < fit(m2).err) hi = m2;
    else lo = m1;
  }
  const th = (lo + hi) / 2;
  const brute = fit(th);
  const ours = sse(m, src, TEMPLATE);
  ok(ours <= brute.err + 1e-9, `residual ${ours} <= brute force ${brute.err}`);
  const angle = Math.atan2(m[3], m[0]);
  const dAngle = Math.abs(Math.atan2(Math.sin(angle - th), Math.cos(angle - th)));
  ok(dAngle < 1e-6, `angle ${angle} vs brute ${th}`);
  ok(close(Math.hypot(m[0], m[3]), brute.s, 1e-6 * brute.s), `scale ${Math.hypot(m[0], m[3])} vs ${brute.s}`);
}

t.test('bad input throws', async (t) => {
  t.throws(() => estimateSimilarity([[1, 2]], [[3, 4]]), /needs two equal-length sets/);
  t.throws(() => estimateSimilarity(TEMPLATE, TEMPLATE.slice(0, 4)), /needs two equal-length sets/);
  t.throws(
    () =>
      estimateSimilarity(
        [
          [1, 1],
          [1, 1],
          [1, 1],
        ],
        TEMPLATE.slice(0, 3),
      ),
    /coincide/,
  );
});
