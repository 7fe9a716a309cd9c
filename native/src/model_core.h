#pragma once

#include <memory>
#include <optional>
#include <string>

#include "context_set.h"
#include "model_info.h"
#include "rknn_library.h"

// Everything native about one opened model; the JS wrapper (Model) owns it.
struct ModelCore {
  std::string path;
  std::shared_ptr<const RknnLibrary> lib;
  std::unique_ptr<ContextSet> contexts;
  ModelInfo info;
  uint32_t flags = 0;
  std::optional<int> core_mask;

  bool collect_perf() const { return (flags & RKNN_FLAG_COLLECT_PERF_MASK) != 0; }
};
