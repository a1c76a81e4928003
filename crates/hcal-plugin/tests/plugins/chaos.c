/* The "chaos" test plugin: every answer it gives is chosen by a byte script
 * that the caller sets with the exported hcal_chaos_set_script(bytes, len)
 * (the plugin_abi fuzz target resolves it and feeds fuzzer bytes). Each call
 * into the plugin consumes one byte (two where it needs a value) and either
 * behaves or answers malformed: a NULL or too-small function table, NULL
 * entries, a NULL, empty, non-UTF-8 or invalid name, create returning OK
 * without a device, get_info with NULL or non-UTF-8 strings, last_error
 * returning NULL, status codes outside the header's range, alloc returning
 * OK with a NULL handle or a handle it already gave out, read and execute
 * writing nothing, and so on. An exhausted script behaves.
 *
 * It never does anything undefined itself: tensors live in a fixed table,
 * handles are (index + 1) cast to pointers and are checked before use, and
 * copies never exceed the plugin's own buffers. So whatever goes wrong in a
 * run is the host's doing: the loader must turn every answer into an hcal
 * result (mostly errors), never a panic, a crash or undefined behaviour.
 * Single-threaded use only (the fuzz target is), one device at a time. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hcal_plugin.h"

#define MAX_SCRIPT 4096
#define MAX_TENSORS 64
#define MAX_TENSOR_BYTES 4096

static uint8_t script[MAX_SCRIPT];
static size_t script_len;
static size_t script_pos;

/* Set the script of the next answers (copied; at most MAX_SCRIPT bytes). */
void hcal_chaos_set_script(const uint8_t *bytes, size_t len) {
    if (len > MAX_SCRIPT) {
        len = MAX_SCRIPT;
    }
    if (len > 0 && bytes != NULL) {
        memcpy(script, bytes, len);
    }
    script_len = bytes == NULL ? 0 : len;
    script_pos = 0;
}

/* The next script byte; 0 (behave) once the script is used up. */
static uint8_t next(void) {
    return script_pos < script_len ? script[script_pos++] : 0;
}

/* A status chosen by the script: every code of the header and some outside it. */
static hcal_status chaos_status(void) {
    static const hcal_status codes[] = {
        HCAL_OK,     HCAL_STATUS_UNSUPPORTED, HCAL_STATUS_INVALID_ARGUMENT, HCAL_STATUS_OUT_OF_MEMORY,
        HCAL_STATUS_INTERNAL, 5, -1, 1000, INT32_MIN, INT32_MAX, 0x7f, -4,
    };
    return codes[next() % (sizeof codes / sizeof codes[0])];
}

static const char *const messages[] = {
    NULL, "", "\xff\xfe not UTF-8 \xc0", "a message from the chaos plugin", "\xe2\x82", "tab\there",
};

static const char *chaos_message(void) {
    return messages[next() % (sizeof messages / sizeof messages[0])];
}

struct tensor_slot {
    int used;
    size_t bytes;
    uint8_t data[MAX_TENSOR_BYTES];
};

struct hcal_device {
    int live;
    const char *error;
    struct tensor_slot tensors[MAX_TENSORS];
};

static struct hcal_device the_device;
static const char *create_error = "no create failed yet";

static struct tensor_slot *slot_of(hcal_tensor *t) {
    uintptr_t i = (uintptr_t)t;
    if (i == 0 || i > MAX_TENSORS || !the_device.tensors[i - 1].used) {
        return NULL;
    }
    return &the_device.tensors[i - 1];
}

static size_t desc_bytes(const hcal_tensor_desc *d) {
    if (d == NULL) {
        return (size_t)-1;
    }
    size_t elem = d->dtype == HCAL_DTYPE_F32 ? 4 : d->dtype == HCAL_DTYPE_I64 ? 8 : d->dtype == HCAL_DTYPE_BOOL ? 1 : 2;
    size_t n = elem;
    for (uint32_t i = 0; i < d->rank && i < 16; i++) {
        int64_t e = d->shape == NULL ? 0 : d->shape[i];
        if (e < 0 || (e > 0 && n > MAX_TENSOR_BYTES / (size_t)e)) {
            return (size_t)-1;
        }
        n *= (size_t)e;
    }
    return n;
}

