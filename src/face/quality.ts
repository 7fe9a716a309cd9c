import type { Box, Landmarks } from '../types.js';
import { ARCFACE_TEMPLATE_112 } from './arcface.js';

/**
 * Face quality from geometry alone: head pose from the five landmarks, and the constants that define
 * the sharpness measure (the pixel work itself runs in sharp, see src/pipeline/quality.ts).
 */

export interface HeadPose {
  /** Degrees; positive when the face turns towards the image's right (the nose points right). Null when unreadable. */
  yaw: number | null;
  /** Degrees; positive when the face tilts up (the nose rises towards the eyes). Null when unreadable. */
  pitch: number | null;
  /** Degrees; the eye line's angle, positive when the face is rotated clockwise in the image. */
  roll: number;
}

export interface FaceQuality {
  yaw: number | null;
  pitch: number | null;
  roll: number | null;
  /** Variance of the Laplacian on the aligned 112x112 gray face (see SHARPNESS_REGION). */
  sharpness: number;
  /** Shorter side of the box in pixels. */
  size: number;
}

/**
 * The ArcFace template is where a frontal face's landmarks sit. Its proportions give the frontal
 * references below, so a face that fits it has yaw, pitch and roll within a degree of 0.
 */
const TEMPLATE = ARCFACE_TEMPLATE_112;

/**
 * How far the nose tip stands in front of the plane of the eyes and mouth corners, in inter-ocular
 * distances. Anthropometric averages: the tip projects about 25 mm in front of the eyes and mouth
 * corners, and pupils are about 63 mm apart. A landmark-only estimate cannot know a person's nose, so
 * absolute angles are approximate (a few degrees near frontal, more near profile); signs and order are reliable.
 */
const NOSE_DEPTH_PER_EYE_DISTANCE = 0.4;

/**
 * Head pose from five landmarks (left eye, right eye, nose, left mouth corner, right mouth corner).
 *
 * Method, a weak-perspective model of a rigid face:
 * - roll is the angle of the eye line; the points are then rotated by -roll about the eye midpoint,
 *   so yaw and pitch are read in the face's own frame;
 * - the eye midpoint E and the mouth midpoint M lie on the face's midline, in the face plane; the nose
 *   tip N stands d in front of it. Turning the head by yaw moves N sideways by d·sin(yaw) while the
 *   eye distance shrinks to D·cos(yaw), so (N.x - midline.x) / eye distance = (d/D)·tan(yaw);
 * - tilting by pitch moves N vertically by d·sin(pitch) while E–M shrinks to H·cos(pitch), so the
 *   nose's fraction of the way from E to M drops below its frontal value t0 by (d/H)·tan(pitch).
 * The midline x is taken on the E–M line at the nose's height, so a residual tilt does not read as yaw.
 * Only ratios of landmark distances enter, so the estimate does not depend on the face's size.
 */
export function headPose(landmarks: Landmarks): HeadPose {
  const [leftEye, rightEye, nose, leftMouth, rightMouth] = landmarks;
  const roll = Math.atan2(rightEye[1] - leftEye[1], rightEye[0] - leftEye[0]);
  const eyes = midpoint(leftEye, rightEye);
  const cos = Math.cos(-roll);
  const sin = Math.sin(-roll);
  // Into the face's frame: origin at the eye midpoint, x along the eye line, y down the face.
  const local = (p: readonly [number, number]): [number, number] => {
    const dx = p[0] - eyes[0];
    const dy = p[1] - eyes[1];
    return [dx * cos - dy * sin, dx * sin + dy * cos];
  };
  const mouth = local(midpoint(leftMouth, rightMouth));
  const n = local(nose);
  const eyeDistance = Math.hypot(rightEye[0] - leftEye[0], rightEye[1] - leftEye[1]);
  const eyeToMouth = mouth[1];
  if (!(eyeDistance > 0) || !(eyeToMouth > 0)) {
    // Degenerate (collapsed or upside-down) landmarks: no pose can be read from them.
    return { yaw: null, pitch: null, roll: degrees(roll) };
  }
  const t = n[1] / eyeToMouth;
  const midlineX = mouth[0] * t;
  const yaw = Math.atan((n[0] - midlineX) / eyeDistance / NOSE_DEPTH_PER_EYE_DISTANCE);
  const pitch = Math.atan((FRONTAL.noseFraction - t) / (NOSE_DEPTH_PER_EYE_DISTANCE * FRONTAL.eyeDistancePerEyeToMouth));
  return { yaw: degrees(yaw), pitch: degrees(pitch), roll: degrees(roll) };
}

/** The template's proportions: the nose's fraction of the way from eyes to mouth, and D/H. */
const FRONTAL = (() => {
  const eyes = midpoint(TEMPLATE[0], TEMPLATE[1]);
  const mouth = midpoint(TEMPLATE[3], TEMPLATE[4]);
  const eyeToMouth = mouth[1] - eyes[1];
  return {
    noseFraction: (TEMPLATE[2][1] - eyes[1]) / eyeToMouth,
    eyeDistancePerEyeToMouth: (TEMPLATE[1][0] - TEMPLATE[0][0]) / eyeToMouth,
  };
})();

/**
 * Sharpness is measured on the face aligned to the 112x112 ArcFace template, so every face is seen at
 * the same scale whatever its size in the photo: a small face upscaled to the template is blurry there,
 * as it should be, and a large one is shrunk with antialiasing. Only the inner face is measured, from
 * the brows to the chin, so background and the black border of faces at the image edge stay out.
 */
export const SHARPNESS_CROP = { width: 112, height: 112 } as const;
export const SHARPNESS_REGION = { left: 24, top: 32, width: 64, height: 72 } as const;
/** The 4-neighbour Laplacian. */
export const LAPLACIAN_KERNEL = { width: 3, height: 3, kernel: [0, 1, 0, 1, -4, 1, 0, 1, 0] } as const;

export function shorterSide(box: Box): number {
  return Math.min(box[2] - box[0], box[3] - box[1]);
}

/** The quality knobs: faces outside them are dropped. */
export interface QualityFilter {
  max_yaw?: number;
  min_sharpness?: number;
}

/** Whether a face passes the knobs. A face whose pose cannot be read fails a max_yaw. */
export function passesPose(yaw: number | null, filter: QualityFilter): boolean {
  if (filter.max_yaw === undefined) return true;
  return yaw !== null && Math.abs(yaw) <= filter.max_yaw;
}

export function passesSharpness(sharpness: number, filter: QualityFilter): boolean {
  return filter.min_sharpness === undefined || sharpness >= filter.min_sharpness;
}

function midpoint(a: readonly [number, number], b: readonly [number, number]): [number, number] {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

const degrees = (radians: number) => (radians * 180) / Math.PI;
