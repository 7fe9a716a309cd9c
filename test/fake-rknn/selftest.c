/*
 * Proves the fake librknnrt.so is as strict as it claims: each check makes the mistake a sloppy
 * caller would make and expects the fake's refusal. Usage: selftest LIB MODEL_DIR
 * Prints "ok - <what>" or "not ok - <what>" per check; exits 1 when any failed. It leaves one
 * context and one output buffer behind on purpose, so the exit report must count 2 leaks.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*init_fn)(uint64_t *, void *, uint32_t, uint32_t, void *);
typedef int (*dup_fn)(uint64_t *, uint64_t *);
typedef int (*ctx_fn)(uint64_t);
typedef int (*query_fn)(uint64_t, int, void *, uint32_t);
typedef int (*io_fn)(uint64_t, uint32_t, void *);
typedef int (*run_fn)(uint64_t, void *);
typedef int (*get_fn)(uint64_t, uint32_t, void *, void *);
typedef int (*mask_fn)(uint64_t, int);

static init_fn rk_init;
static dup_fn rk_dup;
static ctx_fn rk_destroy;
static query_fn rk_query;
static io_fn rk_inputs_set, rk_release;
static run_fn rk_run;
static get_fn rk_get;
static mask_fn rk_mask;
static int failures;

static void check(int ok, const char *what) {
  printf("%s - %s\n", ok ? "ok" : "not ok", what);
  if (!ok) failures++;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

/* rknn_input / rknn_output by the ABI table's offsets. */
static void set_input(unsigned char *in, uint32_t index, void *buf, uint32_t size, int type, int fmt) {
  memset(in, 0, 32);
  memcpy(in + 0, &index, 4);
  memcpy(in + 8, &buf, 8);
  memcpy(in + 16, &size, 4);
  memcpy(in + 24, &type, 4);
  memcpy(in + 28, &fmt, 4);
}
static void set_output(unsigned char *out, uint32_t index, int want_float, int prealloc, void *buf, uint32_t size) {
  memset(out, 0, 24);
  out[0] = (unsigned char)want_float;
  out[1] = (unsigned char)prealloc;
  memcpy(out + 4, &index, 4);
  memcpy(out + 8, &buf, 8);
  memcpy(out + 16, &size, 4);
}
static void *output_buf(const unsigned char *out) {
  void *p;
  memcpy(&p, out + 8, 8);
  return p;
}

