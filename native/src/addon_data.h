#pragma once

#include <napi.h>

// Per-environment state, so the addon also works in worker threads.
struct AddonData {
  Napi::FunctionReference model_constructor;
};
