/*
 * hcal_plugin.h: the C ABI through which an operator library plugs into hcal
 * at run time. A plugin is a shared library (.so, .dylib, .dll) that exports
 *
 *     const hcal_plugin_api *hcal_plugin_get_api(void);
 *
 * returning a table of function pointers that lives as long as the library
 * is loaded. hcal loads it with `--backend plugin:PATH` or
 * `HCAL_PLUGINS=PATH[:PATH]`, certifies it with `hcal conformance` and times
 * it with `hcal bench`, under the name the plugin gives itself (`name`).
 *
 * SEMANTICS. Every op means exactly what hcal's standard says: the rustdoc of
 * `hcal_core::Op` (crates/hcal-core/src/op.rs), ONNX semantics where ONNX
 * defines the op (opset 23; Attention and TensorScatter opset 24). Tensors are contiguous, row-major, little-endian;
 * f16 and bf16 are their 16-bit patterns, bool one byte (0 or 1), i64 two's
 * complement. hcal validates every call before the plugin sees it (shapes,
 * dtypes, attributes, output descriptors, no aliasing), so a plugin may index
 * without re-checking; outputs must be written completely and never read. The
 * exceptions to "no aliasing" are in-place cache updates: TensorScatter's
 * output 0 (present_cache) may be the very tensor of its input 0
 * (past_cache) (ABI 1.2), and SplitRotaryScatter's outputs 1 and 2
 * (present_key, present_value) those of its inputs 1 and 2 (the caches)
 * (ABI 1.3); a plugin that runs them must handle that.
 *
 * THREADING. hcal serializes all calls into one hcal_device (it holds a lock
 * around each call); different devices of one plugin may be called from
 * different threads at once. `execute` may run asynchronously: `read` and
 * `sync` must observe all work enqueued before them on the device.
 *
 * ERRORS. Every call returns an hcal_status. On anything but HCAL_OK the
 * plugin makes a message available through `last_error(device)` (valid until
 * the next call into that device; `create` reports through
 * `last_create_error`). A plugin must never abort the process on bad luck it
 * can report (out of memory, an unsupported case): hcal turns statuses into
 * errors its callers handle. hcal runs plugins in a child process during
 * conformance, so a crash or a hang there is a failed case, not a lost run.
 *
 * VERSIONING. HCAL_PLUGIN_ABI_MAJOR changes when a change breaks old plugins
 * or old hosts; hcal refuses to load a plugin whose `abi_major` differs, with
 * an error naming both. Within a major version the ABI only grows: new
 * function pointers and struct fields are appended, and every versioned struct
 * starts with `struct_size` (set by whoever fills it in) so either side can
 * tell which fields the other knows. A host reads only the fields inside the
 * plugin's `struct_size`; a plugin reads only those inside the host's.
 *
 * History: 1.0 the first table; 1.1 adds the block-quantized dtypes; 1.2 adds
 * the ops of exported transformer graphs: Gather, GatherElements and
 * TensorScatter (op kinds 14-16) and Attention's input slot 6,
 * nonpad_kv_seqlen; LeakyRelu, HardSigmoid, Clip and Where (op kinds 18-21),
 * unary codes 8-13 and binary codes 6-13; the data-movement ops
 * (HCAL_OP_CONCAT .. HCAL_OP_TRILU, kinds 30-36); ReduceMin/ReduceProd/
 * ReduceL2 (reduce codes 3-5), ArgMax, ArgMin, LogSoftmax and CumSum (op
 * kinds 42-45); 1.3 adds hcal's fused steps, each defined as the ops it
 * stands for: RMSNormGemm, GatedUnary and SplitRotaryScatter (op kinds
 * 50-52). hcal does not ask a plugin built for an older minor about
 * what came later: it declines those signatures itself and passes such a
 * plugin Attention's first 6 input slots only.
 *
 * The Rust mirror of every definition here is crates/hcal-plugin/src/abi/;
 * a test compiles this header with the system C compiler and checks that
 * every size and field offset agrees.
 */
