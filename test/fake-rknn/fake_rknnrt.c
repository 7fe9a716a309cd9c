/*
 * A fake librknnrt.so for tests without a Rockchip NPU.
 *
 * It is deliberately strict, so that sloppy marshalling fails loudly. It reads and writes every
 * struct through the byte offsets of the ABI tables (issue 4), never through a shared header, so a
 * layout mistake in the addon's own declarations cannot cancel out here.
 *
 * STRICTNESS
 *   - rknn_query rejects an info size under the struct size (attr: 376) with -5, and attr
 *     indices >= the count with -5.
 *   - rknn_inputs_set wants every input exactly once, a known type and a size equal to
 *     n_elems * sizeof(type): a `type` left at 0 means FLOAT32, so raw bytes then fail with -5.
 *     4-D inputs need fmt NCHW or NHWC (the fake transposes to the model's layout, like the
 *     runtime does with pass_through = 0).
 *   - Every *_extend pointer must be NULL (-5).
 *   - Handles are 0xFA4E0000000NN5A5: above 2^53 with low bits set, so a handle truncated to 32
 *     bits or squeezed through a double is unknown: -7 (RKNN_ERR_CTX_INVALID).
 *   - Two calls at once on one context: the second returns -1 and is counted as a concurrency
 *     violation. rknn_run sleeps `delay_ms` so that overlaps really happen.
 *   - rknn_destroy of an original context while its dups live: -1, counted, and nothing is freed.
 *   - rknn_outputs_release of a buffer the fake did not hand out (or twice): -5.
 *   - PERF_RUN needs the context to be created with RKNN_FLAG_COLLECT_PERF_MASK (0x8): else -5.
 *   - rknn_set_core_mask accepts 0, 1, 2, 4, 3, 7 and 0xffff; a model with soc=rk356x returns -1
 *     (RK356x has one core and refuses masks).
 *   - want_float = 0 returns the native type (quantised with zp/scale for AFFINE); want_float = 1
 *     returns floats; is_prealloc = 1 writes into the caller's buffer (size too small: -5),
 *     is_prealloc = 0 allocates buffers that rknn_outputs_release frees (even when a failure is
 *     injected into it, so injections do not look like leaks). Outputs of type FLOAT16
 *     or quantised types are rounded through that type before they are returned as floats.
 *
 * MODEL FILES (text; rknn_init with size 0 reads the path, with size > 0 the bytes)
 *     FAKERKNN
 *     # comment
 *     mode=sum | embed | scrfd
 *     delay_ms=N          sleep in rknn_run (default: env FAKE_RKNN_DELAY_MS or 0)
 *     perf_us=N           what PERF_RUN reports (default 4242)
 *     soc=rk3568          refuse core masks like RK356x does
 *     faces=N             scrfd: 1 (default) to 3 canned faces
 *     trace=PATH          append one line per call on this model's contexts
 *     fail=FUNC:CODE[:NTH]  make FUNC return CODE, on every call or only on the NTH (1-based)
 *                          call on this model; FUNC may be rknn_query@CMD for one query command
 *     input  dims=1,112,112,3 type=UINT8 fmt=NHWC [name=..] [qnt=NONE|DFP|AFFINE zp=Z scale=S]
 *            [mean=M std=S]       values the model sees are (x - M) / S (default 0 and 1)
 *     output dims=1,128 [type=FLOAT32|FLOAT16|INT8|UINT8|INT16] [fmt=..] [name=..] [qnt/zp/scale]
 *   Types: FLOAT32 FLOAT16 INT8 UINT8 INT16 UINT16 INT32 UINT32 INT64 BOOL.
 *   Formats: NCHW NHWC NC1HWC2 UNDEFINED. Defaults: 4-D inputs NHWC, 4-D outputs NCHW, else
 *   UNDEFINED; input type UINT8, output type FLOAT32; names input<i> / output<i>.
 *
 * MODES (x = the input values as the model sees them: decoded from the type fed, transposed to
 * the model's declared layout, then (x - mean) / std, accumulated in double, in index order)
 *   sum:   all inputs concatenated in input order; output o, element k:
 *            (o + 1) * sum of x[j] over j = k (mod n_elems of output o)
 *   embed: input 0 is [B, ...], the LAST output is [B, D]; element (b, k):
 *            sum of x[b * item + j] over j = k (mod D), item = n_elems / B; other outputs are 0
 *            (last, so that a decoy output before it catches a caller that takes output 0)
 *   scrfd: ignores the input values. Outputs are matched by last dim (1 score, 4 box, 10 kps)
 *          and rows = ceil(H/s) * ceil(W/s) * 2 for s in 8, 16, 32 (H, W from input 0). All
 *          zeros except the canned faces below.
 *
 * CANNED SCRFD FACES. Each is one anchor (a = 0) at a grid cell (row r, col c) of a stride s:
 * anchor index (r * cols + c) * 2, centre (cx, cy) = (c * s, r * s). Distances in stride units
 * are (5, 6, 5, 7) for (left, top, right, bottom) and the keypoints, in stride units from the
 * centre, are left eye (-2, -1.5), right eye (2, -1.5), nose (0, 0.5), left mouth (-1.5, 3),
 * right mouth (1.5, 3). So box = [cx - 5s, cy - 6s, cx + 5s, cy + 7s].
 *   face 0  s = 16, cell (rows/2, cols/2), score 0.9375. On a 640x640 input: centre (320, 320),
 *           box [240, 224, 400, 432], landmarks (288, 296) (352, 296) (320, 328) (296, 368)
 *           (344, 368). Its anchor a = 1 (index + 1) has a weaker duplicate: score 0.625,
 *           distances (5.25, 6, 5, 7), box [236, 224, 400, 432], IoU 0.976 with face 0, so NMS
 *           removes it.
 *   face 1  (faces >= 2) s = 8, cell (rows/8, cols/8), score 0.875. At 640: centre (80, 80),
 *           box [40, 32, 120, 136], landmarks (64, 68) (96, 68) (80, 84) (68, 104) (92, 104).
 *   face 2  (faces >= 3) s = 8, cell (rows/8, cols - cols/8), score 0.8125. At 640: centre
 *           (560, 80), box [520, 32, 600, 136], landmarks (544, 68) (576, 68) (560, 84)
 *           (548, 104) (572, 104).
 *   Every value is exact in FLOAT16, so a FLOAT16 output type gives the same numbers.
 *
 * ENVIRONMENT (read once, when the library is loaded)
 *   FAKE_RKNN_FAIL=FUNC:CODE[:NTH][,...]  like fail= in a model file, counted over the process
 *   FAKE_RKNN_TRACE=PATH     append one line per call, for every model
 *   FAKE_RKNN_DELAY_MS=N     default delay_ms
 *   FAKE_RKNN_REPORT=PATH    at exit, write a JSON report: live_contexts, live_output_buffers,
 *                            leaks (their sum), concurrent_violations, destroy_order_violations,
 *                            max_parallel_runs, runs, contexts_created. Without it, problems are
 *                            printed to stderr at exit.
 *
 * TRACE LINES  "<function> ctx=0x<16 hex> [details] rc=<code>", e.g.
 *   rknn_destroy ctx=0xfa4e0000000025a5 dup=1 rc=0
 *   rknn_run ctx=0xfa4e0000000015a5 parallel=2 rc=0
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

/* ---- ABI facts (issue 4), by byte offset ---- */
enum { ATTR_SIZE = 376, INPUT_SIZE = 32, OUTPUT_SIZE = 24, SDK_SIZE = 512 };
enum {
  A_INDEX = 0, A_N_DIMS = 4, A_DIMS = 8, A_NAME = 72, A_N_ELEMS = 328, A_SIZE = 332, A_FMT = 336,
  A_TYPE = 340, A_QNT = 344, A_FL = 348, A_ZP = 352, A_SCALE = 356, A_W_STRIDE = 360,
  A_SIZE_WITH_STRIDE = 364, A_PASS_THROUGH = 368, A_H_STRIDE = 372
};
enum { I_INDEX = 0, I_BUF = 8, I_SIZE = 16, I_PASS_THROUGH = 20, I_TYPE = 24, I_FMT = 28 };
enum { O_WANT_FLOAT = 0, O_IS_PREALLOC = 1, O_INDEX = 4, O_BUF = 8, O_SIZE = 16 };
enum { Q_IN_OUT_NUM = 0, Q_INPUT_ATTR = 1, Q_OUTPUT_ATTR = 2, Q_PERF_RUN = 4, Q_SDK_VERSION = 5 };
enum { T_FLOAT32, T_FLOAT16, T_INT8, T_UINT8, T_INT16, T_UINT16, T_INT32, T_UINT32, T_INT64, T_BOOL, T_COUNT };
enum { F_NCHW, F_NHWC, F_NC1HWC2, F_UNDEFINED, F_COUNT };
enum { QNT_NONE, QNT_DFP, QNT_AFFINE, QNT_COUNT };
enum {
  E_FAIL = -1, E_PARAM = -5, E_MODEL = -6, E_CTX = -7, E_INPUT = -8, E_OUTPUT = -9
};
#define FLAG_COLLECT_PERF 0x8u

