#include "run_inputs.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace {

struct ByteView {
  const uint8_t* data;
  size_t length;
};

ByteView BytesOf(Napi::Env env, Napi::Value value, uint32_t index) {
  if (value.IsTypedArray()) {
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    const uint8_t* base = static_cast<const uint8_t*>(array.ArrayBuffer().Data());
    return {base + array.ByteOffset(), array.ByteLength()};
  }
  if (value.IsDataView()) {
    Napi::DataView view = value.As<Napi::DataView>();
    const uint8_t* base = static_cast<const uint8_t*>(view.ArrayBuffer().Data());
    return {base + view.ByteOffset(), view.ByteLength()};
  }
  throw Napi::TypeError::New(env, "run: input " + std::to_string(index) + " must be a typed array or DataView");
}

int32_t IntOption(Napi::Env env, Napi::Object spec, const char* key, int32_t fallback, uint32_t index) {
  Napi::Value value = spec.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(env, "run: inputs[" + std::to_string(index) + "]." + key + " must be a number");
  }
  return value.As<Napi::Number>().Int32Value();
}

}  // namespace

std::vector<RunInput> ParseRunInputs(Napi::Value buffers, Napi::Value options,
                                     const std::vector<rknn_tensor_attr>& attrs) {
  Napi::Env env = buffers.Env();
  if (!buffers.IsArray()) throw Napi::TypeError::New(env, "run: buffers must be an array, one per model input");
  Napi::Array list = buffers.As<Napi::Array>();
  if (list.Length() != attrs.size()) {
    throw Napi::TypeError::New(env, "run: the model has " + std::to_string(attrs.size()) + " input(s), got " +
                                        std::to_string(list.Length()) + " buffer(s)");
  }

  Napi::Array specs;
  if (options.IsObject()) {
    Napi::Value value = options.As<Napi::Object>().Get("inputs");
    if (value.IsArray()) specs = value.As<Napi::Array>();
    else if (!value.IsUndefined()) throw Napi::TypeError::New(env, "run: options.inputs must be an array");
  }

  std::vector<RunInput> inputs(attrs.size());
  for (uint32_t i = 0; i < attrs.size(); i++) {
    ByteView bytes = BytesOf(env, list.Get(i), i);
    if (bytes.length > std::numeric_limits<uint32_t>::max()) {
      throw Napi::TypeError::New(env, "run: input " + std::to_string(i) + " is larger than 4 GiB");
    }
    inputs[i].bytes.assign(bytes.data, bytes.data + bytes.length);
    inputs[i].type = attrs[i].type;
    inputs[i].fmt = attrs[i].fmt;
    if (!specs.IsEmpty() && i < specs.Length() && specs.Get(i).IsObject()) {
      Napi::Object spec = specs.Get(i).As<Napi::Object>();
      inputs[i].type = IntOption(env, spec, "type", inputs[i].type, i);
      inputs[i].fmt = IntOption(env, spec, "fmt", inputs[i].fmt, i);
    }
  }
  return inputs;
}
