/*
 * smoke.c: checks libhcal_onednn.so through the C ABI alone (no Rust loader).
 * Usage: smoke PATH/TO/libhcal_onednn.so
 * Exit 0: all checks passed; 77: the library is a stub (no oneDNN); else failed.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hcal_plugin.h"

static const hcal_plugin_api *api;
static hcal_device *dev;
static int failures;

static hcal_tensor *tensor(hcal_dtype dt, uint32_t rank, const int64_t *shape, const void *data, size_t bytes) {
    hcal_tensor_desc desc = {dt, rank, shape};
    hcal_tensor *t = NULL;
    if (api->alloc(dev, &desc, &t) != HCAL_OK) {
        printf("alloc failed: %s\n", api->last_error(dev));
        return NULL;
    }
    if (data && api->write(dev, t, data, bytes) != HCAL_OK) printf("write failed: %s\n", api->last_error(dev));
    return t;
}

/* Run `op` on f32 inputs and compare the f32 output with `expected`. */
static void check(const char *name, const hcal_op *op, uint32_t nin, const hcal_tensor_desc *in, const float *const *data,
                  hcal_tensor_desc out, const float *expected, float tol) {
    hcal_tensor *x[4] = {0};
    if (api->supports(dev, op, in, nin) != HCAL_OK) {
        printf("FAIL %s: unsupported: %s\n", name, api->last_error(dev));
        failures++;
        return;
    }
    size_t n_out = 1;
    for (uint32_t i = 0; i < out.rank; i++) n_out *= (size_t)out.shape[i];
    for (uint32_t i = 0; i < nin; i++) {
        size_t n = 1;
        for (uint32_t j = 0; j < in[i].rank; j++) n *= (size_t)in[i].shape[j];
        x[i] = tensor(in[i].dtype, in[i].rank, in[i].shape, data[i], n * 4);
    }
    hcal_tensor *y = tensor(out.dtype, out.rank, out.shape, NULL, 0);
    float got[64];
    memset(got, 0xff, sizeof got);
    hcal_status s = api->execute(dev, op, in, x, nin, &out, &y, 1);
    if (s == HCAL_OK) s = api->sync(dev);
    if (s == HCAL_OK) s = api->read(dev, y, got, n_out * 4);
    if (s != HCAL_OK) {
        printf("FAIL %s: status %d: %s\n", name, s, api->last_error(dev));
        failures++;
    } else {
        int bad = 0;
        for (size_t i = 0; i < n_out; i++) {
            int same = (isnan(expected[i]) && isnan(got[i])) || fabsf(got[i] - expected[i]) <= tol;
            if (!same) {
                printf("FAIL %s: element %zu: got %.9g, expected %.9g\n", name, i, got[i], expected[i]);
                bad = 1;
            }
        }
        failures += bad;
        if (!bad) printf("ok   %s\n", name);
    }
    for (uint32_t i = 0; i < nin; i++) api->free(dev, x[i]);
    api->free(dev, y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s libhcal_onednn.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("dlopen failed: %s\n", dlerror());
        return 1;
    }
    hcal_plugin_get_api_fn get = (hcal_plugin_get_api_fn)dlsym(lib, HCAL_PLUGIN_ENTRY_POINT);
    if (!get) {
        printf("no %s symbol\n", HCAL_PLUGIN_ENTRY_POINT);
        return 1;
    }
    api = get();
    if (!api) {
        printf("the plugin is a stub (built without oneDNN)\n");
        return 77;
    }
    if (api->abi_major != HCAL_PLUGIN_ABI_MAJOR || api->struct_size < sizeof(hcal_plugin_api) ||
        strcmp(api->name, "onednn") != 0) {
        printf("bad table: abi %u, size %u, name %s\n", api->abi_major, api->struct_size, api->name);
        return 1;
    }
    if (api->create("", &dev) != HCAL_OK) {
        printf("create failed: %s\n", api->last_create_error());
        return 1;
    }
    hcal_device *bad = NULL;
    if (api->create("bogus=1", &bad) == HCAL_OK || bad) {
        printf("FAIL create accepted an unknown option\n");
        failures++;
    }
    hcal_device_info info = {sizeof info, 99, NULL, NULL, NULL};
    if (api->get_info(dev, &info) != HCAL_OK || info.device_type != HCAL_DEVICE_CPU || !info.name) {
        printf("FAIL get_info\n");
        failures++;
    } else {
        printf("device: %s | %s | %s\n", info.name, info.vendor, info.driver);
    }

    /* MatMul 2x3 @ 3x4. */
    {
        int64_t as[] = {2, 3}, bs[] = {3, 4}, ys[] = {2, 4};
        float a[] = {1, 2, 3, 4, 5, 6};
        float b[] = {1, 0, -1, 2, 0.5f, 1, 0, -2, 3, -1, 2, 0};
        float y[8];
        for (int m = 0; m < 2; m++)
            for (int n = 0; n < 4; n++) {
                y[m * 4 + n] = 0;
                for (int k = 0; k < 3; k++) y[m * 4 + n] += a[m * 3 + k] * b[k * 4 + n];
            }
        /* Hand check of the first row: 1*1+2*0.5+3*3 = 11, 0+2-3 = -1, -1+0+6 = 5, 2-4+0 = -2. */
        float row0[] = {11, -1, 5, -2};
        if (memcmp(y, row0, sizeof row0) != 0) printf("FAIL hand values of the reference\n"), failures++;
        hcal_op op = {sizeof op, HCAL_OP_MATMUL, {.reserved = {0}}};
        hcal_tensor_desc in[] = {{HCAL_DTYPE_F32, 2, as}, {HCAL_DTYPE_F32, 2, bs}};
        const float *data[] = {a, b};
        check("MatMul 2x3x4", &op, 2, in, data, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, ys}, y, 1e-5f);

        /* Gemm with transA, transB, alpha, beta and C = [N]. */
        float at[] = {1, 4, 2, 5, 3, 6}; /* A^T stored [3, 2] */
        float bt[12];                    /* B^T stored [4, 3] */
        for (int k = 0; k < 3; k++)
            for (int n = 0; n < 4; n++) bt[n * 3 + k] = b[k * 4 + n];
        float c[] = {1, 2, 3, 4}, yg[8];
        for (int i = 0; i < 8; i++) yg[i] = 0.5f * y[i] - 2.0f * c[i % 4];
        int64_t ats[] = {3, 2}, bts[] = {4, 3}, cs[] = {4};
        hcal_op gemm = {sizeof gemm, HCAL_OP_GEMM, {.gemm = {0.5f, -2.0f, 1, 1}}};
        hcal_tensor_desc gin[] = {{HCAL_DTYPE_F32, 2, ats}, {HCAL_DTYPE_F32, 2, bts}, {HCAL_DTYPE_F32, 1, cs}};
        const float *gdata[] = {at, bt, c};
        check("Gemm tA tB alpha beta C=[N]", &gemm, 3, gin, gdata, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, ys}, yg,
              1e-5f);

        /* K = 0 gives zeros. */
        int64_t a0[] = {2, 0}, b0[] = {0, 4};
        hcal_tensor_desc in0[] = {{HCAL_DTYPE_F32, 2, a0}, {HCAL_DTYPE_F32, 2, b0}};
        const float *d0[] = {a, b};
        float zeros[8] = {0};
        check("MatMul K=0", &op, 2, in0, d0, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, ys}, zeros, 0.0f);
    }

    /* Softmax of [1, 2, 3] and of a row [0, 0]. */
    {
        int64_t xs[] = {2, 3};
        float x[] = {1, 2, 3, 0, 0, 0};
        float e1 = expf(-2), e2 = expf(-1), s = e1 + e2 + 1;
        float y[] = {e1 / s, e2 / s, 1 / s, 1.0f / 3, 1.0f / 3, 1.0f / 3};
        hcal_op op = {sizeof op, HCAL_OP_SOFTMAX, {.softmax = {-1}}};
        hcal_tensor_desc in[] = {{HCAL_DTYPE_F32, 2, xs}};
        const float *data[] = {x};
        check("Softmax axis -1", &op, 1, in, data, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, xs}, y, 1e-6f);
        float y0[] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
        float x0[] = {1, 2, 3, 1, 2, 3};
        const float *data0[] = {x0};
        hcal_op op0 = {sizeof op, HCAL_OP_SOFTMAX, {.softmax = {0}}};
        check("Softmax axis 0", &op0, 1, in, data0, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, xs}, y0, 1e-6f);
    }

    /* Add [2, 3] + [3], and [3, 1] + [2] (both sides broadcast), Sub [3] - [2, 3]. */
    {
        int64_t as[] = {2, 3}, bs[] = {3}, cs[] = {3, 1}, ds[] = {2}, ys[] = {3, 2};
        float a[] = {1, 2, 3, 4, 5, 6}, b[] = {10, 20, 30};
        float y[] = {11, 22, 33, 14, 25, 36};
        hcal_op op = {sizeof op, HCAL_OP_BINARY, {.binary = {HCAL_BINARY_ADD}}};
        hcal_tensor_desc in[] = {{HCAL_DTYPE_F32, 2, as}, {HCAL_DTYPE_F32, 1, bs}};
        const float *data[] = {a, b};
        check("Add row", &op, 2, in, data, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, as}, y, 0.0f);
        float c[] = {1, 2, 3}, d[] = {10, 20};
        float y2[] = {11, 21, 12, 22, 13, 23};
        hcal_tensor_desc in2[] = {{HCAL_DTYPE_F32, 2, cs}, {HCAL_DTYPE_F32, 1, ds}};
        const float *data2[] = {c, d};
        check("Add outer", &op, 2, in2, data2, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, ys}, y2, 0.0f);
        hcal_op sub = {sizeof op, HCAL_OP_BINARY, {.binary = {HCAL_BINARY_SUB}}};
        hcal_tensor_desc in3[] = {{HCAL_DTYPE_F32, 1, bs}, {HCAL_DTYPE_F32, 2, as}};
        const float *data3[] = {b, a};
        float y3[] = {9, 18, 27, 6, 15, 24};
        check("Sub broadcast first operand", &sub, 2, in3, data3, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, as}, y3, 0.0f);
    }

    /* ReduceMean over axis 1 of [2, 3], and over an empty axis. */
    {
        int64_t xs[] = {2, 3}, ys[] = {2}, es[] = {2, 0};
        float x[] = {1, 2, 3, 4, 5, 6}, y[] = {2, 5}, nan2[] = {NAN, NAN};
        int64_t axes[] = {1};
        hcal_op op = {sizeof op, HCAL_OP_REDUCE, {.reduce = {HCAL_REDUCE_MEAN, 0, 1, 1, axes}}};
        hcal_tensor_desc in[] = {{HCAL_DTYPE_F32, 2, xs}};
        const float *data[] = {x};
        check("ReduceMean axis 1", &op, 1, in, data, (hcal_tensor_desc){HCAL_DTYPE_F32, 1, ys}, y, 1e-6f);
        hcal_tensor_desc ein[] = {{HCAL_DTYPE_F32, 2, es}};
        check("ReduceMean of nothing is NaN", &op, 1, ein, data, (hcal_tensor_desc){HCAL_DTYPE_F32, 1, ys}, nan2, 0.0f);
    }

    /* Transpose [2, 3] -> [3, 2]; LayerNormalization of [1, 3] with Scale and B. */
    {
        int64_t xs[] = {2, 3}, ys[] = {3, 2};
        float x[] = {1, 2, 3, 4, 5, 6}, y[] = {1, 4, 2, 5, 3, 6};
        hcal_op op = {sizeof op, HCAL_OP_TRANSPOSE, {.transpose = {0, 0, NULL}}};
        hcal_tensor_desc in[] = {{HCAL_DTYPE_F32, 2, xs}};
        const float *data[] = {x};
        check("Transpose default", &op, 1, in, data, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, ys}, y, 0.0f);

        int64_t ls[] = {1, 3}, ps[] = {3};
        float lx[] = {1, 2, 3}, sc[] = {1, 2, 3}, bb[] = {0, 1, -1};
        float r = 1.0f / sqrtf(2.0f / 3.0f);
        float ly[] = {-r, 1, 3 * r - 1};
        hcal_op ln = {sizeof ln, HCAL_OP_LAYER_NORMALIZATION, {.normalization = {-1, 0.0f, 0}}};
        hcal_tensor_desc lin[] = {{HCAL_DTYPE_F32, 2, ls}, {HCAL_DTYPE_F32, 1, ps}, {HCAL_DTYPE_F32, 1, ps}};
        const float *ldata[] = {lx, sc, bb};
        check("LayerNormalization", &ln, 3, lin, ldata, (hcal_tensor_desc){HCAL_DTYPE_F32, 2, ls}, ly, 1e-5f);
    }

    /* Declined ops say why. */
    {
        int64_t xs[] = {2, 8};
        hcal_op op = {sizeof op, HCAL_OP_RMS_NORMALIZATION, {.normalization = {-1, 1e-5f, 0}}};
        hcal_tensor_desc in[] = {{HCAL_DTYPE_F32, 2, xs}, {HCAL_DTYPE_F32, 1, xs + 1}};
        if (api->supports(dev, &op, in, 2) != HCAL_STATUS_UNSUPPORTED || !strstr(api->last_error(dev), "RMS")) {
            printf("FAIL RMSNormalization should be declined with a reason\n");
            failures++;
        } else {
            printf("ok   declined: %s\n", api->last_error(dev));
        }
    }

    /* A wrong byte length is refused. */
    {
        int64_t s[] = {4};
        float v[4] = {0};
        hcal_tensor *t = tensor(HCAL_DTYPE_F32, 1, s, NULL, 0);
        if (api->write(dev, t, v, 12) != HCAL_STATUS_INVALID_ARGUMENT) {
            printf("FAIL write accepted a wrong byte length\n");
            failures++;
        }
        api->free(dev, t);
    }

    api->destroy(dev);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