static const char *TYPE_NAMES[T_COUNT] = {"FLOAT32", "FLOAT16", "INT8",   "UINT8", "INT16",
                                          "UINT16",  "INT32",   "UINT32", "INT64", "BOOL"};
static const size_t TYPE_SIZES[T_COUNT] = {4, 2, 1, 1, 2, 2, 4, 4, 8, 1};
static const char *FMT_NAMES[F_COUNT] = {"NCHW", "NHWC", "NC1HWC2", "UNDEFINED"};
static const char *QNT_NAMES[QNT_COUNT] = {"NONE", "DFP", "AFFINE"};

#define MAX_TENSORS 16
#define MAX_DIMS 16
#define MAX_FAILS 16
#define MAX_CONTEXTS 256
#define MAX_BUFFERS 4096
#define HANDLE_BASE 0xFA4E000000000000ull

typedef struct {
  uint32_t n_dims, dims[MAX_DIMS], n_elems;
  int type, fmt, qnt, zp;
  float scale;
  double mean, std;
  char name[256];
} tensor_spec;

typedef struct {
  char func[64];
  int code, nth, calls;
} fail_rule;

enum { MODE_SUM, MODE_EMBED, MODE_SCRFD };

typedef struct {
  int refs;
  char path[1024];
  int mode, delay_ms, faces, soc_refuses_mask;
  int64_t perf_us;
  uint32_t n_in, n_out;
  tensor_spec in[MAX_TENSORS], out[MAX_TENSORS];
  fail_rule fails[MAX_FAILS];
  int n_fails;
  FILE *trace;
} fake_model;

typedef struct {
  uint64_t handle, parent;
  fake_model *model;
  uint32_t flags;
  int is_dup, live_dups, has_run;
  atomic_int busy;
  double *in_vals[MAX_TENSORS];
  int in_set[MAX_TENSORS];
  double *out_vals[MAX_TENSORS];
} fake_ctx;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_trace_lock = PTHREAD_MUTEX_INITIALIZER;
static fake_ctx *g_ctx[MAX_CONTEXTS];
static uint64_t g_next_id = 1;
static void *g_buffers[MAX_BUFFERS];
static int g_live_contexts, g_live_buffers, g_contexts_created;
static atomic_int g_running, g_max_parallel, g_runs, g_concurrent_violations, g_destroy_order_violations;
static fail_rule g_env_fails[MAX_FAILS];
static int g_env_n_fails, g_default_delay_ms;
static FILE *g_trace;
static char g_report[1024];

/* ---------- small helpers ---------- */

