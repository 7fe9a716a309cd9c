/** The largest JSON body any route takes (multipart uploads have LUMEN_FACE_MAX_UPLOAD_BYTES instead). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;
