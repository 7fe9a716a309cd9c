#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "rknn_abi.h"

// The entry points of one dlopen'ed librknnrt. Optional ones are null when the library lacks them.
struct RknnLibrary {
  std::string path;
  rknn_init_fn init = nullptr;
  rknn_destroy_fn destroy = nullptr;
  rknn_query_fn query = nullptr;
  rknn_inputs_set_fn inputs_set = nullptr;
  rknn_run_fn run = nullptr;
  rknn_outputs_get_fn outputs_get = nullptr;
  rknn_outputs_release_fn outputs_release = nullptr;
  rknn_dup_context_fn dup_context = nullptr;      // optional: only needed for contexts > 1
  rknn_set_core_mask_fn set_core_mask = nullptr;  // optional: only needed with a core mask
};

class LibraryLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Loads the library on first use of `path` and keeps it loaded for the life of the process:
// unloading a runtime with live NPU contexts is never safe. A path without '/' goes through the
// default search path. Throws LibraryLoadError naming the path and dlerror().
std::shared_ptr<const RknnLibrary> LoadRknnLibrary(const std::string& path);