static uint32_t rd_u32(const void *base, size_t off) { uint32_t v; memcpy(&v, (const char *)base + off, 4); return v; }
static int32_t rd_i32(const void *base, size_t off) { int32_t v; memcpy(&v, (const char *)base + off, 4); return v; }
static uint8_t rd_u8(const void *base, size_t off) { return ((const uint8_t *)base)[off]; }
static void *rd_ptr(const void *base, size_t off) { void *v; memcpy(&v, (const char *)base + off, sizeof v); return v; }
static void wr_u32(void *base, size_t off, uint32_t v) { memcpy((char *)base + off, &v, 4); }
static void wr_i32(void *base, size_t off, int32_t v) { memcpy((char *)base + off, &v, 4); }
static void wr_f32(void *base, size_t off, float v) { memcpy((char *)base + off, &v, 4); }
static void wr_ptr(void *base, size_t off, void *v) { memcpy((char *)base + off, &v, sizeof v); }

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    float v = ldexpf((float)mant, -24);
    return sign ? -v : v;
  }
  if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
  else bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t float_to_half(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
  if (isnan(f)) return sign | 0x7e00;
  float a = fabsf(f);
  if (a >= 65520.0f) return sign | 0x7c00;
  if (a < ldexpf(1.0f, -14)) return sign | (uint16_t)lrintf(a * ldexpf(1.0f, 24)); /* subnormal */
  int e;
  float m = frexpf(a, &e); /* a = m * 2^e, m in [0.5, 1) */
  uint32_t mant = (uint32_t)lrintf((m * 2.0f - 1.0f) * 1024.0f);
  int exp = e - 1 + 15;
  if (mant == 1024) { mant = 0; exp++; }
  if (exp >= 31) return sign | 0x7c00;
  return sign | (uint16_t)(exp << 10) | (uint16_t)mant;
}

static void trace(fake_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(fake_model *m, const char *fmt, ...) {
  FILE *files[2] = {g_trace, m ? m->trace : NULL};
  pthread_mutex_lock(&g_trace_lock);
  for (int i = 0; i < 2; i++) {
    if (!files[i] || (i == 1 && files[1] == files[0])) continue;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(files[i], fmt, ap);
    va_end(ap);
    fputc('\n', files[i]);
    fflush(files[i]);
  }
  pthread_mutex_unlock(&g_trace_lock);
}

static int parse_fail(const char *text, fail_rule *rule) {
  char func[64];
  int code = 0, nth = 0;
  int n = sscanf(text, "%63[^:]:%d:%d", func, &code, &nth);
  if (n < 2) return -1;
  memset(rule, 0, sizeof *rule);
  strcpy(rule->func, func);
  rule->code = code;
  rule->nth = n == 3 ? nth : 0;
  return 0;
}

/* The injected code for this call, or 0. Counts the call. Caller holds g_lock. */
static int check_rules(fail_rule *rules, int n, const char *func) {
  int code = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp(rules[i].func, func) != 0) continue;
    rules[i].calls++;
    if (rules[i].nth == 0 || rules[i].nth == rules[i].calls) code = code ? code : rules[i].code;
  }
  return code;
}

static int injected(fake_model *m, const char *func) {
  pthread_mutex_lock(&g_lock);
  int code = check_rules(g_env_fails, g_env_n_fails, func);
  if (!code && m) code = check_rules(m->fails, m->n_fails, func);
  pthread_mutex_unlock(&g_lock);
  return code;
}

/* ---------- model files ---------- */

static int lookup(const char *value, const char **names, int count) {
  for (int i = 0; i < count; i++)
    if (strcmp(value, names[i]) == 0) return i;
  return -1;
}

static int parse_tensor(char *line, tensor_spec *t, int is_input) {
  memset(t, 0, sizeof *t);
  t->type = is_input ? T_UINT8 : T_FLOAT32;
  t->fmt = -1;
  t->scale = 1.0f;
  t->std = 1.0;
  char *save = NULL;
  for (char *tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) return -1;
    *eq = 0;
    const char *key = tok, *value = eq + 1;
    if (strcmp(key, "dims") == 0) {
      char *end = (char *)value;
      while (*end && t->n_dims < MAX_DIMS) {
        t->dims[t->n_dims++] = (uint32_t)strtoul(end, &end, 10);
        if (*end == ',') end++;
        else if (*end) return -1;
      }
    } else if (strcmp(key, "type") == 0) {
      if ((t->type = lookup(value, TYPE_NAMES, T_COUNT)) < 0) return -1;
    } else if (strcmp(key, "fmt") == 0) {
      if ((t->fmt = lookup(value, FMT_NAMES, F_COUNT)) < 0) return -1;
    } else if (strcmp(key, "qnt") == 0) {
      if ((t->qnt = lookup(value, QNT_NAMES, QNT_COUNT)) < 0) return -1;
    } else if (strcmp(key, "name") == 0) {
      snprintf(t->name, sizeof t->name, "%s", value);
    } else if (strcmp(key, "zp") == 0) {
      t->zp = atoi(value);
    } else if (strcmp(key, "scale") == 0) {
      t->scale = strtof(value, NULL);
    } else if (strcmp(key, "mean") == 0) {
      t->mean = strtod(value, NULL);
    } else if (strcmp(key, "std") == 0) {
      t->std = strtod(value, NULL);
    } else {
      return -1;
    }
  }
  if (t->n_dims == 0) return -1;
  t->n_elems = 1;
  for (uint32_t i = 0; i < t->n_dims; i++) t->n_elems *= t->dims[i];
  if (t->n_elems == 0) return -1;
  if (t->fmt < 0) t->fmt = t->n_dims == 4 ? (is_input ? F_NHWC : F_NCHW) : F_UNDEFINED;
  return 0;
}

static int output_type_supported(int type) {
  return type == T_FLOAT32 || type == T_FLOAT16 || type == T_INT8 || type == T_UINT8 || type == T_INT16;
}
static int input_type_supported(int type) {
  return type == T_FLOAT32 || type == T_FLOAT16 || type == T_INT8 || type == T_UINT8;
}

/* Height and width of a 4-D tensor in its declared layout. */
static void hw_of(const tensor_spec *t, uint32_t *h, uint32_t *w) {
  if (t->n_dims == 4 && t->fmt == F_NCHW) { *h = t->dims[2]; *w = t->dims[3]; }
  else if (t->n_dims == 4) { *h = t->dims[1]; *w = t->dims[2]; }
  else { *h = *w = 0; }
}

static int scrfd_rows(const tensor_spec *in0, int stride) {
  uint32_t h, w;
  hw_of(in0, &h, &w);
  return (int)(((h + stride - 1) / stride) * ((w + stride - 1) / stride) * 2);
}

