#include "model.h"

#include "addon_data.h"
#include "attr_object.h"
#include "run_inputs.h"
#include "run_worker.h"

Napi::Function Model::DefineClass(Napi::Env env) {
  return ObjectWrap<Model>::DefineClass(env, "RknnModel",
                                        {
                                            InstanceMethod<&Model::Run>("run"),
                                            InstanceMethod<&Model::Close>("close"),
                                        });
}

Napi::Object Model::NewInstance(Napi::Env env, std::unique_ptr<ModelCore> core) {
  // The constructor adopts the pointer.
  return env.GetInstanceData<AddonData>()->model_constructor.New({Napi::External<ModelCore>::New(env, core.release())});
}

Model::Model(const Napi::CallbackInfo& info) : ObjectWrap<Model>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(env, "RknnModel cannot be constructed directly: use open()");
  }
  core_.reset(info[0].As<Napi::External<ModelCore>>().Data());

  for (size_t i = 0; i < core_->contexts->size(); i++) idle_.push_back(i);

  Napi::Object self = info.This().As<Napi::Object>();
  auto attrs = [&](const std::vector<rknn_tensor_attr>& list) {
    Napi::Array array = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) array.Set(static_cast<uint32_t>(i), AttrToObject(env, list[i]));
    return array;
  };
  Napi::Object sdk = Napi::Object::New(env);
  sdk.Set("api", core_->info.api_version);
  sdk.Set("driver", core_->info.driver_version);

  const auto readonly = napi_enumerable;
  self.DefineProperties({
      Napi::PropertyDescriptor::Value("path", Napi::String::New(env, core_->path), readonly),
      Napi::PropertyDescriptor::Value("libraryPath", Napi::String::New(env, core_->lib->path), readonly),
      Napi::PropertyDescriptor::Value("inputs", attrs(core_->info.inputs), readonly),
      Napi::PropertyDescriptor::Value("outputs", attrs(core_->info.outputs), readonly),
      Napi::PropertyDescriptor::Value("sdkVersion", sdk, readonly),
      Napi::PropertyDescriptor::Value("contexts", Napi::Number::New(env, core_->contexts->size()), readonly),
      Napi::PropertyDescriptor::Value(
          "coreMask", core_->core_mask ? Napi::Number::New(env, *core_->core_mask) : env.Null(), readonly),
      Napi::PropertyDescriptor::Value("flags", Napi::Number::New(env, core_->flags), readonly),
  });
}

Napi::Value Model::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (closing_ || closed_) {
    deferred.Reject(Napi::Error::New(env, "run: the RKNN model \"" + core_->path + "\" is closed").Value());
    return deferred.Promise();
  }
  std::vector<RunInput> inputs;
  try {
    inputs = ParseRunInputs(info[0], info[1], core_->info.inputs);
  } catch (const Napi::Error& error) {
    deferred.Reject(error.Value());
    return deferred.Promise();
  }

  auto* worker = new RunWorker(info.This().As<Napi::Object>(), this, std::move(inputs), deferred);
  accepted_++;
  if (idle_.empty()) {
    waiting_.push_back(worker);
  } else {
    size_t context_index = idle_.front();
    idle_.pop_front();
    worker->StartOn(context_index);
  }
  return deferred.Promise();
}

void Model::RunSettled(Napi::Env env, size_t context_index) {
  accepted_--;
  if (waiting_.empty()) {
    idle_.push_back(context_index);
  } else {
    RunWorker* next = waiting_.front();
    waiting_.pop_front();
    next->StartOn(context_index);
  }
  if (closing_ && accepted_ == 0) FinishClose(env);
}

Napi::Value Model::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (closed_) {
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  close_waiters_.push_back(deferred);
  closing_ = true;
  if (accepted_ == 0) FinishClose(env);
  return deferred.Promise();
}

void Model::FinishClose(Napi::Env env) {
  std::optional<RknnFailure> failure;
  try {
    core_->contexts->DestroyAll();
  } catch (const RknnFailure& f) {
    failure = f;
  }
  closing_ = false;
  closed_ = true;
  std::vector<Napi::Promise::Deferred> waiters = std::move(close_waiters_);
  close_waiters_.clear();
  for (Napi::Promise::Deferred& waiter : waiters) {
    if (failure) waiter.Reject(MakeRknnError(env, *failure).Value());
    else waiter.Resolve(env.Undefined());
  }
}
