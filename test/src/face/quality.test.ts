import t from 'tap';
import { ARCFACE_TEMPLATE_112 } from '../../../src/face/arcface.js';
import { headPose, passesPose, passesSharpness, shorterSide } from '../../../src/face/quality.js';
import type { Landmarks, Point } from '../../../src/types.js';

const TEMPLATE = ARCFACE_TEMPLATE_112 as Landmarks;

const rotate = (points: readonly Point[], degrees: number, about: Point = [56, 72]): Landmarks => {
  const r = (degrees * Math.PI) / 180;
  return points.map(([x, y]) => {
    const dx = x - about[0];
    const dy = y - about[1];
    return [about[0] + dx * Math.cos(r) - dy * Math.sin(r), about[1] + dx * Math.sin(r) + dy * Math.cos(r)];
  }) as Landmarks;
};

/** Mirror left-right: x flips, and the detector's "left" points become the other side's. */
const mirror = (p: Landmarks, width = 112): Landmarks => {
  const m = p.map(([x, y]) => [width - x, y] as Point);
  return [m[1], m[0], m[2], m[4], m[3]];
};

/**
 * A rigid 3D face (eyes and mouth corners in the plane z = 0, nose tip d = 0.4 eye distances in
 * front, the template's proportions) turned by yaw and pitch and projected orthographically.
 */
function turnedFace(yawDeg: number, pitchDeg: number): Landmarks {
  const eyeDistance = TEMPLATE[1][0] - TEMPLATE[0][0];
  const centre: Point = [(TEMPLATE[0][0] + TEMPLATE[1][0]) / 2, (TEMPLATE[0][1] + TEMPLATE[1][1]) / 2];
  const points3d = TEMPLATE.map(([x, y], i) => [x - centre[0], y - centre[1], i === 2 ? 0.4 * eyeDistance : 0]);
  const yaw = (yawDeg * Math.PI) / 180;
  const pitch = (pitchDeg * Math.PI) / 180;
  return points3d.map(([x, y, z]) => {
    // Yaw about the vertical axis: the nose (z > 0) moves towards +x for a positive yaw.
    const x1 = x * Math.cos(yaw) + z * Math.sin(yaw);
    const z1 = -x * Math.sin(yaw) + z * Math.cos(yaw);
    // Pitch about the horizontal axis: the nose moves up (towards -y) for a positive pitch.
    const y2 = y * Math.cos(pitch) - z1 * Math.sin(pitch);
    return [x1 + 300, y2 + 200];
  }) as Landmarks;
}

t.test('the ArcFace template is frontal and upright, and roll is exactly its rotation', async (t) => {
  for (const angle of [-30, 30]) {
    const roll = headPose(rotate(TEMPLATE, angle)).roll as number;
    t.ok(Math.abs(roll - angle - (headPose(TEMPLATE).roll as number)) < 1e-9, `roll ${roll} for ${angle}`);
  }
  const pose = headPose(TEMPLATE);
  t.ok(Math.abs(pose.yaw as number) < 1, `yaw ${pose.yaw}`);
  t.ok(Math.abs(pose.pitch as number) < 1, `pitch ${pose.pitch}`);
  t.ok(Math.abs(pose.roll as number) < 1, `roll ${pose.roll}`);
});

t.test('roll is the in-plane rotation, clockwise positive in image coordinates; yaw and pitch ignore it', async (t) => {
  const base = headPose(turnedFace(20, 10));
  for (const angle of [-150, -60, -30, 0, 15, 30, 90, 179]) {
    const pose = headPose(rotate(turnedFace(20, 10), angle));
    // A face turned in depth has an eye line a few degrees off already; the rotation adds to it.
    const turn = (pose.roll as number) - (base.roll as number);
    t.ok(Math.abs(((((turn - angle) % 360) + 540) % 360) - 180) < 1e-6, `roll ${pose.roll} (base ${base.roll}) for a ${angle} degree rotation`);
    t.ok(Math.abs((pose.yaw as number) - (base.yaw as number)) < 1e-6, `yaw unchanged at ${angle}`);
    t.ok(Math.abs((pose.pitch as number) - (base.pitch as number)) < 1e-6, `pitch unchanged at ${angle}`);
  }
});

t.test('yaw and pitch recover the turn of a rigid face with the modelled nose depth', async (t) => {
  for (const yaw of [-60, -30, -10, 0, 10, 30, 60]) {
    const pose = headPose(turnedFace(yaw, 0));
    t.ok(Math.abs((pose.yaw as number) - yaw) < 0.5, `yaw ${pose.yaw} for ${yaw}`);
    t.ok(Math.abs(pose.pitch as number) < 1, `pitch ${pose.pitch} for a pure yaw of ${yaw}`);
  }
  for (const pitch of [-40, -15, 0, 15, 40]) {
    const pose = headPose(turnedFace(0, pitch));
    t.ok(Math.abs((pose.pitch as number) - pitch) < 1, `pitch ${pose.pitch} for ${pitch}`);
    t.ok(Math.abs(pose.yaw as number) < 1, `yaw ${pose.yaw} for a pure pitch of ${pitch}`);
  }
});

t.test('the order of yaw follows the turn, and a mirror flips its sign', async (t) => {
  const yaws = [-70, -45, -20, 0, 20, 45, 70].map((y) => headPose(turnedFace(y, 5)).yaw as number);
  for (let i = 1; i < yaws.length; i++) t.ok(yaws[i] > yaws[i - 1], `yaw increases: ${yaws.join(', ')}`);
  for (const y of [-40, 25]) {
    const face = turnedFace(y, 5);
    const a = headPose(face);
    const b = headPose(mirror(face, 600));
    t.ok(Math.abs((a.yaw as number) + (b.yaw as number)) < 1e-9, `mirrored yaw ${b.yaw} against ${a.yaw}`);
    t.ok(Math.abs((a.roll as number) + (b.roll as number)) < 1e-9, 'mirrored roll flips too');
    t.ok(Math.abs((a.pitch as number) - (b.pitch as number)) < 1e-9, 'pitch is unchanged by a mirror');
  }
});

t.test('the pose does not depend on the face size or position', async (t) => {
  const face = turnedFace(25, -10);
  const scaled = face.map(([x, y]) => [x * 7.5 + 1000, y * 7.5 - 40]) as Landmarks;
  const a = headPose(face);
  const b = headPose(scaled);
  for (const k of ['yaw', 'pitch', 'roll'] as const) t.ok(Math.abs((a[k] as number) - (b[k] as number)) < 1e-9, k);
});

t.test('degenerate landmarks give no yaw or pitch instead of a number', async (t) => {
  const collapsed = TEMPLATE.map(() => [10, 10]) as Landmarks;
  const pose = headPose(collapsed);
  t.equal(pose.yaw, null);
  t.equal(pose.pitch, null);
});

t.test('knobs', async (t) => {
  t.equal(shorterSide([10, 20, 110, 70]), 50);
  t.ok(passesPose(80, {}), 'no knob keeps every face');
  t.ok(passesPose(-30, { max_yaw: 30 }));
  t.notOk(passesPose(-30.01, { max_yaw: 30 }));
  t.notOk(passesPose(null, { max_yaw: 90 }), 'an unreadable pose fails a max_yaw');
  t.ok(passesSharpness(0, {}));
  t.ok(passesSharpness(100, { min_sharpness: 100 }));
  t.notOk(passesSharpness(99.9, { min_sharpness: 100 }));
});
