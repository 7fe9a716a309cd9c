// Our own declaration of the small part of Rockchip's librknnrt C ABI the addon uses, written
// from the documented LP64 layout (aarch64 and x86_64 alike). The SDK header is not needed:
// the library is dlopen'ed at run time, and the static_asserts below pin every layout we rely on.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

// 64-bit on LP64; only 32-bit ARM builds of the SDK use uint32_t.
typedef uint64_t rknn_context;

#define RKNN_MAX_DIMS 16
#define RKNN_MAX_NAME_LEN 256

#define RKNN_QUERY_IN_OUT_NUM 0
#define RKNN_QUERY_INPUT_ATTR 1
#define RKNN_QUERY_OUTPUT_ATTR 2
#define RKNN_QUERY_PERF_RUN 4
#define RKNN_QUERY_SDK_VERSION 5

#define RKNN_FLAG_COLLECT_PERF_MASK 0x00000008

#define RKNN_TENSOR_FLOAT32 0
#define RKNN_TENSOR_FLOAT16 1
#define RKNN_TENSOR_INT8 2
#define RKNN_TENSOR_UINT8 3
#define RKNN_TENSOR_INT16 4
#define RKNN_TENSOR_UINT16 5
#define RKNN_TENSOR_INT32 6
#define RKNN_TENSOR_UINT32 7
#define RKNN_TENSOR_INT64 8
#define RKNN_TENSOR_BOOL 9

#define RKNN_TENSOR_NCHW 0
#define RKNN_TENSOR_NHWC 1
#define RKNN_TENSOR_NC1HWC2 2
#define RKNN_TENSOR_UNDEFINED 3

#define RKNN_SUCC 0
#define RKNN_ERR_FAIL -1
#define RKNN_ERR_TIMEOUT -2
#define RKNN_ERR_DEVICE_UNAVAILABLE -3
#define RKNN_ERR_MALLOC_FAIL -4
#define RKNN_ERR_PARAM_INVALID -5
#define RKNN_ERR_MODEL_INVALID -6
#define RKNN_ERR_CTX_INVALID -7
#define RKNN_ERR_INPUT_INVALID -8
#define RKNN_ERR_OUTPUT_INVALID -9
#define RKNN_ERR_DEVICE_UNMATCH -10

typedef struct rknn_input_output_num {
  uint32_t n_input;
  uint32_t n_output;
} rknn_input_output_num;

typedef struct rknn_perf_run {
  int64_t run_duration;  // microseconds
} rknn_perf_run;

typedef struct rknn_sdk_version {
  char api_version[256];
  char drv_version[256];
} rknn_sdk_version;

// Enums are declared as int32_t so their width never depends on the compiler.
typedef struct rknn_tensor_attr {
  uint32_t index;
  uint32_t n_dims;
  uint32_t dims[RKNN_MAX_DIMS];
  char name[RKNN_MAX_NAME_LEN];
  uint32_t n_elems;
  uint32_t size;
  int32_t fmt;
  int32_t type;
  int32_t qnt_type;
  int8_t fl;
  int32_t zp;
  float scale;
  uint32_t w_stride;
  uint32_t size_with_stride;
  uint8_t pass_through;
  uint32_t h_stride;
} rknn_tensor_attr;

typedef struct rknn_input {
  uint32_t index;
  void* buf;
  uint32_t size;
  uint8_t pass_through;
  int32_t type;
  int32_t fmt;
} rknn_input;

typedef struct rknn_output {
  uint8_t want_float;
  uint8_t is_prealloc;
  uint32_t index;
  void* buf;
  uint32_t size;
} rknn_output;

