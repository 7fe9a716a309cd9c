#pragma once

#include <napi.h>

#include <vector>

#include "rknn_abi.h"
#include "run_job.h"

// Copies run(buffers, {inputs: [{type, fmt}]}) into RunInputs: one typed array (or DataView) per
// model input. type and fmt default to the queried attribute's. Throws Napi::TypeError.
std::vector<RunInput> ParseRunInputs(Napi::Value buffers, Napi::Value options,
                                     const std::vector<rknn_tensor_attr>& attrs);