/* Stride and role (0 score, 1 box, 2 kps) of an SCRFD output, or -1. */
static int scrfd_role(const fake_model *m, const tensor_spec *t, int *stride) {
  uint32_t last = t->dims[t->n_dims - 1];
  int role = last == 1 ? 0 : last == 4 ? 1 : last == 10 ? 2 : -1;
  if (role < 0) return -1;
  for (int s = 8; s <= 32; s *= 2) {
    if ((uint32_t)scrfd_rows(&m->in[0], s) * last == t->n_elems) {
      *stride = s;
      return role;
    }
  }
  return -1;
}

static int parse_model(fake_model *m, char *text) {
  char *save = NULL;
  int first = 1;
  m->mode = MODE_SUM;
  m->delay_ms = g_default_delay_ms;
  m->perf_us = 4242;
  m->faces = 1;
  for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
    while (*line == ' ' || *line == '\t') line++;
    if (first) {
      if (strcmp(line, "FAKERKNN") != 0) return -1;
      first = 0;
      continue;
    }
    if (*line == 0 || *line == '#') continue;
    if (strncmp(line, "input ", 6) == 0) {
      if (m->n_in >= MAX_TENSORS || parse_tensor(line + 6, &m->in[m->n_in], 1)) return -1;
      if (!input_type_supported(m->in[m->n_in].type)) return -1;
      if (!m->in[m->n_in].name[0]) snprintf(m->in[m->n_in].name, 256, "input%u", m->n_in);
      m->n_in++;
    } else if (strncmp(line, "output ", 7) == 0) {
      if (m->n_out >= MAX_TENSORS || parse_tensor(line + 7, &m->out[m->n_out], 0)) return -1;
      if (!output_type_supported(m->out[m->n_out].type)) return -1;
      if (!m->out[m->n_out].name[0]) snprintf(m->out[m->n_out].name, 256, "output%u", m->n_out);
      m->n_out++;
    } else if (strncmp(line, "mode=", 5) == 0) {
      const char *modes[] = {"sum", "embed", "scrfd"};
      if ((m->mode = lookup(line + 5, modes, 3)) < 0) return -1;
    } else if (strncmp(line, "delay_ms=", 9) == 0) {
      m->delay_ms = atoi(line + 9);
    } else if (strncmp(line, "perf_us=", 8) == 0) {
      m->perf_us = atoll(line + 8);
    } else if (strncmp(line, "faces=", 6) == 0) {
      m->faces = atoi(line + 6);
    } else if (strncmp(line, "soc=", 4) == 0) {
      m->soc_refuses_mask = strncmp(line + 4, "rk356", 5) == 0;
    } else if (strncmp(line, "trace=", 6) == 0) {
      if (!(m->trace = fopen(line + 6, "a"))) return -1;
    } else if (strncmp(line, "fail=", 5) == 0) {
      if (m->n_fails >= MAX_FAILS || parse_fail(line + 5, &m->fails[m->n_fails++])) return -1;
    } else {
      return -1;
    }
  }
  if (first || m->n_in == 0 || m->n_out == 0) return -1;
  if (m->mode == MODE_EMBED && (m->in[0].dims[0] == 0 || m->out[m->n_out - 1].n_elems % m->in[0].dims[0] != 0)) return -1;
  if (m->mode == MODE_SCRFD) {
    if (m->in[0].n_dims != 4 || m->faces < 1 || m->faces > 3) return -1;
    for (uint32_t o = 0; o < m->n_out; o++) {
      int stride;
      if (scrfd_role(m, &m->out[o], &stride) < 0) return -1;
    }
  }
  return 0;
}

static void model_release(fake_model *m) {
  if (--m->refs > 0) return;
  if (m->trace) fclose(m->trace);
  free(m);
}

/* ---------- contexts ---------- */

static fake_ctx *find_ctx_locked(uint64_t handle) {
  for (int i = 0; i < MAX_CONTEXTS; i++)
    if (g_ctx[i] && g_ctx[i]->handle == handle) return g_ctx[i];
  return NULL;
}

static fake_ctx *new_ctx_locked(fake_model *m, uint32_t flags) {
  int slot = -1;
  for (int i = 0; i < MAX_CONTEXTS && slot < 0; i++)
    if (!g_ctx[i]) slot = i;
  if (slot < 0) return NULL;
  fake_ctx *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  /* Low bits set: no handle survives a trip through a double (2^64 / 2^53 = 2048 per step). */
  c->handle = HANDLE_BASE | (g_next_id++ << 12) | 0x5A5;
  c->model = m;
  c->flags = flags;
  m->refs++;
  g_ctx[slot] = c;
  g_live_contexts++;
  g_contexts_created++;
  return c;
}

/*
 * Marks the context busy for the duration of a call; a second caller is a violation. Marking
 * happens under g_lock and rknn_destroy unlinks under g_lock while busy, so a context is never
 * freed under another caller.
 */
static int enter(uint64_t handle, fake_ctx **out, const char *func) {
  pthread_mutex_lock(&g_lock);
  fake_ctx *c = find_ctx_locked(handle);
  int previous = c ? atomic_fetch_add(&c->busy, 1) : 0;
  if (c && previous != 0) atomic_fetch_sub(&c->busy, 1);
  pthread_mutex_unlock(&g_lock);
  if (!c) {
    trace(NULL, "%s ctx=0x%016llx UNKNOWN-CONTEXT rc=%d", func, (unsigned long long)handle, E_CTX);
    return E_CTX;
  }
  if (previous != 0) {
    atomic_fetch_add(&g_concurrent_violations, 1);
    trace(c->model, "%s ctx=0x%016llx CONCURRENT-USE rc=%d", func, (unsigned long long)handle, E_FAIL);
    return E_FAIL;
  }
  *out = c;
  return 0;
}

static int leave(fake_ctx *c, const char *func, const char *details, int rc) {
  trace(c->model, "%s ctx=0x%016llx%s%s rc=%d", func, (unsigned long long)c->handle, details ? " " : "",
        details ? details : "", rc);
  atomic_fetch_sub(&c->busy, 1);
  return rc;
}

