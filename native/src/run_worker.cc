#include "run_worker.h"

#include <cstring>

#include "model.h"

RunWorker::RunWorker(Napi::Object model_object, Model* model, std::vector<RunInput> inputs,
                     Napi::Promise::Deferred deferred)
    : Napi::AsyncWorker(model_object.Env(), "lumen_rknn.run"),
      model_(model),
      model_ref_(Napi::Persistent(model_object)),
      inputs_(std::move(inputs)),
      deferred_(deferred) {}

void RunWorker::StartOn(size_t context_index) {
  context_index_ = context_index;
  context_ = model_->core().contexts->at(context_index);
  Queue();
}

void RunWorker::Execute() {
  const ModelCore& core = model_->core();
  try {
    result_ = RunOnce(*core.lib, context_, inputs_, static_cast<uint32_t>(core.info.outputs.size()),
                      core.collect_perf());
  } catch (const RknnFailure& failure) {
    failure_ = failure;
    SetError(failure.function);
  } catch (const std::exception& e) {
    SetError(e.what());
  }
}

void RunWorker::OnOK() {
  Napi::Env env = Env();
  Napi::Array outputs = Napi::Array::New(env, result_.outputs.size());
  for (size_t i = 0; i < result_.outputs.size(); i++) {
    const std::vector<float>& values = result_.outputs[i];
    Napi::Float32Array array = Napi::Float32Array::New(env, values.size());
    if (!values.empty()) std::memcpy(array.Data(), values.data(), values.size() * sizeof(float));
    outputs.Set(static_cast<uint32_t>(i), array);
  }
  if (result_.has_perf) {
    outputs.Set("runDurationUs", Napi::Number::New(env, static_cast<double>(result_.run_duration_us)));
  }
  deferred_.Resolve(outputs);
  model_->RunSettled(env, context_index_);
}

void RunWorker::OnError(const Napi::Error& error) {
  Napi::Env env = Env();
  deferred_.Reject(failure_ ? MakeRknnError(env, *failure_).Value() : error.Value());
  model_->RunSettled(env, context_index_);
}
