/*
 * cref: a small, correct f32 plugin for hcal's C plugin ABI, used by
 * hcal-plugin's tests (and, compiled with -DHCAL_TEST_ABI_MAJOR=2, as a
 * plugin built for another ABI major version).
 *
 * Runs MatMul on rank-2 operands, Add/Sub/Mul/Div with numpy broadcasting,
 * Relu, Sigmoid, Tanh, Exp, Neg and Softmax on the last axis, all in f32, and
 * declines everything else with a reason naming what it declines. Host
 * memory only (malloc); destroy frees every tensor still allocated.
 *
 * broken.c includes this file with HCAL_TEST_BROKEN defined: the plugin
 * "cbroken", whose Add computes a - b, Mul writes a NaN into element 0, Exp
 * dereferences NULL, Tanh never returns and Relu calls abort().
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hcal_plugin.h"

#ifndef HCAL_TEST_ABI_MAJOR
#define HCAL_TEST_ABI_MAJOR HCAL_PLUGIN_ABI_MAJOR
#endif
/* -DHCAL_TEST_ABI_MINOR=1: a plugin built for an older minor version. */
#ifndef HCAL_TEST_ABI_MINOR
#define HCAL_TEST_ABI_MINOR HCAL_PLUGIN_ABI_MINOR
#endif

#ifdef HCAL_TEST_BROKEN
#define PLUGIN_NAME "cbroken"
#else
#define PLUGIN_NAME "cref"
#endif

#define MAX_RANK 8

#if defined(_WIN32)
#define EXPORT __declspec(dllexport)
#else
#define EXPORT __attribute__((visibility("default")))
#endif

struct hcal_tensor {
    struct hcal_tensor *prev, *next;
    size_t bytes;
    float *data;
};

struct hcal_device {
    struct hcal_tensor *tensors; /* every live tensor, to free in destroy */
    char error[512];
};

static _Thread_local char create_error[256];

static hcal_status fail(hcal_device *dev, hcal_status status, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(dev->error, sizeof dev->error, fmt, args);
    va_end(args);
    return status;
}

static const char *dtype_name(hcal_dtype d) {
    switch (d) {
    case HCAL_DTYPE_ABSENT: return "absent";
    case HCAL_DTYPE_F32: return "f32";
    case HCAL_DTYPE_F16: return "f16";
    case HCAL_DTYPE_BF16: return "bf16";
    case HCAL_DTYPE_BOOL: return "bool";
    case HCAL_DTYPE_I64: return "i64";
    case HCAL_DTYPE_Q4_0: return "q4_0";
    case HCAL_DTYPE_Q4_1: return "q4_1";
    case HCAL_DTYPE_Q8_0: return "q8_0";
    default: return "unknown dtype";
    }
}

