#include <napi.h>

#include <cmath>
#include <optional>
#include <stdexcept>

#include "addon_data.h"
#include "model.h"
#include "rknn_status.h"

namespace {

constexpr uint32_t kMaxContexts = 64;

std::optional<double> NumberOption(Napi::Object options, const char* key) {
  Napi::Value value = options.Get(key);
  if (value.IsUndefined() || value.IsNull()) return std::nullopt;
  if (!value.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("open: ") + key + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number != std::floor(number)) {
    throw Napi::TypeError::New(options.Env(), std::string("open: ") + key + " must be an integer");
  }
  return number;
}

// open(modelPath, {libraryPath, contexts?, coreMask?, flags?}) -> RknnModel. Blocks while the
// runtime loads the model; that happens once, at startup.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "open: modelPath must be a string");
  Napi::Object options = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);

  auto core = std::make_unique<ModelCore>();
  core->path = info[0].As<Napi::String>();

  // The default (LUMEN_FACE_RKNN_LIBRARY's) lives in src/config.ts only.
  Napi::Value library = options.Get("libraryPath");
  if (!library.IsString()) throw Napi::TypeError::New(env, "open: libraryPath must be a string, the path or file name of librknnrt.so");
  std::string library_path = library.As<Napi::String>().Utf8Value();

  double contexts = NumberOption(options, "contexts").value_or(1);
  if (contexts < 1 || contexts > kMaxContexts) {
    throw Napi::RangeError::New(env, "open: contexts must be between 1 and " + std::to_string(kMaxContexts));
  }
  if (auto mask = NumberOption(options, "coreMask")) {
    if (*mask < 0 || *mask > 0xffff) throw Napi::RangeError::New(env, "open: coreMask must be between 0 and 0xffff");
    core->core_mask = static_cast<int>(*mask);
  }
  double flags = NumberOption(options, "flags").value_or(0);
  if (flags < 0 || flags > 0xffffffffu) throw Napi::RangeError::New(env, "open: flags must be a uint32");
  core->flags = static_cast<uint32_t>(flags);

  try {
    core->lib = LoadRknnLibrary(library_path);
  } catch (const LibraryLoadError& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("libraryPath", Napi::String::New(env, library_path));
    throw error;
  }

  try {
    core->contexts = std::make_unique<ContextSet>(core->lib, core->path, core->flags,
                                                  static_cast<uint32_t>(contexts), core->core_mask);
    core->info = QueryModelInfo(*core->lib, core->contexts->at(0));
  } catch (const RknnFailure& failure) {
    throw MakeRknnError(env, failure);
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(env, e.what());
  }
  return Model::NewInstance(env, std::move(core));
}

Napi::Object Abi(Napi::Env env) {
  Napi::Object abi = Napi::Object::New(env);
  abi.Set("tensorAttrSize", Napi::Number::New(env, sizeof(rknn_tensor_attr)));
  abi.Set("inputSize", Napi::Number::New(env, sizeof(rknn_input)));
  abi.Set("outputSize", Napi::Number::New(env, sizeof(rknn_output)));
  abi.Set("contextSize", Napi::Number::New(env, sizeof(rknn_context)));
  return abi;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->model_constructor = Napi::Persistent(Model::DefineClass(env));
  env.SetInstanceData(data);
  exports.Set("open", Napi::Function::New<Open>(env, "open"));
  exports.Set("abi", Abi(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(lumen_rknn, Init)