EXPORT int rknn_init(uint64_t *context, void *model, uint32_t size, uint32_t flag, void *extend) {
  if (!context || !model || extend) {
    trace(NULL, "rknn_init bad-arguments rc=%d", E_PARAM);
    return E_PARAM;
  }
  fake_model *m = calloc(1, sizeof *m);
  char *text = NULL;
  if (size == 0) {
    snprintf(m->path, sizeof m->path, "%s", (const char *)model);
    FILE *f = fopen(m->path, "rb");
    if (f) {
      fseek(f, 0, SEEK_END);
      long n = ftell(f);
      fseek(f, 0, SEEK_SET);
      text = calloc(1, (size_t)n + 1);
      if (fread(text, 1, (size_t)n, f) != (size_t)n) { free(text); text = NULL; }
      fclose(f);
    }
  } else {
    snprintf(m->path, sizeof m->path, "<%u bytes in memory>", size);
    text = calloc(1, (size_t)size + 1);
    memcpy(text, model, size);
  }
  int rc = (!text || parse_model(m, text)) ? E_MODEL : 0;
  free(text);
  if (!rc) rc = injected(m, "rknn_init");
  fake_ctx *c = NULL;
  if (!rc) {
    pthread_mutex_lock(&g_lock);
    c = new_ctx_locked(m, flag);
    pthread_mutex_unlock(&g_lock);
    if (!c) rc = -4;
  }
  trace(m, "rknn_init ctx=0x%016llx model=%s flags=0x%x rc=%d", c ? (unsigned long long)c->handle : 0ull, m->path,
        flag, rc);
  if (rc) {
    m->refs = 1;
    model_release(m);
    return rc;
  }
  *context = c->handle;
  return 0;
}

EXPORT int rknn_dup_context(uint64_t *context_in, uint64_t *context_out) {
  if (!context_in || !context_out) return E_PARAM;
  fake_ctx *c;
  int rc = enter(*context_in, &c, "rknn_dup_context");
  if (rc) return rc;
  rc = injected(c->model, "rknn_dup_context");
  fake_ctx *dup = NULL;
  if (!rc) {
    pthread_mutex_lock(&g_lock);
    if (c->is_dup) rc = E_CTX; /* dup the original, not a copy */
    else if (!(dup = new_ctx_locked(c->model, c->flags))) rc = -4;
    else {
      dup->is_dup = 1;
      dup->parent = c->handle;
      c->live_dups++;
    }
    pthread_mutex_unlock(&g_lock);
  }
  if (!rc) *context_out = dup->handle;
  trace(c->model, "rknn_dup_context ctx=0x%016llx out=0x%016llx rc=%d", (unsigned long long)c->handle,
        dup ? (unsigned long long)dup->handle : 0ull, rc);
  atomic_fetch_sub(&c->busy, 1);
  return rc;
}

EXPORT int rknn_destroy(uint64_t context) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_destroy");
  if (rc) return rc;
  fake_model *m = c->model;
  rc = injected(m, "rknn_destroy");
  if (!rc && c->live_dups > 0) {
    atomic_fetch_add(&g_destroy_order_violations, 1);
    rc = E_FAIL;
  }
  trace(m, "rknn_destroy ctx=0x%016llx dup=%d%s rc=%d", (unsigned long long)c->handle, c->is_dup,
        rc == E_FAIL && c->live_dups > 0 ? " ORIGINAL-BEFORE-DUPS" : "", rc);
  if (rc) {
    atomic_fetch_sub(&c->busy, 1);
    return rc;
  }
  pthread_mutex_lock(&g_lock);
  for (int i = 0; i < MAX_CONTEXTS; i++)
    if (g_ctx[i] == c) g_ctx[i] = NULL;
  if (c->is_dup) {
    fake_ctx *parent = find_ctx_locked(c->parent);
    if (parent) parent->live_dups--;
  }
  g_live_contexts--;
  model_release(m);
  pthread_mutex_unlock(&g_lock);
  for (int i = 0; i < MAX_TENSORS; i++) {
    free(c->in_vals[i]);
    free(c->out_vals[i]);
  }
  free(c);
  return 0;
}

static void fill_attr(unsigned char *info, uint32_t index, const tensor_spec *t) {
  memset(info, 0, ATTR_SIZE);
  wr_u32(info, A_INDEX, index);
  wr_u32(info, A_N_DIMS, t->n_dims);
  for (uint32_t i = 0; i < t->n_dims; i++) wr_u32(info, A_DIMS + 4 * i, t->dims[i]);
  memcpy(info + A_NAME, t->name, strnlen(t->name, 255));
  wr_u32(info, A_N_ELEMS, t->n_elems);
  wr_u32(info, A_SIZE, (uint32_t)(t->n_elems * TYPE_SIZES[t->type]));
  wr_i32(info, A_FMT, t->fmt);
  wr_i32(info, A_TYPE, t->type);
  wr_i32(info, A_QNT, t->qnt);
  info[A_FL] = 0;
  wr_i32(info, A_ZP, t->zp);
  wr_f32(info, A_SCALE, t->scale);
  uint32_t h, w;
  hw_of(t, &h, &w);
  wr_u32(info, A_W_STRIDE, w);
  wr_u32(info, A_SIZE_WITH_STRIDE, (uint32_t)(t->n_elems * TYPE_SIZES[t->type]));
  info[A_PASS_THROUGH] = 0;
  wr_u32(info, A_H_STRIDE, 0);
}

EXPORT int rknn_query(uint64_t context, int cmd, void *info, uint32_t size) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_query");
  if (rc) return rc;
  fake_model *m = c->model;
  char qualified[64];
  snprintf(qualified, sizeof qualified, "rknn_query@%d", cmd);
  if ((rc = injected(m, "rknn_query")) || (rc = injected(m, qualified))) goto done;
  if (!info) { rc = E_PARAM; goto done; }
  switch (cmd) {
    case Q_IN_OUT_NUM:
      if (size < 8) { rc = E_PARAM; break; }
      wr_u32(info, 0, m->n_in);
      wr_u32(info, 4, m->n_out);
      break;
    case Q_INPUT_ATTR:
    case Q_OUTPUT_ATTR: {
      uint32_t n = cmd == Q_INPUT_ATTR ? m->n_in : m->n_out;
      if (size < ATTR_SIZE) { rc = E_PARAM; break; }
      uint32_t index = rd_u32(info, A_INDEX);
      if (index >= n) { rc = E_PARAM; break; }
      fill_attr(info, index, cmd == Q_INPUT_ATTR ? &m->in[index] : &m->out[index]);
      break;
    }
    case Q_PERF_RUN:
      if (size < 8 || !(c->flags & FLAG_COLLECT_PERF)) { rc = E_PARAM; break; }
      memcpy(info, &m->perf_us, 8);
      break;
    case Q_SDK_VERSION:
      if (size < SDK_SIZE) { rc = E_PARAM; break; }
      memset(info, 0, SDK_SIZE);
      snprintf((char *)info, 256, "2.3.0 (fake rknn api)");
      snprintf((char *)info + 256, 256, "0.9.8-fake");
      break;
    default:
      rc = E_PARAM;
  }