#ifndef HCAL_PLUGIN_H
#define HCAL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HCAL_PLUGIN_ABI_MAJOR 1
#define HCAL_PLUGIN_ABI_MINOR 3

/* The symbol a plugin exports (see hcal_plugin_get_api_fn). */
#define HCAL_PLUGIN_ENTRY_POINT "hcal_plugin_get_api"

/* ---- status codes ------------------------------------------------------ */

typedef int32_t hcal_status;
#define HCAL_OK 0
/* The plugin does not run this op signature (supports) or call (execute);
 * last_error says why, in words a user can act on. */
#define HCAL_STATUS_UNSUPPORTED 1
/* An argument the plugin cannot accept (a wrong byte length, a bad handle). */
#define HCAL_STATUS_INVALID_ARGUMENT 2
/* Device or host memory ran out. */
#define HCAL_STATUS_OUT_OF_MEMORY 3
/* Anything else the device or library reports. */
#define HCAL_STATUS_INTERNAL 4

/* ---- dtypes and tensor descriptors ------------------------------------- */

typedef uint32_t hcal_dtype;
#define HCAL_DTYPE_ABSENT 0 /* an absent optional input or output slot */
#define HCAL_DTYPE_F32 1
#define HCAL_DTYPE_F16 2
#define HCAL_DTYPE_BF16 3
#define HCAL_DTYPE_BOOL 4
#define HCAL_DTYPE_I64 5
/* Block-quantized weights (ABI 1.1): the tensor's last dim in blocks of 32
 * values, laid out as GGML's block_q4_0 (18 bytes), block_q4_1 (20) and
 * block_q8_0 (34); their values are defined in hcal_core::quant. They appear
 * as B of MatMul/Gemm and as X of Cast. A plugin built against 1.0 sees
 * unknown dtype codes and must decline them in `supports`. */
#define HCAL_DTYPE_Q4_0 6
#define HCAL_DTYPE_Q4_1 7
#define HCAL_DTYPE_Q8_0 8

/* Shape and dtype of a contiguous row-major tensor. `shape` points to `rank`
 * extents (rank 0: a scalar, `shape` may be NULL), owned by the caller and
 * valid for the duration of the call. */
typedef struct hcal_tensor_desc {
    hcal_dtype dtype;
    uint32_t rank;
    const int64_t *shape;
} hcal_tensor_desc;

/* ---- ops: a tagged union mirroring hcal_core::Op ----------------------- */

typedef uint32_t hcal_op_kind;
#define HCAL_OP_MATMUL 1
#define HCAL_OP_GEMM 2
#define HCAL_OP_SOFTMAX 3
#define HCAL_OP_LAYER_NORMALIZATION 4
#define HCAL_OP_RMS_NORMALIZATION 5
#define HCAL_OP_ATTENTION 6
#define HCAL_OP_ROTARY_EMBEDDING 7
#define HCAL_OP_GELU 8
#define HCAL_OP_UNARY 9
#define HCAL_OP_BINARY 10
#define HCAL_OP_REDUCE 11
#define HCAL_OP_TRANSPOSE 12
#define HCAL_OP_CAST 13
/* ---- along one axis (ABI 1.2); kinds 42-49 are this family's. A plugin built
 * against 1.1 or older is not asked about them. ---- */
#define HCAL_OP_ARG_MAX 42     /* hcal_op_arg_reduce; output I64 */
#define HCAL_OP_ARG_MIN 43     /* hcal_op_arg_reduce; output I64 */
#define HCAL_OP_LOG_SOFTMAX 44 /* hcal_op_softmax */
#define HCAL_OP_CUM_SUM 45     /* hcal_op_cum_sum */
/* Data movement (ABI 1.2; codes 30-41 are this family's). Every one moves
 * whole elements, so results are exact. A plugin built against an older minor
 * sees unknown kinds and declines them in `supports`. */
