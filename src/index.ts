export { createBackend, type FaceBackend, type BackendInfo, type CreateBackendOptions } from './backend.js';
export { loadConfig, ConfigError, VARIABLES, type Config } from './config.js';
export { LumenError } from './errors.js';
export type { EmbedOptions, EmbeddedBox, EmbeddedFace, DetectedFace, PipelineResult } from './pipeline/pipeline.js';
export type { DetectOptionsInput as DetectOptions } from './pipeline/options.js';
export type { BoxInput } from './pipeline/boxes.js';
export type { ImageInput } from './image/source.js';
export type { Box, Landmarks, Point, RgbImage, Logger } from './types.js';