done:;
  char details[64];
  snprintf(details, sizeof details, "cmd=%d size=%u", cmd, size);
  return leave(c, "rknn_query", details, rc);
}

static double decode(const unsigned char *p, int type) {
  switch (type) {
    case T_FLOAT32: { float f; memcpy(&f, p, 4); return f; }
    case T_FLOAT16: { uint16_t h; memcpy(&h, p, 2); return half_to_float(h); }
    case T_INT8: return (int8_t)p[0];
    case T_UINT8: return p[0];
    default: return NAN;
  }
}

/* Index into a 4-D buffer of layout `fmt` holding the tensor of NHWC-shape (n, h, w, c). */
static size_t index4(int fmt, uint32_t h, uint32_t w, uint32_t c, uint32_t in, uint32_t ih, uint32_t iw, uint32_t ic) {
  return fmt == F_NCHW ? ((size_t)(in * c + ic) * h + ih) * w + iw : ((size_t)(in * h + ih) * w + iw) * c + ic;
}

static int set_one_input(fake_ctx *c, const unsigned char *desc) {
  const fake_model *m = c->model;
  uint32_t index = rd_u32(desc, I_INDEX);
  if (index >= m->n_in || c->in_set[index] == 2) return E_PARAM; /* 2: seen in this call */
  const tensor_spec *t = &m->in[index];
  const unsigned char *buf = rd_ptr(desc, I_BUF);
  uint32_t size = rd_u32(desc, I_SIZE);
  int pass_through = rd_u8(desc, I_PASS_THROUGH);
  int type = rd_i32(desc, I_TYPE), fmt = rd_i32(desc, I_FMT);
  if (!buf) return E_PARAM;
  if (pass_through) {
    if (type != t->type) return E_PARAM;
    fmt = t->fmt;
  } else {
    if (type < 0 || type >= T_COUNT || !input_type_supported(type)) return E_PARAM;
    if (t->n_dims == 4 && fmt != F_NCHW && fmt != F_NHWC) return E_PARAM;
    if (fmt < 0 || fmt >= F_COUNT) return E_PARAM;
  }
  if ((size_t)size != (size_t)t->n_elems * TYPE_SIZES[type]) return E_PARAM;

  double *vals = c->in_vals[index];
  if (!vals && !(vals = c->in_vals[index] = malloc(sizeof(double) * t->n_elems))) return -4;
  size_t es = TYPE_SIZES[type];
  if (t->n_dims == 4 && fmt != t->fmt) {
    /* Shape (n, h, w, ch) of the tensor, read from the model's dims in its own layout. */
    uint32_t n = t->dims[0], h, w, ch = t->fmt == F_NCHW ? t->dims[1] : t->dims[3];
    hw_of(t, &h, &w);
    for (uint32_t a = 0; a < n; a++)
      for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
          for (uint32_t k = 0; k < ch; k++)
            vals[index4(t->fmt, h, w, ch, a, y, x, k)] = decode(buf + es * index4(fmt, h, w, ch, a, y, x, k), type);
  } else {
    for (uint32_t i = 0; i < t->n_elems; i++) vals[i] = decode(buf + es * i, type);
  }
  for (uint32_t i = 0; i < t->n_elems; i++) vals[i] = (vals[i] - t->mean) / t->std;
  c->in_set[index] = 2;
  return 0;
}

EXPORT int rknn_inputs_set(uint64_t context, uint32_t n_inputs, void *inputs) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_inputs_set");
  if (rc) return rc;
  fake_model *m = c->model;
  if ((rc = injected(m, "rknn_inputs_set"))) return leave(c, "rknn_inputs_set", NULL, rc);
  if (!inputs || n_inputs != m->n_in) return leave(c, "rknn_inputs_set", NULL, E_PARAM);
  for (uint32_t i = 0; i < m->n_in; i++)
    if (c->in_set[i]) c->in_set[i] = 1;
  for (uint32_t i = 0; i < n_inputs && !rc; i++) rc = set_one_input(c, (const unsigned char *)inputs + INPUT_SIZE * i);
  for (uint32_t i = 0; i < m->n_in; i++) {
    if (c->in_set[i] == 2) c->in_set[i] = 1;
    if (rc) c->in_set[i] = 0; /* a failed call leaves no usable inputs */
  }
  return leave(c, "rknn_inputs_set", NULL, rc);
}

static void put_face(const fake_model *m, double **outs, int stride, uint32_t row, uint32_t col, int anchor,
                     double score, const double dist[4]) {
  static const double KPS[10] = {-2, -1.5, 2, -1.5, 0, 0.5, -1.5, 3, 1.5, 3};
  uint32_t h, w;
  hw_of(&m->in[0], &h, &w);
  uint32_t cols = (w + stride - 1) / stride;
  size_t i = ((size_t)row * cols + col) * 2 + anchor;
  for (uint32_t o = 0; o < m->n_out; o++) {
    int s, role = scrfd_role(m, &m->out[o], &s);
    if (s != stride) continue;
    if (role == 0) outs[o][i] = score;
    if (role == 1) for (int k = 0; k < 4; k++) outs[o][i * 4 + k] = dist[k];
    if (role == 2) for (int k = 0; k < 10; k++) outs[o][i * 10 + k] = KPS[k];
  }
}