#define HCAL_OP_CONCAT 30
#define HCAL_OP_SLICE 31
#define HCAL_OP_SPLIT 32
#define HCAL_OP_EXPAND 33
#define HCAL_OP_RESHAPE 34
#define HCAL_OP_RANGE 35
#define HCAL_OP_TRILU 36
/* Indexing and KV caches (ABI 1.2). */
#define HCAL_OP_GATHER 14
#define HCAL_OP_GATHER_ELEMENTS 15
#define HCAL_OP_TENSOR_SCATTER 16
/* ABI 1.2, elementwise with attributes, clipping and selection (ops-elementwise) */
#define HCAL_OP_LEAKY_RELU 18   /* Inputs (X); attrs.leaky_relu */
#define HCAL_OP_HARD_SIGMOID 19 /* Inputs (X); attrs.hard_sigmoid */
#define HCAL_OP_CLIP 20         /* Y = min(max(X, min), max); inputs (X, min?, max?), rank-0 bounds */
#define HCAL_OP_WHERE 21        /* Y = condition ? X : Y, numpy broadcasting; inputs (condition bool, X, Y) */
/* hcal's fused steps (ABI 1.3; kinds 50-59 are this family's), each exactly
 * the ops the rustdoc of hcal_core::Op says it stands for. */
/* RMSNormalization of A [M, K] over its last axis with Scale [K], then Gemm
 * (transA 0): Y = alpha (A_i / sqrt(mean(A_i^2) + epsilon) * Scale) op(B) +
 * beta C; inputs (A, Scale, B, C?), B possibly block-quantized. */
#define HCAL_OP_RMS_NORM_GEMM 50 /* hcal_op_rms_norm_gemm */
/* Y = activation(X1) * X2 with X's last dim split into halves X1, X2 (SwiGLU
 * with SiLU); inputs (X), output (Y) with that dim halved. */
#define HCAL_OP_GATED_UNARY 51 /* hcal_op_unary: the activation's HCAL_UNARY_* */
/* A decode step's Split of the stacked Q/K/V product, RotaryEmbedding of Q
 * and K and TensorScatter of K and V into static caches; inputs (qkv [B, S,
 * (Hq + 2 Hkv) D], k_cache, v_cache [B, Hkv, M, D], write_indices i64 [B],
 * cos_cache, sin_cache [positions, rotated / 2]), outputs (q_out [B, Hq, S,
 * D], present_key, present_value), the last two possibly the caches. */
#define HCAL_OP_SPLIT_ROTARY_SCATTER 52 /* hcal_op_split_rotary_scatter */

/* hcal_op_unary.op */
#define HCAL_UNARY_RELU 0
#define HCAL_UNARY_SIGMOID 1
#define HCAL_UNARY_SILU 2
#define HCAL_UNARY_EXP 3
#define HCAL_UNARY_TANH 4
#define HCAL_UNARY_NEG 5
#define HCAL_UNARY_SQRT 6
#define HCAL_UNARY_RECIPROCAL 7
/* ABI 1.2 (ops-elementwise); Not takes and returns bool */
#define HCAL_UNARY_ABS 8
#define HCAL_UNARY_ERF 9
#define HCAL_UNARY_FLOOR 10
#define HCAL_UNARY_CEIL 11
#define HCAL_UNARY_ROUND 12 /* halves to even */
#define HCAL_UNARY_NOT 13

/* hcal_op_binary.op */
#define HCAL_BINARY_ADD 0
#define HCAL_BINARY_SUB 1
#define HCAL_BINARY_MUL 2
#define HCAL_BINARY_DIV 3
#define HCAL_BINARY_MAX 4
#define HCAL_BINARY_MIN 5
/* ABI 1.2 (ops-elementwise): C's pow; comparisons output bool; And/Or take bool */
#define HCAL_BINARY_POW 6
#define HCAL_BINARY_EQUAL 7
#define HCAL_BINARY_LESS 8
#define HCAL_BINARY_GREATER 9
#define HCAL_BINARY_LESS_OR_EQUAL 10
#define HCAL_BINARY_GREATER_OR_EQUAL 11
#define HCAL_BINARY_AND 12
#define HCAL_BINARY_OR 13