static hcal_status create(const char *options, hcal_device **out) {
    (void)options;
    switch (next() % 8) {
    case 1:
        create_error = chaos_message();
        return chaos_status() == HCAL_OK ? HCAL_STATUS_INTERNAL : chaos_status();
    case 2:
        *out = NULL; /* OK without a device */
        return HCAL_OK;
    case 3:
        create_error = chaos_message();
        return 1000; /* out of range, device untouched */
    default:
        memset(&the_device, 0, sizeof the_device);
        the_device.live = 1;
        the_device.error = "no error";
        *out = &the_device;
        return HCAL_OK;
    }
}

static const char *last_create_error(void) {
    return next() % 4 == 1 ? NULL : create_error;
}

static void destroy(hcal_device *device) {
    if (device == &the_device) {
        memset(&the_device, 0, sizeof the_device);
    }
}

static const char *last_error(hcal_device *device) {
    (void)device;
    switch (next() % 4) {
    case 1:
        return NULL;
    case 2:
        return chaos_message();
    default:
        return the_device.error;
    }
}

static hcal_status get_info(hcal_device *device, hcal_device_info *out) {
    (void)device;
    if (out == NULL || out->struct_size < sizeof(hcal_device_info)) {
        return HCAL_STATUS_INVALID_ARGUMENT;
    }
    switch (next() % 8) {
    case 1:
        return chaos_status();
    case 2:
        return HCAL_OK; /* writes nothing */
    case 3:
        out->device_type = 0xdeadbeef;
        out->name = chaos_message();
        out->vendor = chaos_message();
        out->driver = chaos_message();
        return HCAL_OK;
    default:
        out->device_type = HCAL_DEVICE_CPU;
        out->name = "chaos device";
        out->vendor = "hcal tests";
        out->driver = "chaos 1";
        return HCAL_OK;
    }
}

static hcal_status supports(hcal_device *device, const hcal_op *op, const hcal_tensor_desc *inputs,
                            uint32_t num_inputs) {
    (void)device, (void)op, (void)inputs, (void)num_inputs;
    the_device.error = "supports says so";
    return next() % 3 == 0 ? HCAL_OK : chaos_status();
}

static hcal_status alloc(hcal_device *device, const hcal_tensor_desc *desc, hcal_tensor **out) {
    (void)device;
    switch (next() % 8) {
    case 1:
        *out = NULL;
        return HCAL_OK; /* OK without a tensor */
    case 2:
        the_device.error = "chaos: out of memory";
        return HCAL_STATUS_OUT_OF_MEMORY;
    case 3:
        return chaos_status();
    case 4:
        /* A handle given out before (or a stale one), as if new. */
        *out = (hcal_tensor *)(uintptr_t)(1 + next() % MAX_TENSORS);
        return HCAL_OK;
    default:
        break;
    }
    size_t bytes = desc_bytes(desc);
    if (bytes > MAX_TENSOR_BYTES) {
        the_device.error = "chaos: tensor too large";
        return HCAL_STATUS_OUT_OF_MEMORY;
    }
    for (uintptr_t i = 0; i < MAX_TENSORS; i++) {
        if (!the_device.tensors[i].used) {
            the_device.tensors[i].used = 1;
            the_device.tensors[i].bytes = bytes;
            *out = (hcal_tensor *)(i + 1);
            return HCAL_OK;
        }
    }
    the_device.error = "chaos: no free slot";
    return HCAL_STATUS_OUT_OF_MEMORY;
}

static hcal_status free_tensor(hcal_device *device, hcal_tensor *tensor) {
    (void)device;
    struct tensor_slot *s = slot_of(tensor);
    if (next() % 4 == 1) {
        return chaos_status();
    }
    if (s != NULL) {
        s->used = 0;
    }
    return HCAL_OK;
}

static hcal_status write_tensor(hcal_device *device, hcal_tensor *tensor, const void *data, uint64_t bytes) {
    (void)device;
    struct tensor_slot *s = slot_of(tensor);
    switch (next() % 4) {
    case 1:
        return chaos_status();
    case 2:
        return HCAL_OK; /* writes nothing */
    default:
        if (s != NULL && data != NULL) {
            memcpy(s->data, data, bytes < s->bytes ? (size_t)bytes : s->bytes);
        }
        return HCAL_OK;
    }
}

