#pragma once

#include <string>
#include <vector>

#include "rknn_library.h"

struct ModelInfo {
  std::vector<rknn_tensor_attr> inputs;
  std::vector<rknn_tensor_attr> outputs;
  std::string api_version;
  std::string driver_version;
};

// Queries IN_OUT_NUM, every INPUT_ATTR and OUTPUT_ATTR, and SDK_VERSION. Throws RknnFailure.
ModelInfo QueryModelInfo(const RknnLibrary& lib, rknn_context ctx);
