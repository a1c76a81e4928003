/*
 * onednn.c: hcal's oneDNN plugin (C side). Implements the table of
 * crates/hcal-plugin/include/hcal_plugin.h on top of oneDNN 2.x's C API.
 *
 * One CPU engine and one in-order stream per hcal_device; tensors are
 * malloc'ed host buffers that oneDNN memory objects wrap for the duration of
 * one call. Every op is planned by one function per op family that either
 * only builds the primitive descriptor (`supports`: dry run, so the answer is
 * exactly oneDNN's answer for that signature) or builds and runs it
 * (`execute`). Broadcasts oneDNN cannot express in one primitive (Gemm's C,
 * LayerNormalization's Scale/B, a broadcast first operand of a binary op) are
 * materialized on the host first: the tensors live in host memory anyway.
 *
 * Built with -DHCAL_ONEDNN_STUB when oneDNN is not installed: then the entry
 * point returns NULL, which hcal reports as "the plugin cannot serve this
 * process".
 */

#include <stddef.h>
#include <stdint.h>

#include "hcal_plugin.h"

const hcal_plugin_api *hcal_onednn_api(void);

#ifdef HCAL_ONEDNN_STUB

const hcal_plugin_api *hcal_onednn_api(void) { return NULL; }

#else

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

/* ---- devices, tensors, errors ------------------------------------------ */

struct hcal_tensor {
    struct hcal_tensor *prev, *next; /* the device's list of live tensors */
    hcal_dtype dtype;
    uint32_t rank;
    int64_t *shape;
    size_t bytes;
    void *data;
};

struct hcal_device {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    hcal_tensor *tensors;
    char error[1024];
    char name[256];
    char vendor[128];
    char driver[256];
};

static _Thread_local char create_error[512];

static hcal_status fail(hcal_device *d, hcal_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static hcal_status fail(hcal_device *d, hcal_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    return status;
}

static const char *dtype_name(hcal_dtype t) {
    switch (t) {
    case HCAL_DTYPE_F32: return "f32";
    case HCAL_DTYPE_F16: return "f16";
    case HCAL_DTYPE_BF16: return "bf16";
    case HCAL_DTYPE_BOOL: return "bool";
    case HCAL_DTYPE_I64: return "i64";
    default: return "absent";
    }
}

static size_t dtype_size(hcal_dtype t) {
    switch (t) {
    case HCAL_DTYPE_F32: return 4;
    case HCAL_DTYPE_F16:
    case HCAL_DTYPE_BF16: return 2;
    case HCAL_DTYPE_BOOL: return 1;
    case HCAL_DTYPE_I64: return 8;
    default: return 0;
    }
}

static const char *status_name(dnnl_status_t s) {
    switch (s) {
    case dnnl_success: return "dnnl_success";
    case dnnl_out_of_memory: return "dnnl_out_of_memory";
    case dnnl_invalid_arguments: return "dnnl_invalid_arguments";
    case dnnl_unimplemented: return "dnnl_unimplemented";
    case dnnl_iterator_ends: return "dnnl_iterator_ends";
    case dnnl_runtime_error: return "dnnl_runtime_error";
    case dnnl_not_required: return "dnnl_not_required";
    default: return "unknown dnnl status";
    }
}

static hcal_status map_status(dnnl_status_t s) {
    switch (s) {
    case dnnl_success: return HCAL_OK;
    case dnnl_out_of_memory: return HCAL_STATUS_OUT_OF_MEMORY;
    case dnnl_unimplemented: return HCAL_STATUS_UNSUPPORTED;
    default: return HCAL_STATUS_INTERNAL;
    }
}

/* Element count of a shape (0 when any extent is 0; 1 for a scalar). */
static int64_t numel(uint32_t rank, const int64_t *shape) {
    int64_t n = 1;
    for (uint32_t i = 0; i < rank; i++) n *= shape[i];
    return n;
}

/* oneDNN's data type for a floating hcal dtype; dnnl_data_type_undef otherwise. */
static dnnl_data_type_t float_dt(hcal_dtype t) {
    switch (t) {
    case HCAL_DTYPE_F32: return dnnl_f32;
    case HCAL_DTYPE_F16: return dnnl_f16;
    case HCAL_DTYPE_BF16: return dnnl_bf16;
    default: return dnnl_data_type_undef;
    }
}

/* ---- host helpers ------------------------------------------------------ */

static float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float load_f32(hcal_dtype t, const void *p, int64_t i) {
    if (t == HCAL_DTYPE_F32) return ((const float *)p)[i];
    uint16_t h = ((const uint16_t *)p)[i];
    if (t == HCAL_DTYPE_F16) return f16_to_f32(h);
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Row-major strides of `shape` (in elements). */
static void plain_strides(int rank, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i];
    }
}

/* Copy `src` of `src_shape` (rank-aligned to `rank`, extents equal or 1)
 * broadcast to `dst` of `dst_shape`, `esize` bytes per element. */
static void broadcast_copy(void *dst, const void *src, int rank, const int64_t *dst_shape,
                           const int64_t *src_shape, size_t esize) {
    int64_t total = numel((uint32_t)rank, dst_shape);
    if (total == 0) return;
    int64_t sstr[DNNL_MAX_NDIMS + 1], idx[DNNL_MAX_NDIMS + 1] = {0};
    plain_strides(rank, src_shape, sstr);
    for (int d = 0; d < rank; d++)
        if (src_shape[d] == 1) sstr[d] = 0;
    int64_t off = 0;
    char *out = dst;
    const char *in = src;
    for (int64_t i = 0; i < total; i++) {
        memcpy(out + (size_t)i * esize, in + (size_t)off * esize, esize);
        for (int d = rank - 1; d >= 0; d--) {
            idx[d]++;
            off += sstr[d];
            if (idx[d] < dst_shape[d]) break;
            off -= sstr[d] * idx[d];
            idx[d] = 0;
        }
    }
}

/* `shape` right-aligned into `rank` dims, leading dims 1. */
static void align_shape(int rank, uint32_t r, const int64_t *shape, int64_t *out) {
    for (int i = 0; i < rank; i++) out[i] = 1;
    for (uint32_t i = 0; i < r; i++) out[rank - (int)r + (int)i] = shape[i];
}

/* ---- oneDNN helpers ---------------------------------------------------- */

static int md_init(dnnl_memory_desc_t *md, int rank, const int64_t *dims, dnnl_data_type_t dt,
                   const int64_t *strides) {
    dnnl_dims_t d, s;
    int64_t plain[DNNL_MAX_NDIMS];
    if (rank == 0) { /* a scalar is one element */
        d[0] = 1;
        s[0] = 1;
        return dnnl_memory_desc_init_by_strides(md, 1, d, dt, s) == dnnl_success;
    }
    if (!strides) {
        plain_strides(rank, dims, plain);
        strides = plain;
    }
    for (int i = 0; i < rank; i++) {
        d[i] = dims[i];
        s[i] = strides[i];
    }
    return dnnl_memory_desc_init_by_strides(md, rank, d, dt, s) == dnnl_success;
}

