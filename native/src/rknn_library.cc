#include "rknn_library.h"

#include <dlfcn.h>

#include <map>
#include <mutex>

namespace {

std::mutex cache_mutex;
std::map<std::string, std::shared_ptr<const RknnLibrary>> cache;

template <typename Fn>
void Resolve(void* handle, const std::string& path, const char* symbol, Fn& out, bool required) {
  dlerror();
  out = reinterpret_cast<Fn>(dlsym(handle, symbol));
  if (out == nullptr && required) {
    const char* why = dlerror();
    throw LibraryLoadError("the RKNN runtime library \"" + path + "\" has no symbol " + symbol +
                           (why ? std::string(": ") + why : std::string()) +
                           "; it is not a librknnrt.so this addon supports");
  }
}

}  // namespace

std::shared_ptr<const RknnLibrary> LoadRknnLibrary(const std::string& path) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto found = cache.find(path);
  if (found != cache.end()) return found->second;

  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw LibraryLoadError("cannot load the RKNN runtime library \"" + path + "\": " +
                           (why ? why : "unknown dlopen error") +
                           ". Install Rockchip's librknnrt.so or point LUMEN_FACE_RKNN_LIBRARY at it");
  }

  auto lib = std::make_shared<RknnLibrary>();
  lib->path = path;
  try {
    Resolve(handle, path, "rknn_init", lib->init, true);
    Resolve(handle, path, "rknn_destroy", lib->destroy, true);
    Resolve(handle, path, "rknn_query", lib->query, true);
    Resolve(handle, path, "rknn_inputs_set", lib->inputs_set, true);
    Resolve(handle, path, "rknn_run", lib->run, true);
    Resolve(handle, path, "rknn_outputs_get", lib->outputs_get, true);
    Resolve(handle, path, "rknn_outputs_release", lib->outputs_release, true);
    Resolve(handle, path, "rknn_dup_context", lib->dup_context, false);
    Resolve(handle, path, "rknn_set_core_mask", lib->set_core_mask, false);
  } catch (...) {
    dlclose(handle);
    throw;
  }
  cache.emplace(path, lib);
  return lib;
}
