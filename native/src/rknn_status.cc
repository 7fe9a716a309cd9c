#include "rknn_status.h"

#include "rknn_abi.h"

const char* RknnCodeName(int code) {
  switch (code) {
    case RKNN_SUCC: return "RKNN_SUCC";
    case RKNN_ERR_FAIL: return "RKNN_ERR_FAIL";
    case RKNN_ERR_TIMEOUT: return "RKNN_ERR_TIMEOUT";
    case RKNN_ERR_DEVICE_UNAVAILABLE: return "RKNN_ERR_DEVICE_UNAVAILABLE";
    case RKNN_ERR_MALLOC_FAIL: return "RKNN_ERR_MALLOC_FAIL";
    case RKNN_ERR_PARAM_INVALID: return "RKNN_ERR_PARAM_INVALID";
    case RKNN_ERR_MODEL_INVALID: return "RKNN_ERR_MODEL_INVALID";
    case RKNN_ERR_CTX_INVALID: return "RKNN_ERR_CTX_INVALID";
    case RKNN_ERR_INPUT_INVALID: return "RKNN_ERR_INPUT_INVALID";
    case RKNN_ERR_OUTPUT_INVALID: return "RKNN_ERR_OUTPUT_INVALID";
    case RKNN_ERR_DEVICE_UNMATCH: return "RKNN_ERR_DEVICE_UNMATCH";
    default: return "RKNN_ERR_UNKNOWN";
  }
}

void CheckRknn(int rc, const char* function, const std::string& detail) {
  if (rc != RKNN_SUCC) throw RknnFailure{function, rc, detail};
}

Napi::Error MakeRknnError(Napi::Env env, const RknnFailure& failure) {
  const char* name = RknnCodeName(failure.code);
  std::string message = failure.function + " failed: " + name + " (" + std::to_string(failure.code) + ")";
  if (!failure.detail.empty()) message += " [" + failure.detail + "]";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("function", Napi::String::New(env, failure.function));
  error.Set("code", Napi::Number::New(env, failure.code));
  error.Set("codeName", Napi::String::New(env, name));
  return error;
}
