#include "run_job.h"

#include <cstring>
#include <string>

#include "rknn_status.h"

RunResult RunOnce(const RknnLibrary& lib, rknn_context ctx, std::vector<RunInput>& inputs, uint32_t n_outputs,
                  bool collect_perf) {
  std::vector<rknn_input> in(inputs.size());
  for (size_t i = 0; i < inputs.size(); i++) {
    std::memset(&in[i], 0, sizeof(rknn_input));
    in[i].index = static_cast<uint32_t>(i);
    in[i].buf = inputs[i].bytes.data();
    in[i].size = static_cast<uint32_t>(inputs[i].bytes.size());
    in[i].pass_through = 0;
    in[i].type = inputs[i].type;
    in[i].fmt = inputs[i].fmt;
  }
  CheckRknn(lib.inputs_set(ctx, static_cast<uint32_t>(in.size()), in.data()), "rknn_inputs_set");
  CheckRknn(lib.run(ctx, nullptr), "rknn_run");

  std::vector<rknn_output> out(n_outputs);
  for (uint32_t i = 0; i < n_outputs; i++) {
    std::memset(&out[i], 0, sizeof(rknn_output));
    out[i].want_float = 1;
    out[i].is_prealloc = 0;
    out[i].index = i;
  }
  CheckRknn(lib.outputs_get(ctx, n_outputs, out.data(), nullptr), "rknn_outputs_get");

  RunResult result;
  result.outputs.resize(n_outputs);
  int64_t missing = -1;
  for (uint32_t i = 0; i < n_outputs; i++) {
    if (out[i].buf == nullptr) {
      if (missing < 0) missing = i;
      continue;
    }
    const float* values = static_cast<const float*>(out[i].buf);
    result.outputs[i].assign(values, values + out[i].size / sizeof(float));
  }
  // Released even when a buffer was missing, so the runtime's allocations never leak.
  CheckRknn(lib.outputs_release(ctx, n_outputs, out.data()), "rknn_outputs_release");
  if (missing >= 0) {
    throw RknnFailure{"rknn_outputs_get", RKNN_ERR_OUTPUT_INVALID, "no buffer for output " + std::to_string(missing)};
  }

  if (collect_perf) {
    rknn_perf_run perf{};
    CheckRknn(lib.query(ctx, RKNN_QUERY_PERF_RUN, &perf, sizeof(perf)), "rknn_query", "PERF_RUN");
    result.has_perf = true;
    result.run_duration_us = perf.run_duration;
  }
  return result;
}