static const char *op_name(const hcal_op *op) {
    static const char *unary[] = {"Relu", "Sigmoid", "Silu", "Exp",   "Tanh",  "Neg",   "Sqrt",
                                  "Reciprocal", "Abs", "Erf", "Floor", "Ceil", "Round", "Not"};
    static const char *binary[] = {"Add",  "Sub",     "Mul",         "Div",            "Max", "Min", "Pow",
                                   "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"};
    static const char *reduce[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2"};
    switch (op->kind) {
    case HCAL_OP_MATMUL: return "MatMul";
    case HCAL_OP_GEMM: return "Gemm";
    case HCAL_OP_SOFTMAX: return "Softmax";
    case HCAL_OP_LAYER_NORMALIZATION: return "LayerNormalization";
    case HCAL_OP_RMS_NORMALIZATION: return "RMSNormalization";
    case HCAL_OP_ATTENTION: return "Attention";
    case HCAL_OP_ROTARY_EMBEDDING: return "RotaryEmbedding";
    case HCAL_OP_GELU: return "Gelu";
    case HCAL_OP_UNARY: return op->attrs.unary.op < 14 ? unary[op->attrs.unary.op] : "an unknown unary op";
    case HCAL_OP_BINARY: return op->attrs.binary.op < 14 ? binary[op->attrs.binary.op] : "an unknown binary op";
    case HCAL_OP_REDUCE: return op->attrs.reduce.op < 6 ? reduce[op->attrs.reduce.op] : "an unknown reduction";
    case HCAL_OP_TRANSPOSE: return "Transpose";
    case HCAL_OP_CAST: return "Cast";
    /* ABI 1.2: named in messages, declined by plugin_supports like every op it does not implement. */
    case HCAL_OP_ARG_MAX: return "ArgMax";
    case HCAL_OP_ARG_MIN: return "ArgMin";
    case HCAL_OP_LOG_SOFTMAX: return "LogSoftmax";
    case HCAL_OP_CUM_SUM: return "CumSum";
    case HCAL_OP_LEAKY_RELU: return "LeakyRelu";
    case HCAL_OP_HARD_SIGMOID: return "HardSigmoid";
    case HCAL_OP_CLIP: return "Clip";
    case HCAL_OP_WHERE: return "Where";
    case HCAL_OP_GATHER: return "Gather";
    case HCAL_OP_GATHER_ELEMENTS: return "GatherElements";
    case HCAL_OP_TENSOR_SCATTER: return "TensorScatter";
    case HCAL_OP_CONCAT: return "Concat";
    case HCAL_OP_SLICE: return "Slice";
    case HCAL_OP_SPLIT: return "Split";
    case HCAL_OP_EXPAND: return "Expand";
    case HCAL_OP_RESHAPE: return "Reshape";
    case HCAL_OP_RANGE: return "Range";
    case HCAL_OP_TRILU: return "Trilu";
    case HCAL_OP_RMS_NORM_GEMM: return "RMSNormGemm";
    case HCAL_OP_GATED_UNARY: return "GatedUnary";
    case HCAL_OP_SPLIT_ROTARY_SCATTER: return "SplitRotaryScatter";
    default: return "an unknown op";
    }
}

static size_t numel(const hcal_tensor_desc *d) {
    size_t n = 1;
    for (uint32_t i = 0; i < d->rank; i++) n *= (size_t)d->shape[i];
    return n;
}

/* ---- capability ---------------------------------------------------------------- */

static hcal_status plugin_supports(hcal_device *dev, const hcal_op *op, const hcal_tensor_desc *inputs,
                                   uint32_t num_inputs) {
    const char *name = op_name(op);
    for (uint32_t i = 0; i < num_inputs; i++) {
        /* SplitRotaryScatter's write_indices (input 3) are i64 by definition. */
        if (op->kind == HCAL_OP_SPLIT_ROTARY_SCATTER && i == 3) continue;
        if (inputs[i].dtype != HCAL_DTYPE_F32 && inputs[i].dtype != HCAL_DTYPE_ABSENT)
            return fail(dev, HCAL_STATUS_UNSUPPORTED, PLUGIN_NAME " runs f32 only; %s input %u is %s", name, i,
                        dtype_name(inputs[i].dtype));
    }
    switch (op->kind) {
    case HCAL_OP_MATMUL:
        if (inputs[0].rank != 2 || inputs[1].rank != 2)
            return fail(dev, HCAL_STATUS_UNSUPPORTED,
                        PLUGIN_NAME " runs MatMul on rank-2 operands only (no batch, no vectors); got ranks %u and %u",
                        inputs[0].rank, inputs[1].rank);
        return HCAL_OK;
    case HCAL_OP_BINARY:
        if (op->attrs.binary.op > HCAL_BINARY_DIV)
            return fail(dev, HCAL_STATUS_UNSUPPORTED, PLUGIN_NAME " does not implement %s (only Add, Sub, Mul, Div)",
                        name);
        if (inputs[0].rank > MAX_RANK || inputs[1].rank > MAX_RANK)
            return fail(dev, HCAL_STATUS_UNSUPPORTED, PLUGIN_NAME " runs %s up to rank %d", name, MAX_RANK);
        return HCAL_OK;
    case HCAL_OP_UNARY:
    case HCAL_OP_GATED_UNARY: /* ABI 1.3: the activation is attrs.unary's */
        switch (op->attrs.unary.op) {
        case HCAL_UNARY_RELU:
        case HCAL_UNARY_SIGMOID:
        case HCAL_UNARY_SILU:
        case HCAL_UNARY_TANH:
        case HCAL_UNARY_EXP:
        case HCAL_UNARY_NEG:
        case HCAL_UNARY_ABS:
        case HCAL_UNARY_ERF:
        case HCAL_UNARY_FLOOR:
        case HCAL_UNARY_CEIL:
        case HCAL_UNARY_ROUND:
            return HCAL_OK;
        default:
            return fail(dev, HCAL_STATUS_UNSUPPORTED,
                        PLUGIN_NAME " does not implement %s (only Relu, Sigmoid, Silu, Tanh, Exp, Neg, Abs, Erf, Floor, Ceil, Round%s)",
                        name, op->kind == HCAL_OP_GATED_UNARY ? " as activations" : "");
        }
    case HCAL_OP_RMS_NORM_GEMM: /* ABI 1.3: inputs (A, Scale, B, C?) */
        if (inputs[0].rank != 2 || inputs[2].rank != 2)
            return fail(dev, HCAL_STATUS_UNSUPPORTED,
                        PLUGIN_NAME " runs RMSNormGemm on rank-2 operands only; got A of rank %u and B of rank %u",
                        inputs[0].rank, inputs[2].rank);
        if (num_inputs > 3 && inputs[3].dtype != HCAL_DTYPE_ABSENT) {
            int64_t n = op->attrs.rms_norm_gemm.trans_b ? inputs[2].shape[0] : inputs[2].shape[1];
            if (inputs[3].rank != 2 || inputs[3].shape[0] != inputs[0].shape[0] || inputs[3].shape[1] != n)
                return fail(dev, HCAL_STATUS_UNSUPPORTED,
                            PLUGIN_NAME " runs RMSNormGemm with C of shape [M, N] only (no broadcasting)");
        }
        return HCAL_OK;
    case HCAL_OP_SPLIT_ROTARY_SCATTER: /* ABI 1.3 */
        return HCAL_OK;
    case HCAL_OP_SOFTMAX: {
        int64_t rank = inputs[0].rank, axis = op->attrs.softmax.axis;
        if (rank == 0 || (axis != -1 && axis != rank - 1))
            return fail(dev, HCAL_STATUS_UNSUPPORTED,
                        PLUGIN_NAME " runs Softmax on the last axis only; got axis %lld of rank %lld",
                        (long long)axis, (long long)rank);
        return HCAL_OK;
    }
    default:
        return fail(dev, HCAL_STATUS_UNSUPPORTED, PLUGIN_NAME " does not implement %s", name);
    }
}

/* ---- kernels --------------------------------------------------------------------- */

static void matmul(const hcal_tensor_desc *a, const float *A, const hcal_tensor_desc *b, const float *B, float *Y) {
    size_t m = (size_t)a->shape[0], k = (size_t)a->shape[1], n = (size_t)b->shape[1];
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (size_t p = 0; p < k; p++) acc += (double)A[i * k + p] * (double)B[p * n + j];
            Y[i * n + j] = (float)acc;
        }
}

