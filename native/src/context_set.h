#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rknn_library.h"

// The contexts of one model: the original from rknn_init, then its rknn_dup_context copies.
// Index 0 is the original. The set destroys what it holds when it goes away.
class ContextSet {
 public:
  // Creates `count` contexts and applies `core_mask` to each (after the dups; none when empty).
  // On failure destroys whatever it created and throws RknnFailure (or std::runtime_error when
  // the library lacks a needed symbol).
  ContextSet(std::shared_ptr<const RknnLibrary> lib, const std::string& model_path, uint32_t flags,
             uint32_t count, std::optional<int> core_mask);
  ~ContextSet();
  ContextSet(const ContextSet&) = delete;
  ContextSet& operator=(const ContextSet&) = delete;

  size_t size() const { return contexts_.size(); }
  rknn_context at(size_t index) const { return contexts_.at(index); }

  // Destroys the dup'ed contexts first, then the original (the dups share its weights). Tries
  // every context even after a failure, then throws the first RknnFailure.
  void DestroyAll();

 private:
  std::shared_ptr<const RknnLibrary> lib_;
  std::vector<rknn_context> contexts_;
};
