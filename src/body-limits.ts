/** The largest JSON body any route takes (multipart uploads have LUMEN_FACE_MAX_UPLOAD_BYTES instead). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * The JSON body limit of an image route: JSON carries each image in base64, 4 characters per 3 bytes,
 * and the slack holds the other keys (boxes, knobs), so LUMEN_FACE_MAX_UPLOAD_BYTES of photos still fit.
 */
export const jsonBodyLimit = (maxUploadBytes: number) => Math.ceil((maxUploadBytes * 4) / 3) + MAX_JSON_BODY_BYTES;
