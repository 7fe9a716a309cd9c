import { RknnTensorFormat, RknnTensorType, tensorFormatName, tensorTypeName, type RknnModel, type RknnTensorAttr } from './addon.js';

/** How RGB pixels become the bytes of a model input, decided from the queried attribute. */
export interface InputPlan {
  /** raw: the model has mean/std baked in and takes the RGB bytes. */
  feed: 'raw' | 'float32' | 'float16';
  layout: 'NHWC' | 'NCHW';
  batch: number;
  height: number;
  width: number;
  /** The rknn_input type and fmt of what we send. */
  type: number;
  fmt: number;
}

export function describeAttr(attr: RknnTensorAttr): string {
  return `"${attr.name}" [${attr.dims.join(',')}] ${tensorTypeName(attr.type)} ${tensorFormatName(attr.fmt)}`;
}

/** `normalised`: the pack declares float input, so integer attributes are fed floats too (the runtime converts). */
export function planInput(role: string, model: RknnModel, normalised = false): InputPlan {
  if (model.inputs.length !== 1) {
    throw new Error(`the ${role} model has ${model.inputs.length} inputs, expected one image input`);
  }
  const attr = model.inputs[0];
  const bad = (why: string) => new Error(`the ${role} model input ${describeAttr(attr)} is not usable: ${why}`);
  if (attr.dims.length !== 4) throw bad('expected a 4-D image tensor');

  let layout: InputPlan['layout'];
  if (attr.fmt === RknnTensorFormat.NHWC) layout = 'NHWC';
  else if (attr.fmt === RknnTensorFormat.NCHW) layout = 'NCHW';
  else throw bad('expected format NHWC or NCHW');
  const [batch, a, b, c] = attr.dims;
  const [height, width, channels] = layout === 'NHWC' ? [a, b, c] : [b, c, a];
  if (channels !== 3) throw bad(`expected 3 channels, the ${layout} dims say ${channels}`);
  if (!(batch >= 1)) throw bad('expected a fixed batch size');

  const fmt = RknnTensorFormat[layout];
  switch (attr.type) {
    // Integer inputs mean mean/std were baked in at conversion: the runtime normalises (and
    // quantises, for INT8) the bytes itself.
    case RknnTensorType.UINT8:
    case RknnTensorType.INT8:
      if (normalised) return { feed: 'float32', layout, batch, height, width, type: RknnTensorType.FLOAT32, fmt };
      return { feed: 'raw', layout, batch, height, width, type: RknnTensorType.UINT8, fmt };
    case RknnTensorType.FLOAT32:
      return { feed: 'float32', layout, batch, height, width, type: RknnTensorType.FLOAT32, fmt };
    case RknnTensorType.FLOAT16:
      return { feed: 'float16', layout, batch, height, width, type: RknnTensorType.FLOAT16, fmt };
    default:
      throw bad('only UINT8, INT8, FLOAT32 and FLOAT16 inputs are supported');
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** IEEE binary16 of a float, rounded to nearest even. */
export function toFloat16(value: number): number {
  scratch[0] = value;
  const x = scratchBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is still right
  return sign | h;
}

/** Floats as IEEE binary16, for a FLOAT16 input. */
export function toHalves(floats: Float32Array): Uint16Array {
  const halves = new Uint16Array(floats.length);
  for (let i = 0; i < floats.length; i++) halves[i] = toFloat16(floats[i]);
  return halves;
}

export function feedName(plan: InputPlan): string {
  if (plan.feed === 'raw') return 'raw RGB bytes (mean/std baked into the model)';
  return `normalised ${plan.feed} ${plan.layout}`;
}