static hcal_status read_tensor(hcal_device *device, hcal_tensor *tensor, void *data, uint64_t bytes) {
    (void)device;
    struct tensor_slot *s = slot_of(tensor);
    switch (next() % 5) {
    case 1:
        return chaos_status();
    case 2:
        return HCAL_OK; /* writes nothing */
    case 3:
        if (data != NULL && bytes > 0) {
            memset(data, 0xAB, 1); /* one byte only */
        }
        return HCAL_OK;
    default:
        if (s != NULL && data != NULL) {
            memcpy(data, s->data, bytes < s->bytes ? (size_t)bytes : s->bytes);
        }
        return HCAL_OK;
    }
}

static hcal_status execute(hcal_device *device, const hcal_op *op, const hcal_tensor_desc *input_descs,
                           hcal_tensor *const *inputs, uint32_t num_inputs, const hcal_tensor_desc *output_descs,
                           hcal_tensor *const *outputs, uint32_t num_outputs) {
    (void)device, (void)op, (void)input_descs, (void)output_descs;
    switch (next() % 4) {
    case 1:
        the_device.error = "execute says so";
        return chaos_status();
    case 2:
        return HCAL_OK; /* computes nothing */
    default:
        /* Output 0 := input 0, as far as both reach. */
        if (num_inputs > 0 && num_outputs > 0 && inputs != NULL && outputs != NULL) {
            struct tensor_slot *x = slot_of(inputs[0]), *y = slot_of(outputs[0]);
            if (x != NULL && y != NULL && x != y) {
                memcpy(y->data, x->data, x->bytes < y->bytes ? x->bytes : y->bytes);
            }
        }
        return HCAL_OK;
    }
}

static hcal_status sync_device(hcal_device *device) {
    (void)device;
    return next() % 3 == 1 ? chaos_status() : HCAL_OK;
}

static const hcal_plugin_api template_api = {
    .struct_size = sizeof(hcal_plugin_api),
    .abi_major = HCAL_PLUGIN_ABI_MAJOR,
    .abi_minor = HCAL_PLUGIN_ABI_MINOR,
    .name = "chaos",
    .create = create,
    .last_create_error = last_create_error,
    .destroy = destroy,
    .last_error = last_error,
    .get_info = get_info,
    .supports = supports,
    .alloc = alloc,
    .free = free_tensor,
    .write = write_tensor,
    .read = read_tensor,
    .execute = execute,
    .sync = sync_device,
};

/* The table handed out: the template, damaged as the script says. Rebuilt
 * on every call (the loader reads it once, right after the call). */
static hcal_plugin_api api;

const hcal_plugin_api *hcal_plugin_get_api(void) {
    api = template_api;
    switch (next() % 16) {
    case 1:
        return NULL;
    case 2:
        api.abi_major = (uint16_t)(2 + next());
        break;
    case 3:
        api.struct_size = next() % sizeof(hcal_plugin_api);
        break;
    case 4:
        api.name = NULL;
        break;
    case 5:
        api.name = "\xff\xfe";
        break;
    case 6:
        api.name = "Bad Name!";
        break;
    case 7:
        api.name = "";
        break;
    case 8: {
        /* One function pointer NULL. */
        uint8_t which = next() % 12;
        switch (which) {
        case 0: api.create = NULL; break;
        case 1: api.last_create_error = NULL; break;
        case 2: api.destroy = NULL; break;
        case 3: api.last_error = NULL; break;
        case 4: api.get_info = NULL; break;
        case 5: api.supports = NULL; break;
        case 6: api.alloc = NULL; break;
        case 7: api.free = NULL; break;
        case 8: api.write = NULL; break;
        case 9: api.read = NULL; break;
        case 10: api.execute = NULL; break;
        default: api.sync = NULL; break;
        }
        break;
    }
    case 9:
        api.struct_size = (uint32_t)sizeof(hcal_plugin_api) + 64; /* a later minor: larger is fine */
        api.abi_minor = 7;
        break;
    default:
        break;
    }
    return &api;
}