/* Strides of `d` aligned to the output's rank `rank`, 0 where d broadcasts. */
static void broadcast_strides(const hcal_tensor_desc *d, uint32_t rank, const int64_t *out_shape, size_t *strides) {
    size_t stride = 1;
    for (uint32_t k = rank; k-- > 0;) {
        uint32_t off = rank - d->rank;
        if (k < off) {
            strides[k] = 0;
            continue;
        }
        int64_t extent = d->shape[k - off];
        strides[k] = (extent == 1 && out_shape[k] != 1) ? 0 : stride;
        stride *= (size_t)extent;
    }
}

static void binary(uint32_t op, const hcal_tensor_desc *a, const float *A, const hcal_tensor_desc *b, const float *B,
                   const hcal_tensor_desc *y, float *Y) {
    uint32_t rank = y->rank;
    size_t sa[MAX_RANK], sb[MAX_RANK], index[MAX_RANK] = {0};
    broadcast_strides(a, rank, y->shape, sa);
    broadcast_strides(b, rank, y->shape, sb);
    size_t n = numel(y), ia = 0, ib = 0;
    for (size_t i = 0; i < n; i++) {
        float x = A[ia], z = B[ib];
        float r;
        switch (op) {
#ifdef HCAL_TEST_BROKEN
        case HCAL_BINARY_ADD: r = x - z; break; /* fault: Add subtracts */
#else
        case HCAL_BINARY_ADD: r = x + z; break;
#endif
        case HCAL_BINARY_SUB: r = x - z; break;
        case HCAL_BINARY_MUL: r = x * z; break;
        default: r = x / z; break;
        }
        Y[i] = r;
        /* Advance the multi-index, innermost first. */
        for (uint32_t k = rank; k-- > 0;) {
            index[k]++;
            ia += sa[k];
            ib += sb[k];
            if (index[k] < (size_t)y->shape[k]) break;
            ia -= sa[k] * index[k];
            ib -= sb[k] * index[k];
            index[k] = 0;
        }
    }
#ifdef HCAL_TEST_BROKEN
    if (op == HCAL_BINARY_MUL && n > 0) Y[0] = NAN; /* fault: Mul writes a NaN */
#endif
}