/* Arguments of one primitive execution and the memory objects behind them. */
typedef struct {
    dnnl_exec_arg_t args[8];
    int n;
} argset;

static void args_free(argset *a) {
    for (int i = 0; i < a->n; i++) dnnl_memory_destroy(a->args[i].memory);
    a->n = 0;
}

static hcal_status args_add(hcal_device *d, argset *a, int which, const dnnl_memory_desc_t *md, void *ptr) {
    dnnl_memory_t m;
    dnnl_status_t s = dnnl_memory_create(&m, md, d->engine, ptr);
    if (s != dnnl_success) return fail(d, map_status(s), "oneDNN: dnnl_memory_create failed (%s)", status_name(s));
    a->args[a->n].arg = which;
    a->args[a->n].memory = m;
    a->n++;
    return HCAL_OK;
}

/* Create a primitive descriptor; on failure the reason names `what`. */
static hcal_status make_pd(hcal_device *d, dnnl_primitive_desc_t *pd, const_dnnl_op_desc_t desc,
                           const_dnnl_primitive_attr_t attr, const char *what, hcal_dtype t) {
    dnnl_status_t s = dnnl_primitive_desc_create(pd, desc, attr, d->engine, NULL);
    if (s == dnnl_success) return HCAL_OK;
    if (s == dnnl_unimplemented)
        return fail(d, HCAL_STATUS_UNSUPPORTED,
                    "%s: oneDNN %d.%d has no CPU implementation of it for %s on this CPU (dnnl_unimplemented)",
                    what, dnnl_version()->major, dnnl_version()->minor, dtype_name(t));
    return fail(d, map_status(s), "%s: oneDNN rejected the primitive descriptor for %s (%s)", what, dtype_name(t),
                status_name(s));
}

/* Run `pd` once with `args`, wait for it, destroy pd and the memory objects. */
static hcal_status run_pd(hcal_device *d, dnnl_primitive_desc_t pd, argset *a, const char *what) {
    dnnl_primitive_t prim;
    dnnl_status_t s = dnnl_primitive_create(&prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) {
        args_free(a);
        return fail(d, map_status(s), "%s: dnnl_primitive_create failed (%s)", what, status_name(s));
    }
    s = dnnl_primitive_execute(prim, d->stream, a->n, a->args);
    if (s == dnnl_success) s = dnnl_stream_wait(d->stream);
    dnnl_primitive_destroy(prim);
    args_free(a);
    if (s != dnnl_success) return fail(d, map_status(s), "%s: execution failed (%s)", what, status_name(s));
    return HCAL_OK;
}

