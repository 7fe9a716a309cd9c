#include "context_set.h"

#include <stdexcept>

#include "rknn_status.h"

ContextSet::ContextSet(std::shared_ptr<const RknnLibrary> lib, const std::string& model_path,
                       uint32_t flags, uint32_t count, std::optional<int> core_mask)
    : lib_(std::move(lib)) {
  if (count > 1 && lib_->dup_context == nullptr) {
    throw std::runtime_error("\"" + lib_->path + "\" has no rknn_dup_context, needed for contexts > 1");
  }
  if (core_mask && lib_->set_core_mask == nullptr) {
    throw std::runtime_error("\"" + lib_->path + "\" has no rknn_set_core_mask, needed for a core mask");
  }

  // A size of 0 tells rknn_init that `model` is a file path.
  rknn_context original = 0;
  CheckRknn(lib_->init(&original, const_cast<char*>(model_path.c_str()), 0, flags, nullptr), "rknn_init",
            model_path);
  contexts_.push_back(original);

  try {
    for (uint32_t i = 1; i < count; i++) {
      rknn_context dup = 0;
      CheckRknn(lib_->dup_context(&original, &dup), "rknn_dup_context", model_path);
      contexts_.push_back(dup);
    }
    if (core_mask) {
      for (rknn_context ctx : contexts_) {
        CheckRknn(lib_->set_core_mask(ctx, *core_mask), "rknn_set_core_mask",
                  "mask " + std::to_string(*core_mask));
      }
    }
  } catch (...) {
    try {
      DestroyAll();
    } catch (const RknnFailure&) {
      // The first failure is the one worth reporting.
    }
    throw;
  }
}

ContextSet::~ContextSet() {
  try {
    DestroyAll();
  } catch (const RknnFailure&) {
  }
}

void ContextSet::DestroyAll() {
  std::optional<RknnFailure> first;
  while (!contexts_.empty()) {
    rknn_context ctx = contexts_.back();
    contexts_.pop_back();
    int rc = lib_->destroy(ctx);
    if (rc != RKNN_SUCC && !first) first = RknnFailure{"rknn_destroy", rc, std::string()};
  }
  if (first) throw *first;
}