/* hcal_op_reduce.op */
#define HCAL_REDUCE_SUM 0
#define HCAL_REDUCE_MEAN 1
#define HCAL_REDUCE_MAX 2
/* ABI 1.2: identities of the empty set +inf, 1 and 0. */
#define HCAL_REDUCE_MIN 3
#define HCAL_REDUCE_PROD 4
#define HCAL_REDUCE_L2 5

/* hcal_op_tensor_scatter.mode (ABI 1.2) */
#define HCAL_SCATTER_LINEAR 0
#define HCAL_SCATTER_CIRCULAR 1

/* hcal_op_gelu.approximate */
#define HCAL_GELU_NONE 0
#define HCAL_GELU_TANH 1

/* Y = alpha op(A) op(B) + beta C. Inputs (A, B, C?). */
typedef struct hcal_op_gemm {
    float alpha;
    float beta;
    uint32_t trans_a; /* 0 or 1 */
    uint32_t trans_b; /* 0 or 1 */
} hcal_op_gemm;

/* Softmax along `axis` (negative counts from the end). Inputs (X). */
typedef struct hcal_op_softmax {
    int64_t axis;
} hcal_op_softmax;

/* LayerNormalization (X, Scale, B?) and RMSNormalization (X, Scale) over the
 * dims [axis, rank). */
typedef struct hcal_op_normalization {
    int64_t axis;
    float epsilon;
    uint32_t reserved; /* 0 */
} hcal_op_normalization;

/* Attention, inputs (Q, K, V, attn_mask?, past_key?, past_value?,
 * nonpad_kv_seqlen?), outputs (Y, present_key?, present_value?). Slot 6
 * (i64 [B], ABI 1.2) is passed only to plugins built for 1.2 or later. */
typedef struct hcal_op_attention {
    uint32_t is_causal;    /* 0 or 1 */
    uint32_t has_scale;    /* 0: scale is 1/sqrt(head size) */
    float scale;           /* used when has_scale is 1 */
    float softcap;         /* 0 disables it */
    uint64_t q_num_heads;  /* 0: absent */
    uint64_t kv_num_heads; /* 0: absent */
} hcal_op_attention;

/* RotaryEmbedding, inputs (X, cos_cache, sin_cache, position_ids?). */
typedef struct hcal_op_rotary_embedding {
    uint32_t interleaved;           /* 0 or 1 */
    uint32_t reserved;              /* 0 */
    uint64_t rotary_embedding_dim;  /* 0: the head size */
    uint64_t num_heads;             /* 0: absent */
} hcal_op_rotary_embedding;

typedef struct hcal_op_gelu {
    uint32_t approximate; /* HCAL_GELU_* */
} hcal_op_gelu;

typedef struct hcal_op_unary {
    uint32_t op; /* HCAL_UNARY_* */
} hcal_op_unary;

typedef struct hcal_op_binary {
    uint32_t op; /* HCAL_BINARY_*, numpy broadcasting */
} hcal_op_binary;

/* Reduce over `axes` (num_axes of them; has_axes 0: every axis). */
typedef struct hcal_op_reduce {
    uint32_t op;       /* HCAL_REDUCE_* */
    uint32_t keepdims; /* 0 or 1 */
    uint32_t has_axes; /* 0 or 1 */
    uint32_t num_axes;
    const int64_t *axes;
} hcal_op_reduce;

/* Transpose by `perm` (has_perm 0: reversed axes). */
typedef struct hcal_op_transpose {
    uint32_t has_perm; /* 0 or 1 */
    uint32_t num_perm;
    const uint64_t *perm;
} hcal_op_transpose;

