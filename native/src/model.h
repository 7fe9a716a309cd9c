#pragma once

#include <napi.h>

#include <deque>
#include <memory>
#include <vector>

#include "model_core.h"

class RunWorker;

// The JS model object. One context serves one run at a time: runs take an idle context or wait
// in line for one, so in-flight runs never exceed the contexts. Everything here runs on the JS
// thread; only RunWorker::Execute leaves it.
class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::unique_ptr<ModelCore> core);

  explicit Model(const Napi::CallbackInfo& info);

  const ModelCore& core() const { return *core_; }
  // Called by RunWorker when its run has settled, to hand the context on.
  void RunSettled(Napi::Env env, size_t context_index);

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  void FinishClose(Napi::Env env);

  std::unique_ptr<ModelCore> core_;
  std::deque<size_t> idle_;
  std::deque<RunWorker*> waiting_;
  size_t accepted_ = 0;  // running plus waiting
  bool closing_ = false;
  bool closed_ = false;
  std::vector<Napi::Promise::Deferred> close_waiters_;
};