static float unary_one(uint32_t op, float x);

static void unary(uint32_t op, const float *X, float *Y, size_t n) {
#ifdef HCAL_TEST_BROKEN
    if (op == HCAL_UNARY_EXP) {
        volatile float *null = NULL;
        Y[0] = *null; /* fault: Exp dereferences NULL */
    }
    if (op == HCAL_UNARY_TANH) {
        volatile int spin = 1;
        while (spin) { /* fault: Tanh never returns */
        }
    }
    if (op == HCAL_UNARY_RELU) abort(); /* fault: Relu aborts the process */
#endif
    for (size_t i = 0; i < n; i++) Y[i] = unary_one(op, X[i]);
}

static float unary_one(uint32_t op, float x) {
    switch (op) {
    case HCAL_UNARY_RELU: return x < 0.0f ? 0.0f : x; /* NaN stays NaN */
    case HCAL_UNARY_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)x)));
    case HCAL_UNARY_SILU: return (float)((double)x / (1.0 + exp(-(double)x)));
    case HCAL_UNARY_TANH: return tanhf(x);
    case HCAL_UNARY_EXP: return expf(x);
    case HCAL_UNARY_ABS: return fabsf(x);
    case HCAL_UNARY_ERF: return erff(x);
    case HCAL_UNARY_FLOOR: return floorf(x);
    case HCAL_UNARY_CEIL: return ceilf(x);
    case HCAL_UNARY_ROUND: return nearbyintf(x); /* the default rounding mode: halves to even */
    default: return -x;
    }
}

/* ABI 1.3 GatedUnary: Y = f(X1) * X2, X's last dim split into halves (f's
 * result rounded to f32, as the Unary op's output is). */
static void gated_unary(uint32_t op, const hcal_tensor_desc *x, const float *X, float *Y) {
    size_t half = x->rank == 0 ? 0 : (size_t)x->shape[x->rank - 1] / 2;
    if (half == 0) return;
    size_t rows = numel(x) / (2 * half);
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < half; j++)
            Y[r * half + j] = unary_one(op, X[r * 2 * half + j]) * X[r * 2 * half + half + j];
}

/* ABI 1.3 RMSNormGemm: each row of A [M, K] RMS-normalized with Scale [K]
 * (rounded to f32, as RMSNormalization's output is), then Gemm:
 * Y = alpha N op(B) + beta C, in double. */