typedef struct hcal_op_cast {
    hcal_dtype to;
} hcal_op_cast;

/* ArgMax / ArgMin along `axis` (ABI 1.2): the I64 index of the extreme, NaN
 * winning (numpy), ties to the first index unless select_last_index. */
typedef struct hcal_op_arg_reduce {
    int64_t axis;
    uint32_t keepdims;          /* 0 or 1 */
    uint32_t select_last_index; /* 0 or 1 */
} hcal_op_arg_reduce;

/* CumSum along `axis` (ABI 1.2). */
typedef struct hcal_op_cum_sum {
    int64_t axis;
    uint32_t exclusive; /* 0 or 1: leave out the element itself */
    uint32_t reverse;   /* 0 or 1: sum from the end */
} hcal_op_cum_sum;
/* ---- data movement (ABI 1.2) ---- */

/* Concat along `axis`. Inputs (X_0, .., X_{n-1}): `num_inputs` of supports
 * and execute says how many. */
typedef struct hcal_op_concat {
    int64_t axis;
} hcal_op_concat;

/* Slice (ONNX opset 13): num_axes entries at starts and ends; axes (when
 * has_axes, else 0..num_axes) and steps (when has_steps, else all 1) as many. */
typedef struct hcal_op_slice {
    uint32_t num_axes;
    uint32_t has_axes;  /* 0 or 1 */
    uint32_t has_steps; /* 0 or 1 */
    uint32_t reserved;  /* 0 */
    const int64_t *starts;
    const int64_t *ends;
    const int64_t *axes;  /* NULL unless has_axes */
    const int64_t *steps; /* NULL unless has_steps */
} hcal_op_slice;

/* Split along `axis` into num_parts outputs: sizes at `sizes`, or with
 * `equal` 1 (sizes NULL) parts of ceil(d / num_parts), the last smaller. */
typedef struct hcal_op_split {
    int64_t axis;
    uint32_t equal;     /* 0 or 1 */
    uint32_t num_parts;
    const uint64_t *sizes;
} hcal_op_split;

/* Expand: numpy broadcast of X against the `rank` extents at `shape`. */
typedef struct hcal_op_expand {
    uint32_t rank;
    uint32_t reserved; /* 0 */
    const uint64_t *shape;
} hcal_op_expand;

/* Reshape: Y's bytes are X's; `rank` entries at `shape`, one may be -1. */
typedef struct hcal_op_reshape {
    uint32_t rank;
    uint32_t reserved; /* 0 */
    const int64_t *shape;
} hcal_op_reshape;

/* Range: no inputs; Y[i] = start + i * delta of `dtype`, 1-D. */
typedef struct hcal_op_range {
    double start;
    double limit;
    double delta;
    hcal_dtype dtype;
    uint32_t reserved; /* 0 */
} hcal_op_range;

/* Trilu: keep c - r >= k (upper) or c - r <= k of the last two dims. */
typedef struct hcal_op_trilu {
    uint32_t upper;    /* 0 or 1 */
    uint32_t reserved; /* 0 */
    int64_t k;
} hcal_op_trilu;
/* Indexing and KV caches (ABI 1.2). */
/* Gather (data, indices: i64) and GatherElements (data, indices: i64) along
 * `axis` (negative counts from the end). Out-of-range indices are data: see
 * hcal_core::Op::Gather for the rows they give. */
typedef struct hcal_op_gather {
    int64_t axis;
} hcal_op_gather;

/* TensorScatter (past_cache, update, write_indices?: i64 [B]) along the
 * sequence `axis`; output 0 may be input 0 itself (see SEMANTICS). */
typedef struct hcal_op_tensor_scatter {
    int64_t axis;
    uint32_t mode;     /* HCAL_SCATTER_* */
    uint32_t reserved; /* 0 */
} hcal_op_tensor_scatter;
/* ABI 1.2: Y = x for x >= 0, else alpha x. */
typedef struct hcal_op_leaky_relu {
    float alpha;
} hcal_op_leaky_relu;

