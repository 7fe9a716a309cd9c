#pragma once

#include <napi.h>

#include <optional>
#include <vector>

#include "rknn_status.h"
#include "run_job.h"

class Model;

// One run(): Execute does the blocking runtime calls on a libuv thread and never touches JS.
// Holds a reference to the model object so the model outlives its runs.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Object model_object, Model* model, std::vector<RunInput> inputs, Napi::Promise::Deferred deferred);

  // Binds the run to a context and queues it.
  void StartOn(size_t context_index);

 protected:
  void Execute() override;
  void OnOK() override;
  void OnError(const Napi::Error& error) override;

 private:
  Model* model_;
  Napi::ObjectReference model_ref_;
  std::vector<RunInput> inputs_;
  Napi::Promise::Deferred deferred_;
  size_t context_index_ = 0;
  rknn_context context_ = 0;
  RunResult result_;
  std::optional<RknnFailure> failure_;
};
