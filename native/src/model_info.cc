#include "model_info.h"

#include <cstring>

#include "rknn_status.h"

namespace {

std::vector<rknn_tensor_attr> QueryAttrs(const RknnLibrary& lib, rknn_context ctx, int cmd, uint32_t count,
                                         const char* what) {
  std::vector<rknn_tensor_attr> attrs(count);
  for (uint32_t i = 0; i < count; i++) {
    rknn_tensor_attr& attr = attrs[i];
    std::memset(&attr, 0, sizeof(attr));
    attr.index = i;
    CheckRknn(lib.query(ctx, cmd, &attr, sizeof(attr)), "rknn_query", std::string(what) + " " + std::to_string(i));
  }
  return attrs;
}

std::string Terminated(const char* text, size_t capacity) { return std::string(text, strnlen(text, capacity)); }

}  // namespace

ModelInfo QueryModelInfo(const RknnLibrary& lib, rknn_context ctx) {
  rknn_input_output_num io{};
  CheckRknn(lib.query(ctx, RKNN_QUERY_IN_OUT_NUM, &io, sizeof(io)), "rknn_query", "IN_OUT_NUM");

  ModelInfo info;
  info.inputs = QueryAttrs(lib, ctx, RKNN_QUERY_INPUT_ATTR, io.n_input, "INPUT_ATTR");
  info.outputs = QueryAttrs(lib, ctx, RKNN_QUERY_OUTPUT_ATTR, io.n_output, "OUTPUT_ATTR");

  rknn_sdk_version version{};
  CheckRknn(lib.query(ctx, RKNN_QUERY_SDK_VERSION, &version, sizeof(version)), "rknn_query", "SDK_VERSION");
  info.api_version = Terminated(version.api_version, sizeof(version.api_version));
  info.driver_version = Terminated(version.drv_version, sizeof(version.drv_version));
  return info;
}
