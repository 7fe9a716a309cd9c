{
  "targets": [
    {
      "target_name": "lumen_rknn",
      "sources": [
        "src/addon.cc",
        "src/attr_object.cc",
        "src/context_set.cc",
        "src/model.cc",
        "src/model_info.cc",
        "src/rknn_library.cc",
        "src/rknn_status.cc",
        "src/run_inputs.cc",
        "src/run_job.cc",
        "src/run_worker.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "libraries": ["-ldl"]
    }
  ]
}