// The *_extend arguments are always NULL: their layouts changed between SDK releases.
typedef int (*rknn_init_fn)(rknn_context* context, void* model, uint32_t size, uint32_t flag, void* extend);
typedef int (*rknn_dup_context_fn)(rknn_context* context_in, rknn_context* context_out);
typedef int (*rknn_destroy_fn)(rknn_context context);
typedef int (*rknn_query_fn)(rknn_context context, int cmd, void* info, uint32_t size);
typedef int (*rknn_inputs_set_fn)(rknn_context context, uint32_t n_inputs, rknn_input inputs[]);
typedef int (*rknn_run_fn)(rknn_context context, void* extend);
typedef int (*rknn_outputs_get_fn)(rknn_context context, uint32_t n_outputs, rknn_output outputs[], void* extend);
typedef int (*rknn_outputs_release_fn)(rknn_context context, uint32_t n_outputs, rknn_output outputs[]);
typedef int (*rknn_set_core_mask_fn)(rknn_context context, int mask);

}  // extern "C"

static_assert(sizeof(void*) == 8, "the RKNN ABI declared here is the LP64 one");
static_assert(sizeof(rknn_context) == 8, "rknn_context is 64-bit on LP64");
static_assert(sizeof(rknn_input_output_num) == 8, "IN_OUT_NUM info is 8 bytes");
static_assert(sizeof(rknn_perf_run) == 8, "PERF_RUN info is 8 bytes");
static_assert(sizeof(rknn_sdk_version) == 512, "SDK_VERSION info is 512 bytes");

static_assert(sizeof(rknn_tensor_attr) == 376, "runtimes reject a smaller attr with -5");
static_assert(offsetof(rknn_tensor_attr, index) == 0, "attr.index");
static_assert(offsetof(rknn_tensor_attr, n_dims) == 4, "attr.n_dims");
static_assert(offsetof(rknn_tensor_attr, dims) == 8, "attr.dims");
static_assert(offsetof(rknn_tensor_attr, name) == 72, "attr.name");
static_assert(offsetof(rknn_tensor_attr, n_elems) == 328, "attr.n_elems");
static_assert(offsetof(rknn_tensor_attr, size) == 332, "attr.size");
static_assert(offsetof(rknn_tensor_attr, fmt) == 336, "attr.fmt");
static_assert(offsetof(rknn_tensor_attr, type) == 340, "attr.type");
static_assert(offsetof(rknn_tensor_attr, qnt_type) == 344, "attr.qnt_type");
static_assert(offsetof(rknn_tensor_attr, fl) == 348, "attr.fl");
static_assert(offsetof(rknn_tensor_attr, zp) == 352, "attr.zp");
static_assert(offsetof(rknn_tensor_attr, scale) == 356, "attr.scale");
static_assert(offsetof(rknn_tensor_attr, w_stride) == 360, "attr.w_stride");
static_assert(offsetof(rknn_tensor_attr, size_with_stride) == 364, "attr.size_with_stride");
static_assert(offsetof(rknn_tensor_attr, pass_through) == 368, "attr.pass_through");
static_assert(offsetof(rknn_tensor_attr, h_stride) == 372, "attr.h_stride");

static_assert(sizeof(rknn_input) == 32, "rknn_input is 32 bytes");
static_assert(offsetof(rknn_input, index) == 0, "input.index");
static_assert(offsetof(rknn_input, buf) == 8, "input.buf");
static_assert(offsetof(rknn_input, size) == 16, "input.size");
static_assert(offsetof(rknn_input, pass_through) == 20, "input.pass_through");
static_assert(offsetof(rknn_input, type) == 24, "input.type");
static_assert(offsetof(rknn_input, fmt) == 28, "input.fmt");

static_assert(sizeof(rknn_output) == 24, "rknn_output is 24 bytes");
static_assert(offsetof(rknn_output, want_float) == 0, "output.want_float");
static_assert(offsetof(rknn_output, is_prealloc) == 1, "output.is_prealloc");
static_assert(offsetof(rknn_output, index) == 4, "output.index");
static_assert(offsetof(rknn_output, buf) == 8, "output.buf");
static_assert(offsetof(rknn_output, size) == 16, "output.size");