static uint64_t shared_ctx;
static int thread_rc;
static void *run_thread(void *arg) {
  (void)arg;
  thread_rc = rk_run(shared_ctx, NULL);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  rk_init = (init_fn)dlsym(lib, "rknn_init");
  rk_dup = (dup_fn)dlsym(lib, "rknn_dup_context");
  rk_destroy = (ctx_fn)dlsym(lib, "rknn_destroy");
  rk_query = (query_fn)dlsym(lib, "rknn_query");
  rk_inputs_set = (io_fn)dlsym(lib, "rknn_inputs_set");
  rk_release = (io_fn)dlsym(lib, "rknn_outputs_release");
  rk_run = (run_fn)dlsym(lib, "rknn_run");
  rk_get = (get_fn)dlsym(lib, "rknn_outputs_get");
  rk_mask = (mask_fn)dlsym(lib, "rknn_set_core_mask");

  char model[1024];
  snprintf(model, sizeof model, "%s/selftest.rknn", argv[2]);
  write_file(model,
             "FAKERKNN\nmode=sum\ndelay_ms=100\nsoc=rk3568\n"
             "input dims=1,2,2,3 type=UINT8 fmt=NHWC\n"
             "output dims=1,4 type=INT8 qnt=AFFINE zp=10 scale=0.5\n");

  uint64_t ctx = 0, dup = 0;
  check(rk_init(&ctx, model, 0, 0, (void *)model) == -5, "rknn_init with a non-NULL extend is -5");
  check(rk_init(&ctx, model, 0, 0, NULL) == 0, "rknn_init of a path");
  check(ctx > (1ull << 53), "the handle is above 2^53");
  check(rk_query((uint32_t)ctx, 0, (uint32_t[2]){0}, 8) == -7, "a handle truncated to 32 bits is -7");
  check(rk_query((uint64_t)(double)ctx, 0, (uint32_t[2]){0}, 8) == -7, "a handle that went through a double is -7");

  unsigned char attr[376];
  memset(attr, 0, sizeof attr);
  check(rk_query(ctx, 1, attr, 375) == -5, "an attr size of 375 is -5");
  check(rk_query(ctx, 1, attr, 376) == 0, "an attr size of 376 is accepted");
  uint32_t n_elems;
  memcpy(&n_elems, attr + 328, 4);
  check(n_elems == 12, "n_elems is at offset 328");
  attr[0] = 1;
  check(rk_query(ctx, 1, attr, 376) == -5, "input attr index 1 of 1 input is -5");
  check(rk_query(ctx, 4, (int64_t[1]){0}, 8) == -5, "PERF_RUN without RKNN_FLAG_COLLECT_PERF_MASK is -5");
  check(rk_query(ctx, 5, (char[511]){0}, 511) == -5, "an SDK_VERSION size of 511 is -5");

  unsigned char pixels[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, in[32];
  set_input(in, 0, pixels, 12, 0, 1);
  check(rk_inputs_set(ctx, 1, in) == -5, "type left at 0 (FLOAT32) with 1 byte per element is -5");
  set_input(in, 0, pixels, 11, 3, 1);
  check(rk_inputs_set(ctx, 1, in) == -5, "a size that is not n_elems * sizeof(UINT8) is -5");
  set_input(in, 0, pixels, 12, 3, 3);
  check(rk_inputs_set(ctx, 1, in) == -5, "fmt UNDEFINED for a 4-D input is -5");
  set_input(in, 1, pixels, 12, 3, 1);
  check(rk_inputs_set(ctx, 1, in) == -5, "input index 1 of 1 input is -5");
  check(rk_run(ctx, NULL) == -8, "rknn_run before any inputs is -8");
  set_input(in, 0, pixels, 12, 3, 1);
  check(rk_inputs_set(ctx, 1, in) == 0, "UINT8 NHWC inputs are accepted");
  check(rk_run(ctx, (void *)in) == -5, "rknn_run with a non-NULL extend is -5");

  shared_ctx = ctx;
  pthread_t thread;
  pthread_create(&thread, NULL, run_thread, NULL);
  struct timespec pause = {0, 30 * 1000000L};
  nanosleep(&pause, NULL);
  int second = rk_run(ctx, NULL);
  pthread_join(thread, NULL);
  check(thread_rc == 0 && second == -1, "a second call on a busy context is -1");

  /* sum: output[k] = sum of bytes j = k mod 4 = 15, 18, 21, 24 -> INT8 q = v / 0.5 + 10. */
  unsigned char out[24];
  int8_t small[3];
  set_output(out, 0, 0, 1, small, 3);
  check(rk_get(ctx, 1, out, NULL) == -5, "a preallocated buffer that is too small is -5");
  int8_t q[4];
  set_output(out, 0, 0, 1, q, 4);
  check(rk_get(ctx, 1, out, NULL) == 0 && q[0] == 40 && q[3] == 58, "want_float 0 returns quantised INT8");
  float f[4];
  set_output(out, 0, 1, 1, f, 16);
  check(rk_get(ctx, 1, out, NULL) == 0 && f[0] == 15.0f && f[1] == 18.0f, "want_float 1 into a preallocated buffer");
  set_output(out, 0, 1, 0, NULL, 0);
  check(rk_get(ctx, 1, out, (void *)out) == -5, "rknn_outputs_get with a non-NULL extend is -5");
  check(rk_get(ctx, 1, out, NULL) == 0 && output_buf(out) != NULL, "is_prealloc 0 allocates");
  unsigned char copy[24];
  memcpy(copy, out, 24);
  check(rk_release(ctx, 1, out) == 0, "rknn_outputs_release frees it");
  check(rk_release(ctx, 1, copy) == -5, "releasing it twice is -5");

  check(rk_mask(ctx, 8) == -5, "core mask 8 is -5");
  check(rk_mask(ctx, 1) == -1, "a core mask on soc=rk3568 is -1");

  check(rk_dup(&ctx, &dup) == 0 && dup != ctx && dup > (1ull << 53), "rknn_dup_context returns a new 64-bit handle");
  check(rk_destroy(ctx) == -1, "destroying the original before its dup is -1");
  check(rk_destroy(dup) == 0, "destroying the dup");
  check(rk_destroy(dup) == -7, "destroying it twice is -7");

  /* Left behind on purpose: the context and one runtime-allocated output buffer. */
  set_output(out, 0, 1, 0, NULL, 0);
  check(rk_get(ctx, 1, out, NULL) == 0, "one more output buffer, never released");

  write_file(model, "FAKERKNN\nfail=rknn_run:-2:2\ninput dims=4 type=FLOAT32\noutput dims=2\n");
  uint64_t failing = 0;
  check(rk_init(&failing, model, 0, 0, NULL) == 0, "a model with fail=rknn_run:-2:2");
  float values[4] = {1, 2, 3, 4};
  set_input(in, 0, values, 16, 0, 3);
  check(rk_inputs_set(failing, 1, in) == 0, "FLOAT32 inputs with type 0 are accepted");
  check(rk_run(failing, NULL) == 0 && rk_run(failing, NULL) == -2 && rk_run(failing, NULL) == 0,
        "fail=FUNC:CODE:NTH fails only the NTH call");
  check(rk_destroy(failing) == 0, "destroying it");

  write_file(model, "FAKERKNN\ninput dims=1,2,2,3\n");
  uint64_t invalid = 0;
  check(rk_init(&invalid, model, 0, 0, NULL) == -6, "a model without outputs is -6");

  return failures ? 1 : 0;
}