static void rms_norm_gemm(const hcal_op_rms_norm_gemm *attrs, const hcal_tensor_desc *a, const float *A,
                          const float *scale, const hcal_tensor_desc *b, const float *B, const float *C, float *Y) {
    size_t m = (size_t)a->shape[0], k = (size_t)a->shape[1];
    size_t n = (size_t)(attrs->trans_b ? b->shape[0] : b->shape[1]);
    for (size_t i = 0; i < m; i++) {
        const float *row = A + i * k;
        double squares = 0.0;
        for (size_t p = 0; p < k; p++) squares += (double)row[p] * (double)row[p];
        double inv = k > 0 ? 1.0 / sqrt(squares / (double)k + (double)attrs->epsilon) : 0.0;
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (size_t p = 0; p < k; p++) {
                float normed = (float)((double)row[p] * inv * (double)scale[p]);
                acc += (double)normed * (double)(attrs->trans_b ? B[j * k + p] : B[p * n + j]);
            }
            double y = (double)attrs->alpha * acc;
            if (C != NULL) y += (double)attrs->beta * (double)C[i * n + j];
            Y[i * n + j] = (float)y;
        }
    }
}

static void softmax(const hcal_tensor_desc *x, const float *X, float *Y) {
    size_t len = (size_t)x->shape[x->rank - 1];
    if (len == 0) return;
    size_t rows = numel(x) / len;
    for (size_t r = 0; r < rows; r++) {
        const float *in = X + r * len;
        float *out = Y + r * len;
        double max = -INFINITY, sum = 0.0;
        for (size_t i = 0; i < len; i++)
            if (in[i] > max || isnan(in[i])) max = in[i];
        for (size_t i = 0; i < len; i++) sum += exp((double)in[i] - max);
        for (size_t i = 0; i < len; i++) out[i] = (float)(exp((double)in[i] - max) / sum);
    }
}

/* ABI 1.3 SplitRotaryScatter, by its definition: split qkv [B, S, (Hq + 2
 * Hkv) D], rotate Q and K at positions w_b + s (a position outside the
 * tables rotates to NaN), q_out [B, Hq, S, D], and K and V written into the
 * caches [B, Hkv, M, D] at those positions (outside [0, M): dropped). The
 * present caches may be the past ones (in place); else they start as copies. */
static void split_rotary_scatter(const hcal_op_split_rotary_scatter *a, const hcal_tensor_desc *qkv_d,
                                 const float *qkv, const hcal_tensor_desc *cache_d, const float *k_past,
                                 const float *v_past, const int64_t *w, const hcal_tensor_desc *table_d,
                                 const float *cos_t, const float *sin_t, float *q, float *k, float *v) {
    size_t batch = (size_t)qkv_d->shape[0], seq = (size_t)qkv_d->shape[1], width = (size_t)qkv_d->shape[2];
    size_t hq = (size_t)a->q_num_heads, hkv = (size_t)a->kv_num_heads;
    size_t d = width / (hq + 2 * hkv), m = (size_t)cache_d->shape[2], rows = (size_t)table_d->shape[0];
    size_t half = (a->rotary_embedding_dim ? (size_t)a->rotary_embedding_dim : d) / 2;
    if (k != k_past) memcpy(k, k_past, numel(cache_d) * sizeof(float));
    if (v != v_past) memcpy(v, v_past, numel(cache_d) * sizeof(float));
    for (size_t b = 0; b < batch; b++)
        for (size_t s = 0; s < seq; s++) {
            int64_t pos = w[b] + (int64_t)s;
            int in_table = pos >= 0 && (uint64_t)pos < rows, in_cache = pos >= 0 && (uint64_t)pos < m;
            const float *token = qkv + (b * seq + s) * width;
            for (size_t h = 0; h < hq + hkv; h++) {
                float *out = h < hq ? q + ((b * hq + h) * seq + s) * d
                                    : (in_cache ? k + ((b * hkv + (h - hq)) * m + (size_t)pos) * d : NULL);
                if (out == NULL) continue;
                const float *x = token + h * d;
                memcpy(out, x, d * sizeof(float));
                for (size_t p = 0; p < half; p++) {
                    size_t i1 = a->interleaved ? 2 * p : p, i2 = a->interleaved ? 2 * p + 1 : half + p;
                    double c = in_table ? cos_t[(size_t)pos * half + p] : NAN;
                    double sn = in_table ? sin_t[(size_t)pos * half + p] : NAN;
                    out[i1] = (float)(c * x[i1] - sn * x[i2]);
                    out[i2] = (float)(sn * x[i1] + c * x[i2]);
                }
            }
            if (in_cache)
                for (size_t h = 0; h < hkv; h++)
                    memcpy(v + ((b * hkv + h) * m + (size_t)pos) * d, token + (hq + hkv + h) * d, d * sizeof(float));
        }
}