static void compute_outputs(fake_ctx *c) {
  const fake_model *m = c->model;
  double **outs = c->out_vals;
  for (uint32_t o = 0; o < m->n_out; o++) memset(outs[o], 0, sizeof(double) * m->out[o].n_elems);
  if (m->mode == MODE_SUM) {
    for (uint32_t o = 0; o < m->n_out; o++) {
      uint32_t n = m->out[o].n_elems;
      size_t j = 0;
      for (uint32_t i = 0; i < m->n_in; i++)
        for (uint32_t e = 0; e < m->in[i].n_elems; e++, j++) outs[o][j % n] += c->in_vals[i][e];
      for (uint32_t k = 0; k < n; k++) outs[o][k] *= (double)(o + 1);
    }
  } else if (m->mode == MODE_EMBED) {
    uint32_t last = m->n_out - 1;
    uint32_t batch = m->in[0].dims[0], dim = m->out[last].n_elems / batch, item = m->in[0].n_elems / batch;
    for (uint32_t b = 0; b < batch; b++)
      for (uint32_t j = 0; j < item; j++) outs[last][b * dim + j % dim] += c->in_vals[0][(size_t)b * item + j];
  } else {
    uint32_t h, w;
    hw_of(&m->in[0], &h, &w);
    uint32_t rows16 = (h + 15) / 16, cols16 = (w + 15) / 16, rows8 = (h + 7) / 8, cols8 = (w + 7) / 8;
    const double dist[4] = {5, 6, 5, 7}, weaker[4] = {5.25, 6, 5, 7};
    put_face(m, outs, 16, rows16 / 2, cols16 / 2, 0, 0.9375, dist);
    put_face(m, outs, 16, rows16 / 2, cols16 / 2, 1, 0.625, weaker);
    if (m->faces >= 2) put_face(m, outs, 8, rows8 / 8, cols8 / 8, 0, 0.875, dist);
    if (m->faces >= 3) put_face(m, outs, 8, rows8 / 8, cols8 - cols8 / 8, 0, 0.8125, dist);
  }
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

EXPORT int rknn_run(uint64_t context, void *extend) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_run");
  if (rc) return rc;
  fake_model *m = c->model;
  int parallel = 0;
  if ((rc = injected(m, "rknn_run"))) goto done;
  if (extend) { rc = E_PARAM; goto done; }
  for (uint32_t i = 0; i < m->n_in; i++)
    if (!c->in_set[i]) { rc = E_INPUT; goto done; }
  for (uint32_t o = 0; o < m->n_out; o++)
    if (!c->out_vals[o] && !(c->out_vals[o] = malloc(sizeof(double) * m->out[o].n_elems))) { rc = -4; goto done; }
  parallel = atomic_fetch_add(&g_running, 1) + 1;
  for (int seen = atomic_load(&g_max_parallel); parallel > seen;)
    if (atomic_compare_exchange_weak(&g_max_parallel, &seen, parallel)) break;
  if (m->delay_ms > 0) sleep_ms(m->delay_ms);
  compute_outputs(c);
  atomic_fetch_sub(&g_running, 1);
  atomic_fetch_add(&g_runs, 1);
  c->has_run = 1;
done:
  trace(m, "rknn_run ctx=0x%016llx parallel=%d rc=%d", (unsigned long long)c->handle, parallel, rc);
  atomic_fetch_sub(&c->busy, 1);
  return rc;
}

/* The value as the output's native type stores it (rounded / quantised), as a double. */
static double native_round(const tensor_spec *t, double v, long *q) {
  double lo = 0, hi = 0;
  switch (t->type) {
    case T_FLOAT32: return (float)v;
    case T_FLOAT16: return half_to_float(float_to_half((float)v));
    case T_INT8: lo = -128; hi = 127; break;
    case T_UINT8: lo = 0; hi = 255; break;
    case T_INT16: lo = -32768; hi = 32767; break;
  }
  double scaled = t->qnt == QNT_AFFINE ? nearbyint(v / t->scale) + t->zp : nearbyint(v);
  *q = (long)(scaled < lo ? lo : scaled > hi ? hi : scaled);
  return t->qnt == QNT_AFFINE ? (double)(*q - t->zp) * t->scale : (double)*q;
}

static void write_native(const tensor_spec *t, unsigned char *dst, double v) {
  long q = 0;
  double r = native_round(t, v, &q);
  switch (t->type) {
    case T_FLOAT32: { float f = (float)r; memcpy(dst, &f, 4); break; }
    case T_FLOAT16: { uint16_t h = float_to_half((float)r); memcpy(dst, &h, 2); break; }
    case T_INT8: { int8_t x = (int8_t)q; memcpy(dst, &x, 1); break; }
    case T_UINT8: { uint8_t x = (uint8_t)q; memcpy(dst, &x, 1); break; }
    case T_INT16: { int16_t x = (int16_t)q; memcpy(dst, &x, 2); break; }
  }
}