/* ABI 1.2: Y = max(0, min(1, alpha x + beta)). */
typedef struct hcal_op_hard_sigmoid {
    float alpha;
    float beta;
} hcal_op_hard_sigmoid;

/* ABI 1.3: RMSNormGemm's attributes. */
typedef struct hcal_op_rms_norm_gemm {
    float epsilon;    /* added to the mean square */
    float alpha;      /* multiplier of the product */
    float beta;       /* multiplier of C */
    uint32_t trans_b; /* 0 or 1: B is [N, K] */
} hcal_op_rms_norm_gemm;

/* ABI 1.3: SplitRotaryScatter's attributes (those of its RotaryEmbedding). */
typedef struct hcal_op_split_rotary_scatter {
    uint64_t q_num_heads;          /* Hq, a multiple of Hkv */
    uint64_t kv_num_heads;         /* Hkv */
    uint32_t interleaved;          /* 0 or 1: pair adjacent features, not halves */
    uint32_t reserved;             /* 0 */
    uint64_t rotary_embedding_dim; /* rotated features per head; 0: all of D */
} hcal_op_split_rotary_scatter;

/* An op and its attributes. Pointers inside are owned by the caller and valid
 * for the duration of the call. */
typedef struct hcal_op {
    uint32_t struct_size; /* sizeof(hcal_op) of whoever filled it in */
    hcal_op_kind kind;    /* HCAL_OP_* */
    union {
        hcal_op_gemm gemm;                 /* HCAL_OP_GEMM (MatMul has no attributes) */
        hcal_op_softmax softmax;           /* HCAL_OP_SOFTMAX */
        hcal_op_normalization normalization; /* both normalizations */
        hcal_op_attention attention;       /* HCAL_OP_ATTENTION */
        hcal_op_rotary_embedding rotary_embedding;
        hcal_op_gelu gelu;
        hcal_op_unary unary;
        hcal_op_binary binary;
        hcal_op_reduce reduce;
        hcal_op_transpose transpose;
        hcal_op_cast cast;
        hcal_op_arg_reduce arg_reduce;     /* HCAL_OP_ARG_MAX, HCAL_OP_ARG_MIN (1.2) */
        hcal_op_cum_sum cum_sum;           /* HCAL_OP_CUM_SUM (1.2); LogSoftmax uses softmax */
        /* data movement (ABI 1.2) */
        hcal_op_concat concat;
        hcal_op_slice slice;
        hcal_op_split split;
        hcal_op_expand expand;
        hcal_op_reshape reshape;
        hcal_op_range range;
        hcal_op_trilu trilu;
        hcal_op_gather gather;                 /* HCAL_OP_GATHER, HCAL_OP_GATHER_ELEMENTS (1.2) */
        hcal_op_tensor_scatter tensor_scatter; /* HCAL_OP_TENSOR_SCATTER (1.2) */
        hcal_op_leaky_relu leaky_relu;     /* HCAL_OP_LEAKY_RELU (1.2) */
        hcal_op_hard_sigmoid hard_sigmoid; /* HCAL_OP_HARD_SIGMOID (1.2) */
        hcal_op_rms_norm_gemm rms_norm_gemm;               /* HCAL_OP_RMS_NORM_GEMM (1.3) */
        hcal_op_split_rotary_scatter split_rotary_scatter; /* HCAL_OP_SPLIT_ROTARY_SCATTER (1.3) */
        uint64_t reserved[8]; /* room for later attributes within this major */
    } attrs;
} hcal_op;

/* ---- devices and tensors ----------------------------------------------- */

/* A device instance of the plugin, and a tensor on it: opaque, owned by the plugin. */
typedef struct hcal_device hcal_device;
typedef struct hcal_tensor hcal_tensor;