static hcal_status plugin_execute(hcal_device *dev, const hcal_op *op, const hcal_tensor_desc *input_descs,
                                  hcal_tensor *const *inputs, uint32_t num_inputs,
                                  const hcal_tensor_desc *output_descs, hcal_tensor *const *outputs,
                                  uint32_t num_outputs) {
    hcal_status status = plugin_supports(dev, op, input_descs, num_inputs);
    if (status != HCAL_OK) return status;
    if (num_outputs < 1 || outputs[0] == NULL)
        return fail(dev, HCAL_STATUS_INVALID_ARGUMENT, "%s: output 0 is missing", op_name(op));
    float *y = outputs[0]->data;
    switch (op->kind) {
    case HCAL_OP_MATMUL: matmul(&input_descs[0], inputs[0]->data, &input_descs[1], inputs[1]->data, y); break;
    case HCAL_OP_BINARY:
        binary(op->attrs.binary.op, &input_descs[0], inputs[0]->data, &input_descs[1], inputs[1]->data,
               &output_descs[0], y);
        break;
    case HCAL_OP_UNARY: unary(op->attrs.unary.op, inputs[0]->data, y, numel(&input_descs[0])); break;
    case HCAL_OP_SOFTMAX: softmax(&input_descs[0], inputs[0]->data, y); break;
    case HCAL_OP_GATED_UNARY: gated_unary(op->attrs.unary.op, &input_descs[0], inputs[0]->data, y); break;
    case HCAL_OP_SPLIT_ROTARY_SCATTER:
        if (num_outputs < 3 || outputs[1] == NULL || outputs[2] == NULL)
            return fail(dev, HCAL_STATUS_INVALID_ARGUMENT, "SplitRotaryScatter: the present caches are missing");
        split_rotary_scatter(&op->attrs.split_rotary_scatter, &input_descs[0], inputs[0]->data, &input_descs[1],
                             inputs[1]->data, inputs[2]->data, inputs[3]->data, &input_descs[4], inputs[4]->data,
                             inputs[5]->data, y, outputs[1]->data, outputs[2]->data);
        break;
    case HCAL_OP_RMS_NORM_GEMM: {
        const float *c = num_inputs > 3 && inputs[3] != NULL ? inputs[3]->data : NULL;
        rms_norm_gemm(&op->attrs.rms_norm_gemm, &input_descs[0], inputs[0]->data, inputs[1]->data, &input_descs[2],
                      inputs[2]->data, c, y);
        break;
    }
    default: return fail(dev, HCAL_STATUS_UNSUPPORTED, PLUGIN_NAME " does not implement %s", op_name(op));
    }
    return HCAL_OK;
}

/* ---- devices and memory ----------------------------------------------------------- */

static hcal_status plugin_create(const char *options, hcal_device **out) {
    if (options != NULL && strcmp(options, "fail") == 0) {
        snprintf(create_error, sizeof create_error, PLUGIN_NAME " was asked to fail (options \"fail\")");
        return HCAL_STATUS_INTERNAL;
    }
    hcal_device *dev = calloc(1, sizeof *dev);
    if (dev == NULL) {
        snprintf(create_error, sizeof create_error, PLUGIN_NAME ": out of host memory");
        return HCAL_STATUS_OUT_OF_MEMORY;
    }
    *out = dev;
    return HCAL_OK;
}

static const char *plugin_last_create_error(void) { return create_error; }

static void plugin_destroy(hcal_device *dev) {
    struct hcal_tensor *t = dev->tensors;
    while (t != NULL) {
        struct hcal_tensor *next = t->next;
        free(t->data);
        free(t);
        t = next;
    }
    free(dev);
}

static const char *plugin_last_error(hcal_device *dev) { return dev->error; }

