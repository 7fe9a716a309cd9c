#pragma once

#include <cstdint>
#include <vector>

#include "rknn_library.h"

struct RunInput {
  std::vector<uint8_t> bytes;  // our own copy: the JS buffer may change while the run is queued
  int32_t type;
  int32_t fmt;
};

struct RunResult {
  std::vector<std::vector<float>> outputs;
  bool has_perf = false;
  int64_t run_duration_us = 0;
};

// One inference on one context: inputs_set, run, outputs_get (want_float, runtime-allocated),
// copy, outputs_release, then PERF_RUN when asked. Blocking; called off the JS thread.
// Throws RknnFailure.
RunResult RunOnce(const RknnLibrary& lib, rknn_context ctx, std::vector<RunInput>& inputs, uint32_t n_outputs,
                  bool collect_perf);