/* hcal_device_info.device_type */
#define HCAL_DEVICE_CPU 0
#define HCAL_DEVICE_DISCRETE_GPU 1
#define HCAL_DEVICE_INTEGRATED_GPU 2
#define HCAL_DEVICE_VIRTUAL_GPU 3
#define HCAL_DEVICE_SOFTWARE_GPU 4
#define HCAL_DEVICE_OTHER 5

/* Facts for reports. Strings are NUL-terminated UTF-8 owned by the plugin,
 * valid until the device is destroyed. */
typedef struct hcal_device_info {
    uint32_t struct_size;  /* filled by the host: sizeof(hcal_device_info) it knows */
    uint32_t device_type;  /* HCAL_DEVICE_* */
    const char *name;      /* the device, as its driver names it */
    const char *vendor;
    const char *driver;    /* library name and version */
} hcal_device_info;

/* ---- the function table ------------------------------------------------ */

typedef struct hcal_plugin_api {
    uint32_t struct_size; /* sizeof(hcal_plugin_api) the plugin was built with */
    uint16_t abi_major;   /* HCAL_PLUGIN_ABI_MAJOR the plugin was built with */
    uint16_t abi_minor;   /* HCAL_PLUGIN_ABI_MINOR the plugin was built with */
    /* The backend name hcal lists and opens it under ("onednn"): lowercase
     * ASCII letters, digits, '-' and '_'. Static storage. */
    const char *name;

    /* Open a device. `options` is a NUL-terminated string the user passed
     * (empty when none). On failure *out is untouched and the message is
     * available from last_create_error. */
    hcal_status (*create)(const char *options, hcal_device **out);
    /* The message of the last failed create on this thread. */
    const char *(*last_create_error)(void);
    /* Close a device; every tensor still allocated on it is freed. */
    void (*destroy)(hcal_device *device);
    /* The message of the last failed call into `device`. */
    const char *(*last_error)(hcal_device *device);

    hcal_status (*get_info)(hcal_device *device, hcal_device_info *out);

    /* Whether the device runs `op` on these inputs: HCAL_OK, or
     * HCAL_STATUS_UNSUPPORTED with the reason in last_error. `inputs` holds
     * num_inputs slots, absent ones with dtype HCAL_DTYPE_ABSENT. */
    hcal_status (*supports)(hcal_device *device, const hcal_op *op, const hcal_tensor_desc *inputs,
                            uint32_t num_inputs);

    /* An uninitialized tensor of `desc` (contents are written before use). */
    hcal_status (*alloc)(hcal_device *device, const hcal_tensor_desc *desc, hcal_tensor **out);
    hcal_status (*free)(hcal_device *device, hcal_tensor *tensor);
    /* Copy exactly the tensor's byte length in or out (`bytes` = element
     * count x element size, after all work enqueued before it). */
    hcal_status (*write)(hcal_device *device, hcal_tensor *tensor, const void *data, uint64_t bytes);
    hcal_status (*read)(hcal_device *device, hcal_tensor *tensor, void *data, uint64_t bytes);

    /* Run a validated call. Slot i of `inputs` / `outputs` is NULL for an
     * absent optional input / an output the caller did not ask for; its
     * descriptor then has dtype HCAL_DTYPE_ABSENT. */
    hcal_status (*execute)(hcal_device *device, const hcal_op *op, const hcal_tensor_desc *input_descs,
                           hcal_tensor *const *inputs, uint32_t num_inputs,
                           const hcal_tensor_desc *output_descs, hcal_tensor *const *outputs,
                           uint32_t num_outputs);
    /* Wait for all enqueued work. */
    hcal_status (*sync)(hcal_device *device);
} hcal_plugin_api;

/* The one exported symbol: the plugin's table, or NULL if the plugin cannot
 * serve this process (for example a library it needs is missing). */
typedef const hcal_plugin_api *(*hcal_plugin_get_api_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* HCAL_PLUGIN_H */