/* A 1-D eltwise primitive over `n` elements in place or from src to dst. */
static hcal_status eltwise(hcal_device *d, dnnl_alg_kind_t alg, float alpha, float beta, hcal_dtype t, int64_t n,
                           void *src, void *dst, const char *what) {
    dnnl_memory_desc_t md;
    int64_t dims[1] = {n > 0 ? n : 1};
    if (!md_init(&md, 1, dims, float_dt(t), NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    dnnl_eltwise_desc_t desc;
    dnnl_status_t s = dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_inference, alg, &md, alpha, beta);
    if (s != dnnl_success)
        return fail(d, map_status(s), "%s: dnnl_eltwise_forward_desc_init failed (%s)", what, status_name(s));
    dnnl_primitive_desc_t pd;
    hcal_status st = make_pd(d, &pd, &desc, NULL, what, t);
    if (st != HCAL_OK) return st;
    if (!dst || n == 0) { /* dry run, or nothing to compute */
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    argset a = {0};
    if ((st = args_add(d, &a, DNNL_ARG_SRC, &md, src)) != HCAL_OK ||
        (st = args_add(d, &a, DNNL_ARG_DST, &md, dst)) != HCAL_OK) {
        args_free(&a);
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    return run_pd(d, pd, &a, what);
}

/* A reorder from `src_md` to `dst_md`; dry run when dst is NULL. */
static hcal_status reorder(hcal_device *d, const dnnl_memory_desc_t *src_md, void *src,
                           const dnnl_memory_desc_t *dst_md, void *dst, const char *what, hcal_dtype t) {
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, src_md, d->engine, dst_md, d->engine, NULL);
    if (s == dnnl_unimplemented)
        return fail(d, HCAL_STATUS_UNSUPPORTED, "%s: oneDNN %d.%d has no CPU reorder for %s (dnnl_unimplemented)",
                    what, dnnl_version()->major, dnnl_version()->minor, dtype_name(t));
    if (s != dnnl_success)
        return fail(d, map_status(s), "%s: oneDNN rejected the reorder (%s)", what, status_name(s));
    if (!dst) {
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    argset a = {0};
    hcal_status st;
    if ((st = args_add(d, &a, DNNL_ARG_FROM, src_md, src)) != HCAL_OK ||
        (st = args_add(d, &a, DNNL_ARG_TO, dst_md, dst)) != HCAL_OK) {
        args_free(&a);
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    return run_pd(d, pd, &a, what);
}

/* ---- per-op planning ----------------------------------------------------
 *
 * Every op function takes the input descriptors and, when executing, the
 * input and output buffers (`in` / `out` NULL in a dry run from `supports`).
 * A dry run on a zero-size signature builds the primitive for the same
 * signature with 0 extents replaced by 1, so the dtype answer is oneDNN's.
 */

static void clamp_zero(int rank, int64_t *dims) {
    for (int i = 0; i < rank; i++)
        if (dims[i] == 0) dims[i] = 1;
}

static hcal_status need_float(hcal_device *d, const char *op, hcal_dtype t) {
    if (float_dt(t) != dnnl_data_type_undef) return HCAL_OK;
    return fail(d, HCAL_STATUS_UNSUPPORTED, "%s: dtype %s is not supported by the oneDNN plugin (f32, f16, bf16 only)",
                op, dtype_name(t));
}

static hcal_status need_rank(hcal_device *d, const char *op, int rank, int max) {
    if (rank <= max) return HCAL_OK;
    return fail(d, HCAL_STATUS_UNSUPPORTED, "%s: rank %d exceeds oneDNN's limit of %d dims (DNNL_MAX_NDIMS)", op, rank,
                max);
}

/* MatMul (numpy semantics) and Gemm share this: Y[b] = alpha A[b] B[b] (+ beta C). */
typedef struct {
    int rank;
    int64_t a_dims[DNNL_MAX_NDIMS], b_dims[DNNL_MAX_NDIMS], y_dims[DNNL_MAX_NDIMS];
    int64_t a_strides[DNNL_MAX_NDIMS], b_strides[DNNL_MAX_NDIMS];
    int64_t k;
    int trans_a, trans_b; /* operands stored transposed (Gemm) */
} mm_geom;

/* Strides of A and B: plain, or for an operand stored transposed ([K, M] for
 * A [M, K]) the last two dims swapped: the transpose is only a stride. */
static void mm_strides(mm_geom *g) {
    int r = g->rank;
    plain_strides(r, g->a_dims, g->a_strides);
    plain_strides(r, g->b_dims, g->b_strides);
    if (g->trans_a) g->a_strides[r - 2] = 1, g->a_strides[r - 1] = g->a_dims[r - 2];
    if (g->trans_b) g->b_strides[r - 2] = 1, g->b_strides[r - 1] = g->b_dims[r - 2];
}

static hcal_status matmul_run(hcal_device *d, const char *what, hcal_dtype t, mm_geom *g, float alpha, int has_c,
                              float beta, void *a, void *b, void *y) {
    int dry = y == NULL;
    int64_t ny = numel((uint32_t)g->rank, g->y_dims);
    if (!dry && ny == 0) return HCAL_OK;
    if (!dry && g->k == 0) {
        /* An empty sum: Y = beta C (already in y when has_c) or zeros. */
        if (!has_c) {
            memset(y, 0, (size_t)ny * dtype_size(t));
            return HCAL_OK;
        }
        if (beta == 1.0f) return HCAL_OK;
        return eltwise(d, dnnl_eltwise_linear, beta, 0.0f, t, ny, y, y, what);
    }
    if (dry && (ny == 0 || g->k == 0)) {
        /* Zero extents: plan the same signature with 1s (dtype support only). */
        clamp_zero(g->rank, g->a_dims);
        clamp_zero(g->rank, g->b_dims);
        clamp_zero(g->rank, g->y_dims);
        g->k = g->a_dims[g->rank - 1];
        mm_strides(g);
    }
    dnnl_data_type_t dt = float_dt(t);
    dnnl_memory_desc_t amd, bmd, ymd;
    if (!md_init(&amd, g->rank, g->a_dims, dt, g->a_strides) || !md_init(&bmd, g->rank, g->b_dims, dt, g->b_strides) ||
        !md_init(&ymd, g->rank, g->y_dims, dt, NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    dnnl_matmul_desc_t desc;
    dnnl_status_t s = dnnl_matmul_desc_init(&desc, &amd, &bmd, NULL, &ymd);
    if (s != dnnl_success)
        return fail(d, map_status(s),
                    "%s: oneDNN's matmul rejects this signature (%s; batch dims must be equal or 1 per dim)", what,
                    status_name(s));
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    if (alpha != 1.0f || has_c) {
        dnnl_primitive_attr_create(&attr);
        if (alpha != 1.0f) dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
        if (has_c) {
            dnnl_post_ops_create(&po);
            dnnl_post_ops_append_sum(po, beta);
            dnnl_primitive_attr_set_post_ops(attr, po);
            dnnl_post_ops_destroy(po);
        }
    }
    dnnl_primitive_desc_t pd;
    hcal_status st = make_pd(d, &pd, &desc, attr, what, t);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (st != HCAL_OK) return st;
    if (dry) {
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    argset args = {0};
    if ((st = args_add(d, &args, DNNL_ARG_SRC, &amd, a)) != HCAL_OK ||
        (st = args_add(d, &args, DNNL_ARG_WEIGHTS, &bmd, b)) != HCAL_OK ||
        (st = args_add(d, &args, DNNL_ARG_DST, &ymd, y)) != HCAL_OK) {
        args_free(&args);
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    return run_pd(d, pd, &args, what);
}

static hcal_status op_matmul(hcal_device *d, const hcal_tensor_desc *in, void *const *x, void *y) {
    const char *what = "MatMul";
    hcal_dtype t = in[0].dtype;
    hcal_status st = need_float(d, what, t);
    if (st != HCAL_OK) return st;
    int64_t as[DNNL_MAX_NDIMS + 2], bs[DNNL_MAX_NDIMS + 2];
    uint32_t ra = in[0].rank, rb = in[1].rank;
    if (ra > DNNL_MAX_NDIMS || rb > DNNL_MAX_NDIMS) return need_rank(d, what, (int)(ra > rb ? ra : rb), DNNL_MAX_NDIMS);
    /* Rank-1 operands: A is a row [1, K], B a column [K, 1]; Y has the same bytes. */
    if (ra == 1) {
        as[0] = 1;
        as[1] = in[0].shape[0];
        ra = 2;
    } else {
        memcpy(as, in[0].shape, ra * sizeof(int64_t));
    }
    if (rb == 1) {
        bs[0] = in[1].shape[0];
        bs[1] = 1;
        rb = 2;
    } else {
        memcpy(bs, in[1].shape, rb * sizeof(int64_t));
    }
    mm_geom g;
    g.rank = (int)(ra > rb ? ra : rb);
    if ((st = need_rank(d, what, g.rank, DNNL_MAX_NDIMS)) != HCAL_OK) return st;
    align_shape(g.rank, ra, as, g.a_dims);
    align_shape(g.rank, rb, bs, g.b_dims);
    for (int i = 0; i < g.rank - 2; i++) g.y_dims[i] = g.a_dims[i] == 1 ? g.b_dims[i] : g.a_dims[i];
    g.y_dims[g.rank - 2] = g.a_dims[g.rank - 2];
    g.y_dims[g.rank - 1] = g.b_dims[g.rank - 1];
    g.k = g.a_dims[g.rank - 1];
    g.trans_a = g.trans_b = 0;
    mm_strides(&g);
    return matmul_run(d, what, t, &g, 1.0f, 0, 1.0f, x ? x[0] : NULL, x ? x[1] : NULL, y);
}

static hcal_status op_gemm(hcal_device *d, const hcal_op_gemm *attrs, const hcal_tensor_desc *in, uint32_t nin,
                           void *const *x, void *y) {
    const char *what = "Gemm";
    hcal_dtype t = in[0].dtype;
    hcal_status st = need_float(d, what, t);
    if (st != HCAL_OK) return st;
    int has_c = nin > 2 && in[2].dtype != HCAL_DTYPE_ABSENT;
    int64_t m = attrs->trans_a ? in[0].shape[1] : in[0].shape[0];
    int64_t k = attrs->trans_a ? in[0].shape[0] : in[0].shape[1];
    int64_t n = attrs->trans_b ? in[1].shape[0] : in[1].shape[1];
    mm_geom g;
    g.rank = 2;
    g.k = k;
    g.a_dims[0] = m, g.a_dims[1] = k;
    g.b_dims[0] = k, g.b_dims[1] = n;
    g.y_dims[0] = m, g.y_dims[1] = n;
    g.trans_a = attrs->trans_a != 0;
    g.trans_b = attrs->trans_b != 0;
    mm_strides(&g);
    if (y && has_c && m * n > 0) {
        /* beta C enters through a sum post-op: Y holds C broadcast to [M, N] first. */
        int64_t cs[2];
        align_shape(2, in[2].rank, in[2].shape, cs);
        broadcast_copy(y, x[2], 2, g.y_dims, cs, dtype_size(t));
    }
    return matmul_run(d, what, t, &g, attrs->alpha, has_c, attrs->beta, x ? x[0] : NULL, x ? x[1] : NULL, y);
}

static int norm_axis(int64_t axis, uint32_t rank) { return (int)(axis < 0 ? axis + (int64_t)rank : axis); }

static hcal_status op_softmax(hcal_device *d, int64_t axis_attr, const hcal_tensor_desc *in, void *const *x, void *y) {
    const char *what = "Softmax";
    hcal_dtype t = in[0].dtype;
    hcal_status st = need_float(d, what, t);
    if (st != HCAL_OK) return st;
    int rank = (int)in[0].rank;
    if ((st = need_rank(d, what, rank, DNNL_MAX_NDIMS)) != HCAL_OK) return st;
    int64_t dims[DNNL_MAX_NDIMS] = {1};
    int axis = rank == 0 ? 0 : norm_axis(axis_attr, in[0].rank);
    int r = rank == 0 ? 1 : rank;
    if (rank) memcpy(dims, in[0].shape, (size_t)rank * sizeof(int64_t));
    int64_t n = numel((uint32_t)r, dims);
    if (y && n == 0) return HCAL_OK; /* nothing to write */
    clamp_zero(r, dims);
    dnnl_memory_desc_t md;
    if (!md_init(&md, r, dims, float_dt(t), NULL)) return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    dnnl_softmax_v2_desc_t desc;
    dnnl_status_t s = dnnl_softmax_v2_forward_desc_init(&desc, dnnl_forward_inference, dnnl_softmax_accurate, &md, &md, axis);
    if (s != dnnl_success) return fail(d, map_status(s), "%s: dnnl_softmax_v2_forward_desc_init failed (%s)", what, status_name(s));
    dnnl_primitive_desc_t pd;
    if ((st = make_pd(d, &pd, &desc, NULL, what, t)) != HCAL_OK) return st;
    if (!y) {
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    argset a = {0};
    if ((st = args_add(d, &a, DNNL_ARG_SRC, &md, x[0])) != HCAL_OK ||
        (st = args_add(d, &a, DNNL_ARG_DST, &md, y)) != HCAL_OK) {
        args_free(&a);
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    return run_pd(d, pd, &a, what);
}

/* Scale / B broadcast to the normalized shape and converted to f32 (oneDNN
 * 2.x takes layer normalization's scale and shift in f32). */
static float *norm_param(const hcal_tensor_desc *p, const void *data, int nrank, const int64_t *nshape, int64_t n) {
    float *out = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!out || !data) return out;
    int64_t ps[DNNL_MAX_NDIMS];
    align_shape(nrank, p->rank, p->shape, ps);
    int64_t np = numel(p->rank, p->shape);
    float *conv = malloc((size_t)(np ? np : 1) * sizeof(float));
    if (!conv) {
        free(out);
        return NULL;
    }
    for (int64_t i = 0; i < np; i++) conv[i] = load_f32(p->dtype, data, i);
    broadcast_copy(out, conv, nrank, nshape, ps, sizeof(float));
    free(conv);
    return out;
}

static hcal_status op_layer_norm(hcal_device *d, const hcal_op_normalization *attrs, const hcal_tensor_desc *in,
                                 uint32_t nin, void *const *x, void *y) {
    const char *what = "LayerNormalization";
    hcal_dtype t = in[0].dtype;
    hcal_status st = need_float(d, what, t);
    if (st != HCAL_OK) return st;
    uint32_t rank = in[0].rank;
    int axis = norm_axis(attrs->axis, rank);
    int nrank = (int)rank - axis;
    if ((st = need_rank(d, what, nrank, DNNL_MAX_NDIMS)) != HCAL_OK) return st;
    /* oneDNN normalizes over the last dim: X is collapsed to [rows, n]. */
    int64_t rows = numel((uint32_t)axis, in[0].shape), n = numel((uint32_t)nrank, in[0].shape + axis);
    int has_b = nin > 2 && in[2].dtype != HCAL_DTYPE_ABSENT;
    if (y && rows * n == 0) return HCAL_OK;
    int64_t dims[2] = {rows ? rows : 1, n ? n : 1};
    dnnl_memory_desc_t md, pmd;
    int64_t pdims[1] = {dims[1]};
    if (!md_init(&md, 2, dims, float_dt(t), NULL) || !md_init(&pmd, 1, pdims, dnnl_f32, NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    dnnl_layer_normalization_desc_t desc;
    dnnl_status_t s = dnnl_layer_normalization_forward_desc_init(&desc, dnnl_forward_inference, &md, NULL,
                                                                 attrs->epsilon, dnnl_use_scale | dnnl_use_shift);
    if (s != dnnl_success)
        return fail(d, map_status(s), "%s: dnnl_layer_normalization_forward_desc_init failed (%s)", what, status_name(s));
    dnnl_primitive_desc_t pd;
    if ((st = make_pd(d, &pd, &desc, NULL, what, t)) != HCAL_OK) return st;
    if (!y) {
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    float *scale = norm_param(&in[1], x[1], nrank, in[0].shape + axis, n);
    float *shift = has_b ? norm_param(&in[2], x[2], nrank, in[0].shape + axis, n) : calloc((size_t)n, sizeof(float));
    float *mean = malloc((size_t)rows * sizeof(float)), *var = malloc((size_t)rows * sizeof(float));
    argset a = {0};
    if (!scale || !shift || !mean || !var) {
        st = fail(d, HCAL_STATUS_OUT_OF_MEMORY, "%s: out of host memory", what);
    } else {
        st = args_add(d, &a, DNNL_ARG_SRC, &md, x[0]);
        if (st == HCAL_OK) st = args_add(d, &a, DNNL_ARG_DST, &md, y);
        if (st == HCAL_OK) st = args_add(d, &a, DNNL_ARG_SCALE, &pmd, scale);
        if (st == HCAL_OK) st = args_add(d, &a, DNNL_ARG_SHIFT, &pmd, shift);
        /* Statistics: only when this implementation asks for them. */
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_MEAN);
        if (st == HCAL_OK && smd && smd->ndims > 0) {
            st = args_add(d, &a, DNNL_ARG_MEAN, smd, mean);
            if (st == HCAL_OK) st = args_add(d, &a, DNNL_ARG_VARIANCE, smd, var);
        }
    }
    if (st == HCAL_OK) {
        st = run_pd(d, pd, &a, what);
    } else {
        args_free(&a);
        dnnl_primitive_desc_destroy(pd);
    }
    free(scale);
    free(shift);
    free(mean);
    free(var);
    return st;
}

static hcal_status op_unary(hcal_device *d, dnnl_alg_kind_t alg, float alpha, float beta, const char *what,
                            const hcal_tensor_desc *in, void *const *x, void *y) {
    hcal_status st = need_float(d, what, in[0].dtype);
    if (st != HCAL_OK) return st;
    return eltwise(d, alg, alpha, beta, in[0].dtype, numel(in[0].rank, in[0].shape), x ? x[0] : NULL, y, what);
}

static const char *binary_name(uint32_t op) {
    static const char *names[] = {"Add",  "Sub",     "Mul",         "Div",            "Max", "Min", "Pow",
                                  "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"};
    return op < 14 ? names[op] : "Binary";
}

static hcal_status op_binary(hcal_device *d, uint32_t op, const hcal_tensor_desc *in, void *const *x, void *y) {
    const char *what = binary_name(op);
    static const dnnl_alg_kind_t algs[] = {dnnl_binary_add, dnnl_binary_sub, dnnl_binary_mul,
                                           dnnl_binary_div, dnnl_binary_max, dnnl_binary_min};
    /* ABI 1.2's Pow, comparisons (bool output) and And/Or are not mapped to oneDNN primitives here. */
    if (op >= 6 && op < 14)
        return fail(d, HCAL_STATUS_UNSUPPORTED, "%s: not implemented by the oneDNN plugin (an ABI 1.2 op)", what);
    if (op >= 6) return fail(d, HCAL_STATUS_UNSUPPORTED, "Binary: unknown binary op %u", op);
    hcal_dtype t = in[0].dtype;
    hcal_status st = need_float(d, what, t);
    if (st != HCAL_OK) return st;
    int rank = (int)(in[0].rank > in[1].rank ? in[0].rank : in[1].rank);
    if ((st = need_rank(d, what, rank, DNNL_MAX_NDIMS)) != HCAL_OK) return st;
    int r = rank ? rank : 1;
    int64_t as[DNNL_MAX_NDIMS], bs[DNNL_MAX_NDIMS], ys[DNNL_MAX_NDIMS];
    align_shape(r, in[0].rank, in[0].shape, as);
    align_shape(r, in[1].rank, in[1].shape, bs);
    int a_full = 1;
    for (int i = 0; i < r; i++) {
        ys[i] = as[i] == 1 ? bs[i] : as[i];
        if (as[i] != ys[i]) a_full = 0;
    }
    int64_t ny = numel((uint32_t)r, ys);
    if (y && ny == 0) return HCAL_OK;
    void *src0 = x ? x[0] : NULL;
    if (y && !a_full) {
        /* oneDNN broadcasts only src1: materialize A broadcast in Y and run in place. */
        broadcast_copy(y, x[0], r, ys, as, dtype_size(t));
        src0 = y;
    }
    if (!y) {
        clamp_zero(r, ys);
        clamp_zero(r, bs);
    }
    dnnl_memory_desc_t ymd, bmd;
    if (!md_init(&ymd, r, ys, float_dt(t), NULL) || !md_init(&bmd, r, bs, float_dt(t), NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    dnnl_binary_desc_t desc;
    dnnl_status_t s = dnnl_binary_desc_init(&desc, algs[op], &ymd, &bmd, &ymd);
    if (s != dnnl_success) return fail(d, map_status(s), "%s: dnnl_binary_desc_init failed (%s)", what, status_name(s));
    dnnl_primitive_desc_t pd;
    if ((st = make_pd(d, &pd, &desc, NULL, what, t)) != HCAL_OK) return st;
    if (!y) {
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    argset a = {0};
    if ((st = args_add(d, &a, DNNL_ARG_SRC_0, &ymd, src0)) != HCAL_OK ||
        (st = args_add(d, &a, DNNL_ARG_SRC_1, &bmd, x[1])) != HCAL_OK ||
        (st = args_add(d, &a, DNNL_ARG_DST, &ymd, y)) != HCAL_OK) {
        args_free(&a);
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    return run_pd(d, pd, &a, what);
}

/* The identity of a reduction of nothing, as the standard defines it. */
static void fill_identity(void *y, int64_t n, hcal_dtype t, uint32_t op) {
    if (op == HCAL_REDUCE_SUM) {
        memset(y, 0, (size_t)n * dtype_size(t));
        return;
    }
    uint32_t f32 = op == HCAL_REDUCE_MEAN ? 0x7fc00000u : 0xff800000u;
    uint16_t h = op == HCAL_REDUCE_MEAN ? 0x7e00 : 0xfc00;
    uint16_t b = (uint16_t)(f32 >> 16);
    for (int64_t i = 0; i < n; i++) {
        if (t == HCAL_DTYPE_F32) memcpy((char *)y + 4 * i, &f32, 4);
        else memcpy((char *)y + 2 * i, t == HCAL_DTYPE_F16 ? &h : &b, 2);
    }
}

static hcal_status op_reduce(hcal_device *d, const hcal_op_reduce *attrs, const hcal_tensor_desc *in, void *const *x,
                             void *y) {
    static const char *names[] = {"ReduceSum", "ReduceMean", "ReduceMax"};
    static const dnnl_alg_kind_t algs[] = {dnnl_reduction_sum, dnnl_reduction_mean, dnnl_reduction_max};
    if (attrs->op > 2) return fail(d, HCAL_STATUS_UNSUPPORTED, "Reduce: unknown reduction %u", attrs->op);
    const char *what = names[attrs->op];
    hcal_dtype t = in[0].dtype;
    hcal_status st = need_float(d, what, t);
    if (st != HCAL_OK) return st;
    int rank = (int)in[0].rank;
    if ((st = need_rank(d, what, rank, DNNL_MAX_NDIMS)) != HCAL_OK) return st;
    int r = rank ? rank : 1;
    int64_t xs[DNNL_MAX_NDIMS], ys[DNNL_MAX_NDIMS];
    align_shape(r, in[0].rank, in[0].shape, xs);
    memcpy(ys, xs, sizeof ys);
    int reduced[DNNL_MAX_NDIMS] = {0}, any = 0;
    if (!attrs->has_axes) {
        for (int i = 0; i < rank; i++) reduced[i] = 1;
    } else {
        for (uint32_t i = 0; i < attrs->num_axes; i++) reduced[norm_axis(attrs->axes[i], in[0].rank)] = 1;
    }
    for (int i = 0; i < r; i++)
        if (reduced[i]) {
            ys[i] = 1;
            if (xs[i] != 1) any = 1;
        }
    int64_t nx = numel((uint32_t)r, xs), ny = numel((uint32_t)r, ys);
    if (y) {
        if (ny == 0) return HCAL_OK;
        if (nx == 0) { /* every output reduces an empty set */
            fill_identity(y, ny, t, attrs->op);
            return HCAL_OK;
        }
        if (!any) { /* only extent-1 dims reduced: the identity map */
            memcpy(y, x[0], (size_t)nx * dtype_size(t));
            return HCAL_OK;
        }
    } else {
        /* Plan a real reduction of the same dtype (zero and extent-1 reduced
         * dims made 2), so the answer is oneDNN's for this dtype. */
        int some = 0;
        for (int i = 0; i < r; i++) some |= reduced[i];
        if (!some) reduced[r - 1] = 1;
        clamp_zero(r, xs);
        for (int i = 0; i < r; i++)
            if (reduced[i]) {
                if (xs[i] < 2) xs[i] = 2;
                ys[i] = 1;
            }
    }
    dnnl_memory_desc_t xmd, ymd;
    if (!md_init(&xmd, r, xs, float_dt(t), NULL) || !md_init(&ymd, r, ys, float_dt(t), NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    dnnl_reduction_desc_t desc;
    dnnl_status_t s = dnnl_reduction_desc_init(&desc, algs[attrs->op], &xmd, &ymd, 0.0f, 0.0f);
    if (s != dnnl_success) {
        /* Dry run with only extent-1 reductions: ys[r-1] may be 1 with xs 2, fine; else report. */
        return fail(d, map_status(s), "%s: dnnl_reduction_desc_init failed (%s)", what, status_name(s));
    }
    dnnl_primitive_desc_t pd;
    if ((st = make_pd(d, &pd, &desc, NULL, what, t)) != HCAL_OK) return st;
    if (!y) {
        dnnl_primitive_desc_destroy(pd);
        return HCAL_OK;
    }
    argset a = {0};
    if ((st = args_add(d, &a, DNNL_ARG_SRC, &xmd, x[0])) != HCAL_OK ||
        (st = args_add(d, &a, DNNL_ARG_DST, &ymd, y)) != HCAL_OK) {
        args_free(&a);
        dnnl_primitive_desc_destroy(pd);
        return st;
    }
    return run_pd(d, pd, &a, what);
}

static hcal_status op_transpose(hcal_device *d, const hcal_op_transpose *attrs, const hcal_tensor_desc *in,
                                void *const *x, void *y) {
    const char *what = "Transpose";
    hcal_dtype t = in[0].dtype;
    int rank = (int)in[0].rank;
    dnnl_data_type_t dt = float_dt(t);
    int extra = 0; /* i64 moves as pairs of s32: one more, innermost dim of 2 */
    if (t == HCAL_DTYPE_BOOL) dt = dnnl_u8;
    if (t == HCAL_DTYPE_I64) dt = dnnl_s32, extra = 1;
    if (dt == dnnl_data_type_undef)
        return fail(d, HCAL_STATUS_UNSUPPORTED, "Transpose: dtype %s is not supported", dtype_name(t));
    hcal_status st = need_rank(d, what, rank + extra, DNNL_MAX_NDIMS);
    if (st != HCAL_OK) return st;
    int64_t n = numel(in[0].rank, in[0].shape);
    if (y && n == 0) return HCAL_OK;
    if (y && rank <= 1) {
        memcpy(y, x[0], (size_t)n * dtype_size(t));
        return HCAL_OK;
    }
    int64_t xstr[DNNL_MAX_NDIMS], dims[DNNL_MAX_NDIMS], sstr[DNNL_MAX_NDIMS], xs[DNNL_MAX_NDIMS];
    int r = rank ? rank : 1;
    align_shape(r, in[0].rank, in[0].shape, xs);
    clamp_zero(r, xs);
    plain_strides(r, xs, xstr);
    for (int k = 0; k < r; k++) {
        int p = rank == 0 ? 0 : attrs->has_perm ? (int)attrs->perm[k] : rank - 1 - k;
        dims[k] = xs[p];
        sstr[k] = xstr[p] * (extra ? 2 : 1);
    }
    if (extra) dims[r] = 2, sstr[r] = 1;
    dnnl_memory_desc_t smd, dmd;
    if (!md_init(&smd, r + extra, dims, dt, sstr) || !md_init(&dmd, r + extra, dims, dt, NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "%s: bad memory descriptor", what);
    return reorder(d, &smd, x ? x[0] : NULL, &dmd, y, what, t);
}

static hcal_status op_cast(hcal_device *d, hcal_dtype to, const hcal_tensor_desc *in, void *const *x, void *y) {
    hcal_dtype from = in[0].dtype;
    int64_t n = numel(in[0].rank, in[0].shape);
    if (from == to) {
        if (y && n) memcpy(y, x[0], (size_t)n * dtype_size(from));
        return HCAL_OK;
    }
    if (from == HCAL_DTYPE_I64 || to == HCAL_DTYPE_I64)
        return fail(d, HCAL_STATUS_UNSUPPORTED, "Cast %s to %s: oneDNN 2.6 has no 64-bit integer data type",
                    dtype_name(from), dtype_name(to));
    if (to == HCAL_DTYPE_BOOL)
        return fail(d, HCAL_STATUS_UNSUPPORTED,
                    "Cast %s to bool: a oneDNN reorder to u8 rounds and saturates, it does not compute x != 0",
                    dtype_name(from));
    dnnl_data_type_t sdt = from == HCAL_DTYPE_BOOL ? dnnl_u8 : float_dt(from), ddt = float_dt(to);
    if (sdt == dnnl_data_type_undef || ddt == dnnl_data_type_undef)
        return fail(d, HCAL_STATUS_UNSUPPORTED, "Cast %s to %s is not supported", dtype_name(from), dtype_name(to));
    if (y && n == 0) return HCAL_OK;
    int64_t dims[1] = {n ? n : 1};
    dnnl_memory_desc_t smd, dmd;
    if (!md_init(&smd, 1, dims, sdt, NULL) || !md_init(&dmd, 1, dims, ddt, NULL))
        return fail(d, HCAL_STATUS_INTERNAL, "Cast: bad memory descriptor");
    char what[64];
    snprintf(what, sizeof what, "Cast %s to %s", dtype_name(from), dtype_name(to));
    if (from == HCAL_DTYPE_F32 || to == HCAL_DTYPE_F32) return reorder(d, &smd, x ? x[0] : NULL, &dmd, y, what, from);
    /* oneDNN 2.6 has no direct f16 <-> bf16 or u8 -> f16 reorder: go through
     * f32. The first step is exact (every f16, bf16 and 0/1 is an f32), so
     * the result is rounded once, to nearest even, as a direct cast would be. */
    dnnl_memory_desc_t fmd;
    if (!md_init(&fmd, 1, dims, dnnl_f32, NULL)) return fail(d, HCAL_STATUS_INTERNAL, "Cast: bad memory descriptor");
    hcal_status st = reorder(d, &smd, NULL, &fmd, NULL, what, from);
    if (st == HCAL_OK) st = reorder(d, &fmd, NULL, &dmd, NULL, what, to);
    if (st != HCAL_OK || !y) return st;
    float *tmp = malloc((size_t)n * sizeof(float));
    if (!tmp) return fail(d, HCAL_STATUS_OUT_OF_MEMORY, "%s: out of host memory", what);
    st = reorder(d, &smd, x[0], &fmd, tmp, what, from);
    if (st == HCAL_OK) st = reorder(d, &fmd, tmp, &dmd, y, what, to);
    free(tmp);
    return st;
}

/* Plan (dry run: x and y NULL) or run one call. */
static hcal_status dispatch(hcal_device *d, const hcal_op *op, const hcal_tensor_desc *in, uint32_t nin,
                            void *const *x, void *y) {
    switch (op->kind) {
    case HCAL_OP_MATMUL: return op_matmul(d, in, x, y);
    case HCAL_OP_GEMM: return op_gemm(d, &op->attrs.gemm, in, nin, x, y);
    case HCAL_OP_SOFTMAX: return op_softmax(d, op->attrs.softmax.axis, in, x, y);
    case HCAL_OP_LAYER_NORMALIZATION: return op_layer_norm(d, &op->attrs.normalization, in, nin, x, y);
    case HCAL_OP_RMS_NORMALIZATION:
        return fail(d, HCAL_STATUS_UNSUPPORTED,
                    "RMSNormalization: oneDNN 2.6 has no RMS normalization primitive (layer normalization "
                    "always subtracts the mean)");
    case HCAL_OP_ATTENTION:
        return fail(d, HCAL_STATUS_UNSUPPORTED, "Attention: oneDNN 2.6 has no attention (SDPA) primitive");
    case HCAL_OP_ROTARY_EMBEDDING:
        return fail(d, HCAL_STATUS_UNSUPPORTED, "RotaryEmbedding: oneDNN 2.6 has no rotary embedding primitive");
    case HCAL_OP_GELU:
        if (op->attrs.gelu.approximate == HCAL_GELU_NONE)
            return op_unary(d, dnnl_eltwise_gelu_erf, 0.0f, 0.0f, "Gelu(None)", in, x, y);
        if (op->attrs.gelu.approximate == HCAL_GELU_TANH)
            return op_unary(d, dnnl_eltwise_gelu_tanh, 0.0f, 0.0f, "Gelu(Tanh)", in, x, y);
        return fail(d, HCAL_STATUS_UNSUPPORTED, "Gelu: unknown approximation %u", op->attrs.gelu.approximate);
    case HCAL_OP_UNARY:
        switch (op->attrs.unary.op) {
        case HCAL_UNARY_RELU: return op_unary(d, dnnl_eltwise_relu, 0.0f, 0.0f, "Relu", in, x, y);
        case HCAL_UNARY_SIGMOID: return op_unary(d, dnnl_eltwise_logistic, 0.0f, 0.0f, "Sigmoid", in, x, y);
        case HCAL_UNARY_SILU: return op_unary(d, dnnl_eltwise_swish, 1.0f, 0.0f, "Silu", in, x, y);
        case HCAL_UNARY_EXP: return op_unary(d, dnnl_eltwise_exp, 0.0f, 0.0f, "Exp", in, x, y);
        case HCAL_UNARY_TANH: return op_unary(d, dnnl_eltwise_tanh, 0.0f, 0.0f, "Tanh", in, x, y);
        /* beta -0 keeps the sign of zero: -1 * (+0) + (-0) = -0, x + (-0) = x. */
        case HCAL_UNARY_NEG: return op_unary(d, dnnl_eltwise_linear, -1.0f, -0.0f, "Neg", in, x, y);
        case HCAL_UNARY_SQRT: return op_unary(d, dnnl_eltwise_sqrt, 0.0f, 0.0f, "Sqrt", in, x, y);
        case HCAL_UNARY_RECIPROCAL: return op_unary(d, dnnl_eltwise_pow, 1.0f, -1.0f, "Reciprocal", in, x, y);
        /* ABI 1.2 (ops-elementwise): not mapped to oneDNN primitives here. */
        case HCAL_UNARY_ABS: return fail(d, HCAL_STATUS_UNSUPPORTED, "Abs: not implemented by the oneDNN plugin");
        case HCAL_UNARY_ERF: return fail(d, HCAL_STATUS_UNSUPPORTED, "Erf: not implemented by the oneDNN plugin");
        case HCAL_UNARY_FLOOR: return fail(d, HCAL_STATUS_UNSUPPORTED, "Floor: not implemented by the oneDNN plugin");
        case HCAL_UNARY_CEIL: return fail(d, HCAL_STATUS_UNSUPPORTED, "Ceil: not implemented by the oneDNN plugin");
        case HCAL_UNARY_ROUND: return fail(d, HCAL_STATUS_UNSUPPORTED, "Round: not implemented by the oneDNN plugin");
        case HCAL_UNARY_NOT: return fail(d, HCAL_STATUS_UNSUPPORTED, "Not: not implemented by the oneDNN plugin");
        default: return fail(d, HCAL_STATUS_UNSUPPORTED, "Unary: unknown unary op %u", op->attrs.unary.op);
        }
    case HCAL_OP_BINARY: return op_binary(d, op->attrs.binary.op, in, x, y);
    case HCAL_OP_REDUCE: return op_reduce(d, &op->attrs.reduce, in, x, y);
    case HCAL_OP_TRANSPOSE: return op_transpose(d, &op->attrs.transpose, in, x, y);
    case HCAL_OP_CAST: return op_cast(d, op->attrs.cast.to, in, x, y);
    /* ABI 1.2 (ops-elementwise): not mapped to oneDNN primitives here. */
    case HCAL_OP_LEAKY_RELU:
        return fail(d, HCAL_STATUS_UNSUPPORTED, "LeakyRelu: not implemented by the oneDNN plugin");
    case HCAL_OP_HARD_SIGMOID:
        return fail(d, HCAL_STATUS_UNSUPPORTED, "HardSigmoid: not implemented by the oneDNN plugin");
    case HCAL_OP_CLIP: return fail(d, HCAL_STATUS_UNSUPPORTED, "Clip: not implemented by the oneDNN plugin");
    case HCAL_OP_WHERE: return fail(d, HCAL_STATUS_UNSUPPORTED, "Where: not implemented by the oneDNN plugin");
    default: return fail(d, HCAL_STATUS_UNSUPPORTED, "op kind %u is unknown to the oneDNN plugin", op->kind);
    }
}

/* ---- the table --------------------------------------------------------- */

static void read_cpuinfo(hcal_device *d) {
    snprintf(d->name, sizeof d->name, "CPU");
    snprintf(d->vendor, sizeof d->vendor, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    int got_name = 0, got_vendor = 0;
    while ((!got_name || !got_vendor) && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        if (!got_name && strncmp(line, "model name", 10) == 0) {
            snprintf(d->name, sizeof d->name, "%s", v);
            got_name = 1;
        } else if (!got_vendor && strncmp(line, "vendor_id", 9) == 0) {
            snprintf(d->vendor, sizeof d->vendor, "%s", v);
            got_vendor = 1;
        }
    }
    fclose(f);
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "other";
    }
}

static hcal_status api_create(const char *options, hcal_device **out) {
    if (options && options[strspn(options, " \t")] != 0) {
        snprintf(create_error, sizeof create_error, "the oneDNN plugin takes no options (got \"%s\")", options);
        return HCAL_STATUS_INVALID_ARGUMENT;
    }
    hcal_device *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(create_error, sizeof create_error, "out of host memory");
        return HCAL_STATUS_OUT_OF_MEMORY;
    }
    dnnl_status_t s = dnnl_engine_create(&d->engine, dnnl_cpu, 0);
    if (s == dnnl_success) {
        s = dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags);
        if (s != dnnl_success) dnnl_engine_destroy(d->engine);
    }
    if (s != dnnl_success) {
        snprintf(create_error, sizeof create_error, "oneDNN: creating the CPU engine and stream failed (%s)",
                 status_name(s));
        free(d);
        return map_status(s) == HCAL_STATUS_UNSUPPORTED ? HCAL_STATUS_INTERNAL : map_status(s);
    }
    read_cpuinfo(d);
    const dnnl_version_t *v = dnnl_version();
    snprintf(d->driver, sizeof d->driver, "oneDNN v%d.%d.%d (%s), ISA %s", v->major, v->minor, v->patch,
             v->hash ? v->hash : "unknown hash", isa_name(dnnl_get_effective_cpu_isa()));
    *out = d;
    return HCAL_OK;
}

static const char *api_last_create_error(void) { return create_error; }

static void api_destroy(hcal_device *d) {
    if (!d) return;
    dnnl_stream_wait(d->stream);
    while (d->tensors) {
        hcal_tensor *t = d->tensors;
        d->tensors = t->next;
        free(t->shape);
        free(t->data);
        free(t);
    }
    dnnl_stream_destroy(d->stream);
    dnnl_engine_destroy(d->engine);
    free(d);
}

static const char *api_last_error(hcal_device *d) { return d ? d->error : "no device"; }

static hcal_status api_get_info(hcal_device *d, hcal_device_info *out) {
    hcal_device_info info = {0};
    info.struct_size = out->struct_size;
    info.device_type = HCAL_DEVICE_CPU;
    info.name = d->name;
    info.vendor = d->vendor;
    info.driver = d->driver;
    /* Write only the fields inside the host's struct_size. */
    size_t n = out->struct_size < sizeof info ? out->struct_size : sizeof info;
    memcpy(out, &info, n);
    return HCAL_OK;
}

static hcal_status api_supports(hcal_device *d, const hcal_op *op, const hcal_tensor_desc *inputs,
                                uint32_t num_inputs) {
    d->error[0] = 0;
    /* Block-quantized weights (ABI 1.1) and any dtype code this plugin does
     * not map: declined before planning, so no primitive is asked about them. */
    for (uint32_t i = 0; i < num_inputs; i++) {
        hcal_dtype t = inputs[i].dtype;
        if (t == HCAL_DTYPE_Q4_0 || t == HCAL_DTYPE_Q4_1 || t == HCAL_DTYPE_Q8_0)
            return fail(d, HCAL_STATUS_UNSUPPORTED,
                        "input %u is GGML block-quantized (dtype %u): the oneDNN plugin does not map GGML blocks to oneDNN", i, t);
        if (t != HCAL_DTYPE_ABSENT && dtype_size(t) == 0)
            return fail(d, HCAL_STATUS_UNSUPPORTED, "input %u has dtype code %u, unknown to this plugin", i, t);
    }
    return dispatch(d, op, inputs, num_inputs, NULL, NULL);
}

static hcal_status api_alloc(hcal_device *d, const hcal_tensor_desc *desc, hcal_tensor **out) {
    size_t es = dtype_size(desc->dtype);
    if (es == 0) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "alloc: unknown dtype %u", desc->dtype);
    int64_t n = numel(desc->rank, desc->shape);
    if (n < 0) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "alloc: negative extent");
    hcal_tensor *t = calloc(1, sizeof *t);
    if (t) {
        t->shape = malloc((desc->rank ? desc->rank : 1) * sizeof(int64_t));
        /* One extra byte: malloc(0) may return NULL, and oneDNN needs a handle. */
        t->data = malloc((size_t)n * es + 1);
    }
    if (!t || !t->shape || !t->data) {
        if (t) free(t->shape), free(t->data);
        free(t);
        return fail(d, HCAL_STATUS_OUT_OF_MEMORY, "alloc: out of host memory for %lld x %s", (long long)n,
                    dtype_name(desc->dtype));
    }
    t->dtype = desc->dtype;
    t->rank = desc->rank;
    if (desc->rank) memcpy(t->shape, desc->shape, desc->rank * sizeof(int64_t));
    t->bytes = (size_t)n * es;
    t->next = d->tensors;
    if (d->tensors) d->tensors->prev = t;
    d->tensors = t;
    *out = t;
    return HCAL_OK;
}

static hcal_status api_free(hcal_device *d, hcal_tensor *t) {
    if (!t) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "free: NULL tensor");
    if (t->prev) t->prev->next = t->next;
    else d->tensors = t->next;
    if (t->next) t->next->prev = t->prev;
    free(t->shape);
    free(t->data);
    free(t);
    return HCAL_OK;
}

static hcal_status api_write(hcal_device *d, hcal_tensor *t, const void *data, uint64_t bytes) {
    if (!t) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "write: NULL tensor");
    if (bytes != t->bytes)
        return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "write: %llu bytes given for a tensor of %zu bytes",
                    (unsigned long long)bytes, t->bytes);
    if (bytes) memcpy(t->data, data, bytes);
    return HCAL_OK;
}

static hcal_status api_read(hcal_device *d, hcal_tensor *t, void *data, uint64_t bytes) {
    if (!t) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "read: NULL tensor");
    if (bytes != t->bytes)
        return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "read: %llu bytes asked of a tensor of %zu bytes",
                    (unsigned long long)bytes, t->bytes);
    if (bytes) memcpy(data, t->data, bytes);
    return HCAL_OK;
}

static hcal_status api_execute(hcal_device *d, const hcal_op *op, const hcal_tensor_desc *input_descs,
                               hcal_tensor *const *inputs, uint32_t num_inputs, const hcal_tensor_desc *output_descs,
                               hcal_tensor *const *outputs, uint32_t num_outputs) {
    (void)output_descs;
    d->error[0] = 0;
    if (num_outputs < 1 || !outputs[0]) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "execute: no output tensor");
    if (num_inputs > 8) return fail(d, HCAL_STATUS_INVALID_ARGUMENT, "execute: %u inputs", num_inputs);
    void *x[8] = {0};
    for (uint32_t i = 0; i < num_inputs; i++) x[i] = inputs[i] ? inputs[i]->data : NULL;
    /* A plan that `supports` accepts is rerun here; the only work is in oneDNN's stream. */
    return dispatch(d, op, input_descs, num_inputs, x, outputs[0]->data);
}

static hcal_status api_sync(hcal_device *d) {
    dnnl_status_t s = dnnl_stream_wait(d->stream);
    if (s != dnnl_success) return fail(d, map_status(s), "sync: dnnl_stream_wait failed (%s)", status_name(s));
    return HCAL_OK;
}

static const hcal_plugin_api API = {
    .struct_size = sizeof(hcal_plugin_api),
    .abi_major = HCAL_PLUGIN_ABI_MAJOR,
    .abi_minor = HCAL_PLUGIN_ABI_MINOR,
    .name = "onednn",
    .create = api_create,
    .last_create_error = api_last_create_error,
    .destroy = api_destroy,
    .last_error = api_last_error,
    .get_info = api_get_info,
    .supports = api_supports,
    .alloc = api_alloc,
    .free = api_free,
    .write = api_write,
    .read = api_read,
    .execute = api_execute,
    .sync = api_sync,
};

const hcal_plugin_api *hcal_onednn_api(void) { return &API; }

#endif /* HCAL_ONEDNN_STUB */