static hcal_status plugin_get_info(hcal_device *dev, hcal_device_info *out) {
    (void)dev;
    /* Write only the fields the host knows (its struct_size). */
    if (out->struct_size >= offsetof(hcal_device_info, device_type) + sizeof out->device_type)
        out->device_type = HCAL_DEVICE_CPU;
    if (out->struct_size >= offsetof(hcal_device_info, name) + sizeof out->name)
        out->name = PLUGIN_NAME " host device";
    if (out->struct_size >= offsetof(hcal_device_info, vendor) + sizeof out->vendor) out->vendor = "hcal tests";
    if (out->struct_size >= offsetof(hcal_device_info, driver) + sizeof out->driver)
        out->driver = PLUGIN_NAME " 1.0 (tests/plugins/reference.c)";
    return HCAL_OK;
}

static size_t dtype_size(hcal_dtype d) {
    switch (d) {
    case HCAL_DTYPE_F32: return 4;
    case HCAL_DTYPE_F16:
    case HCAL_DTYPE_BF16: return 2;
    case HCAL_DTYPE_BOOL: return 1;
    case HCAL_DTYPE_I64: return 8;
    default: return 0;
    }
}

static hcal_status plugin_alloc(hcal_device *dev, const hcal_tensor_desc *desc, hcal_tensor **out) {
    size_t bytes = dtype_size(desc->dtype) * numel(desc);
    struct hcal_tensor *t = malloc(sizeof *t);
    /* malloc(0) may return NULL: allocate at least one byte. */
    void *data = malloc(bytes > 0 ? bytes : 1);
    if (t == NULL || data == NULL) {
        free(t);
        free(data);
        return fail(dev, HCAL_STATUS_OUT_OF_MEMORY, PLUGIN_NAME ": malloc of %zu bytes failed", bytes);
    }
    t->bytes = bytes;
    t->data = data;
    t->prev = NULL;
    t->next = dev->tensors;
    if (dev->tensors != NULL) dev->tensors->prev = t;
    dev->tensors = t;
    *out = t;
    return HCAL_OK;
}

static hcal_status plugin_free(hcal_device *dev, hcal_tensor *t) {
    if (t->prev != NULL) t->prev->next = t->next;
    else dev->tensors = t->next;
    if (t->next != NULL) t->next->prev = t->prev;
    free(t->data);
    free(t);
    return HCAL_OK;
}

static hcal_status plugin_write(hcal_device *dev, hcal_tensor *t, const void *data, uint64_t bytes) {
    if (bytes != t->bytes)
        return fail(dev, HCAL_STATUS_INVALID_ARGUMENT, "write: tensor holds %zu bytes, got %llu", t->bytes,
                    (unsigned long long)bytes);
    memcpy(t->data, data, t->bytes);
    return HCAL_OK;
}

static hcal_status plugin_read(hcal_device *dev, hcal_tensor *t, void *data, uint64_t bytes) {
    if (bytes != t->bytes)
        return fail(dev, HCAL_STATUS_INVALID_ARGUMENT, "read: tensor holds %zu bytes, asked for %llu", t->bytes,
                    (unsigned long long)bytes);
    memcpy(data, t->data, t->bytes);
    return HCAL_OK;
}

static hcal_status plugin_sync(hcal_device *dev) {
    (void)dev;
    return HCAL_OK;
}

static const hcal_plugin_api api = {
    .struct_size = sizeof(hcal_plugin_api),
    .abi_major = HCAL_TEST_ABI_MAJOR,
    .abi_minor = HCAL_TEST_ABI_MINOR,
    .name = PLUGIN_NAME,
    .create = plugin_create,
    .last_create_error = plugin_last_create_error,
    .destroy = plugin_destroy,
    .last_error = plugin_last_error,
    .get_info = plugin_get_info,
    .supports = plugin_supports,
    .alloc = plugin_alloc,
    .free = plugin_free,
    .write = plugin_write,
    .read = plugin_read,
    .execute = plugin_execute,
    .sync = plugin_sync,
};

EXPORT const hcal_plugin_api *hcal_plugin_get_api(void) { return &api; }
