#pragma once

#include <napi.h>

#include <string>

// A non-zero return code of a runtime call. Thrown on worker threads, turned into a JS error on
// the JS thread by MakeRknnError.
struct RknnFailure {
  std::string function;
  int code;
  std::string detail;  // optional context, e.g. the model path or output index
};

const char* RknnCodeName(int code);

// Throws RknnFailure when rc != 0.
void CheckRknn(int rc, const char* function, const std::string& detail = std::string());

// Error with .function, .code (number) and .codeName; the message has all three.
Napi::Error MakeRknnError(Napi::Env env, const RknnFailure& failure);