EXPORT int rknn_outputs_get(uint64_t context, uint32_t n_outputs, void *outputs, void *extend) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_outputs_get");
  if (rc) return rc;
  fake_model *m = c->model;
  if ((rc = injected(m, "rknn_outputs_get"))) return leave(c, "rknn_outputs_get", NULL, rc);
  if (!outputs || extend || n_outputs != m->n_out) return leave(c, "rknn_outputs_get", NULL, E_PARAM);
  if (!c->has_run) return leave(c, "rknn_outputs_get", NULL, E_OUTPUT);
  int seen[MAX_TENSORS] = {0};
  for (uint32_t i = 0; i < n_outputs; i++) {
    const unsigned char *desc = (const unsigned char *)outputs + OUTPUT_SIZE * i;
    uint32_t index = rd_u32(desc, O_INDEX);
    if (index >= m->n_out || seen[index]++) return leave(c, "rknn_outputs_get", NULL, E_PARAM);
    if (rd_u8(desc, O_IS_PREALLOC)) {
      const tensor_spec *t = &m->out[index];
      size_t need = (size_t)t->n_elems * (rd_u8(desc, O_WANT_FLOAT) ? 4 : TYPE_SIZES[t->type]);
      if (!rd_ptr(desc, O_BUF) || rd_u32(desc, O_SIZE) < need) return leave(c, "rknn_outputs_get", NULL, E_PARAM);
    }
  }
  for (uint32_t i = 0; i < n_outputs; i++) {
    unsigned char *desc = (unsigned char *)outputs + OUTPUT_SIZE * i;
    uint32_t index = rd_u32(desc, O_INDEX);
    const tensor_spec *t = &m->out[index];
    int want_float = rd_u8(desc, O_WANT_FLOAT);
    size_t es = want_float ? 4 : TYPE_SIZES[t->type], need = (size_t)t->n_elems * es;
    unsigned char *buf = rd_ptr(desc, O_BUF);
    if (!rd_u8(desc, O_IS_PREALLOC)) {
      pthread_mutex_lock(&g_lock);
      int slot = -1;
      for (int b = 0; b < MAX_BUFFERS && slot < 0; b++)
        if (!g_buffers[b]) slot = b;
      buf = slot >= 0 ? malloc(need) : NULL;
      if (buf) {
        g_buffers[slot] = buf;
        g_live_buffers++;
      }
      pthread_mutex_unlock(&g_lock);
      if (!buf) return leave(c, "rknn_outputs_get", NULL, -4);
      wr_ptr(desc, O_BUF, buf);
    }
    wr_u32(desc, O_SIZE, (uint32_t)need);
    for (uint32_t k = 0; k < t->n_elems; k++) {
      double v = c->out_vals[index][k];
      if (want_float) {
        long q;
        float f = (float)native_round(t, v, &q);
        memcpy(buf + 4 * (size_t)k, &f, 4);
      } else {
        write_native(t, buf + es * k, v);
      }
    }
  }
  return leave(c, "rknn_outputs_get", NULL, 0);
}

EXPORT int rknn_outputs_release(uint64_t context, uint32_t n_outputs, void *outputs) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_outputs_release");
  if (rc) return rc;
  if (!outputs || n_outputs > c->model->n_out) return leave(c, "rknn_outputs_release", NULL, E_PARAM);
  /* An injected failure still frees, so that it does not show up as the caller's leak. */
  int fail = injected(c->model, "rknn_outputs_release");
  for (uint32_t i = 0; i < n_outputs; i++) {
    unsigned char *desc = (unsigned char *)outputs + OUTPUT_SIZE * i;
    void *buf = rd_ptr(desc, O_BUF);
    if (rd_u8(desc, O_IS_PREALLOC) || !buf) continue;
    pthread_mutex_lock(&g_lock);
    int found = 0;
    for (int b = 0; b < MAX_BUFFERS && !found; b++)
      if (g_buffers[b] == buf) {
        g_buffers[b] = NULL;
        g_live_buffers--;
        found = 1;
      }
    pthread_mutex_unlock(&g_lock);
    if (!found) {
      rc = E_PARAM;
      continue;
    }
    free(buf);
    wr_ptr(desc, O_BUF, NULL);
  }
  return leave(c, "rknn_outputs_release", NULL, fail ? fail : rc);
}

EXPORT int rknn_set_core_mask(uint64_t context, int mask) {
  fake_ctx *c;
  int rc = enter(context, &c, "rknn_set_core_mask");
  if (rc) return rc;
  if (!(rc = injected(c->model, "rknn_set_core_mask"))) {
    int valid = mask == 0 || mask == 1 || mask == 2 || mask == 4 || mask == 3 || mask == 7 || mask == 0xffff;
    rc = !valid ? E_PARAM : c->model->soc_refuses_mask ? E_FAIL : 0;
  }
  char details[32];
  snprintf(details, sizeof details, "mask=%d", mask);
  return leave(c, "rknn_set_core_mask", details, rc);
}

/* ---------- load and exit ---------- */

__attribute__((constructor)) static void fake_load(void) {
  const char *fail = getenv("FAKE_RKNN_FAIL");
  if (fail && *fail) {
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", fail);
    char *save = NULL;
    for (char *rule = strtok_r(copy, ",", &save); rule && g_env_n_fails < MAX_FAILS; rule = strtok_r(NULL, ",", &save))
      if (parse_fail(rule, &g_env_fails[g_env_n_fails]) == 0) g_env_n_fails++;
  }
  const char *trace_path = getenv("FAKE_RKNN_TRACE");
  if (trace_path && *trace_path) g_trace = fopen(trace_path, "a");
  const char *delay = getenv("FAKE_RKNN_DELAY_MS");
  if (delay) g_default_delay_ms = atoi(delay);
  const char *report = getenv("FAKE_RKNN_REPORT");
  if (report) snprintf(g_report, sizeof g_report, "%s", report);
}

__attribute__((destructor)) static void fake_exit(void) {
  int leaks = g_live_contexts + g_live_buffers;
  int violations = atomic_load(&g_concurrent_violations) + atomic_load(&g_destroy_order_violations);
  char json[1024];
  snprintf(json, sizeof json,
           "{\"live_contexts\":%d,\"live_output_buffers\":%d,\"leaks\":%d,\"contexts_created\":%d,"
           "\"concurrent_violations\":%d,\"destroy_order_violations\":%d,\"max_parallel_runs\":%d,\"runs\":%d}\n",
           g_live_contexts, g_live_buffers, leaks, g_contexts_created, atomic_load(&g_concurrent_violations),
           atomic_load(&g_destroy_order_violations), atomic_load(&g_max_parallel), atomic_load(&g_runs));
  if (g_report[0]) {
    FILE *f = fopen(g_report, "w");
    if (f) {
      fputs(json, f);
      fclose(f);
    }
  } else if (leaks || violations) {
    fprintf(stderr, "fake-rknn: problems at exit: %s", json);
  }
  if (g_trace) fclose(g_trace);
}

/* Test hook, not part of the RKNN ABI: the report as JSON, for a C harness in-process. */
EXPORT int fake_rknn_report(char *out, uint32_t size) {
  return snprintf(out, size,
                  "{\"live_contexts\":%d,\"live_output_buffers\":%d,\"concurrent_violations\":%d,"
                  "\"destroy_order_violations\":%d,\"max_parallel_runs\":%d,\"runs\":%d}",
                  g_live_contexts, g_live_buffers, atomic_load(&g_concurrent_violations),
                  atomic_load(&g_destroy_order_violations), atomic_load(&g_max_parallel), atomic_load(&g_runs));
}
