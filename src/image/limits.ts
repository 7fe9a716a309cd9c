export interface ImageLimits {
  /** Largest image accepted, in pixels (width x height), checked from the header before decoding. */
  maxPixels: number;
}
