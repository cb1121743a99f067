/* The one hot loop of record validation, in C: walk the records of a magic-2 batch without building them.
 *
 * walk(block, count, base_timestamp) -> (kind, index, a, b, c)
 *   block: the batch's records as one uncompressed buffer (any object with the buffer protocol).
 *   Success: (0, count, null_keys, max_timestamp, min_timestamp); timestamps are base + delta, wrapped as
 *   Java's long; the max starts at -1 (NO_TIMESTAMP), the min skips records at -1 and is -1 if all are.
 *   Failure: (kind, index of the record at fault, detail a, detail b, 0); wire/record_validation.py turns the
 *   kind into Kafka's error and message, and holds the pure-Python twin that must answer exactly the same.
 *
 * accept(records, max_message_bytes, low, high, compacted): a Produce partition entry's whole check in one call
 *   (below; the happy path only: None sends the caller to the full Python path, which names the fault).
 * stored(...): a checked batch as the log stores it, in one copy (below).
 *
 * Rules are Kafka's DefaultRecord.readFrom and DefaultRecordBatch's record iterator, plus offset deltas
 * 0..count-1 in order (Ottla stores batches as they came, so it cannot renumber them as Kafka's compressed
 * path does). Every read is bounded by the record's declared end; nothing is allocated per record.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

enum {
    WALK_OK = 0,
    WALK_EOF_BEFORE_COUNT = 1,      /* fewer records than the batch's record count */
    WALK_VARINT_TOO_LONG = 2,       /* a record length varint of more than 5 bytes */
    WALK_RECORD_OVERRUNS = 3,       /* a = declared length, b = bytes left in the block */
    WALK_STRUCTURE = 4,             /* a field is truncated or overruns its record, or a negative length */
    WALK_OFFSET_DELTA = 5,          /* a = the record's offset delta (it must equal its index) */
    WALK_NEGATIVE_HEADER_COUNT = 6, /* a = header count */
    WALK_HEADER_COUNT_TOO_LARGE = 7,/* a = header count */
    WALK_NEGATIVE_HEADER_KEY = 8,   /* a = header key size */
    WALK_SIZE_MISMATCH = 9,         /* a = declared length, b = bytes its fields take */
    WALK_TRAILING = 10,             /* a = bytes left after the last record */
};

/* A zig-zag varint (max_bytes 5) or varlong (10). 0: read, -1: truncated, -2: too long. */
static inline int read_zigzag(const uint8_t **pos, const uint8_t *end, int max_bytes, int64_t *out) {
    const uint8_t *p = *pos;
    uint64_t raw = 0;
    int shift = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (p >= end)
            return -1;
        uint8_t byte = *p++;
        raw |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            if (max_bytes == 5) {
                uint32_t r = (uint32_t)raw; /* Java's int arithmetic drops the bits above 32 */
                *out = (int32_t)((r >> 1) ^ (0u - (r & 1u)));
            } else {
                *out = (int64_t)((raw >> 1) ^ (0ull - (raw & 1ull)));
            }
            *pos = p;
            return 0;
        }
        shift += 7;
    }
    return -2;
}

#define FAIL(k) do { kind = (k); goto done; } while (0)

static int walk_records(const uint8_t *p, const uint8_t *end, long long count, int64_t base_timestamp,
                        long long *index_out, long long *a_out, long long *b_out, long long *c_out) {
    int kind = WALK_OK;
    long long index = 0, a = 0, b = 0, c = 0, null_keys = 0;
    int64_t max_timestamp = -1; /* Kafka's NO_TIMESTAMP: a batch's max starts there */
    int64_t min_timestamp = INT64_MAX;
    int64_t v;
    for (index = 0; index < count; index++) {
        if (p >= end)
            FAIL(WALK_EOF_BEFORE_COUNT);
        int64_t length;
        int r = read_zigzag(&p, end, 5, &length);
        if (r == -1)
            FAIL(WALK_EOF_BEFORE_COUNT);
        if (r == -2)
            FAIL(WALK_VARINT_TOO_LONG);
        if (length < 0)
            FAIL(WALK_STRUCTURE);
        if (length > end - p) {
            a = length;
            b = end - p;
            FAIL(WALK_RECORD_OVERRUNS);
        }
        const uint8_t *record = p, *record_end = p + length;
        if (p >= record_end)
            FAIL(WALK_STRUCTURE);
        p++; /* attributes: unused in magic 2 */
        if (read_zigzag(&p, record_end, 10, &v))
            FAIL(WALK_STRUCTURE);
        int64_t timestamp = (int64_t)((uint64_t)base_timestamp + (uint64_t)v); /* wraps as Java's long does */
        if (timestamp > max_timestamp)
            max_timestamp = timestamp;
        if (timestamp != -1 && timestamp < min_timestamp)
            min_timestamp = timestamp;
        if (read_zigzag(&p, record_end, 5, &v))
            FAIL(WALK_STRUCTURE);
        if (v != index) {
            a = v;
            FAIL(WALK_OFFSET_DELTA);
        }
        if (read_zigzag(&p, record_end, 5, &v)) /* key */
            FAIL(WALK_STRUCTURE);
        if (v < 0) {
            null_keys++;
        } else {
            if (v > record_end - p)
                FAIL(WALK_STRUCTURE);
            p += v;
        }
        if (read_zigzag(&p, record_end, 5, &v)) /* value */
            FAIL(WALK_STRUCTURE);
        if (v >= 0) {
            if (v > record_end - p)
                FAIL(WALK_STRUCTURE);
            p += v;
        }
        int64_t headers;
        if (read_zigzag(&p, record_end, 5, &headers))
            FAIL(WALK_STRUCTURE);
        if (headers < 0) {
            a = headers;
            FAIL(WALK_NEGATIVE_HEADER_COUNT);
        }
        if (headers > record_end - p) {
            a = headers;
            FAIL(WALK_HEADER_COUNT_TOO_LARGE);
        }
        for (int64_t h = 0; h < headers; h++) {
            if (read_zigzag(&p, record_end, 5, &v))
                FAIL(WALK_STRUCTURE);
            if (v < 0) {
                a = v;
                FAIL(WALK_NEGATIVE_HEADER_KEY);
            }
            if (v > record_end - p)
                FAIL(WALK_STRUCTURE);
            p += v;
            if (read_zigzag(&p, record_end, 5, &v))
                FAIL(WALK_STRUCTURE);
            if (v >= 0) {
                if (v > record_end - p)
                    FAIL(WALK_STRUCTURE);
                p += v;
            }
        }
        if (p != record_end) {
            a = length;
            b = p - record;
            FAIL(WALK_SIZE_MISMATCH);
        }
    }
    if (p != end) {
        a = end - p;
        FAIL(WALK_TRAILING);
    }
    a = null_keys;
    b = max_timestamp;
    c = min_timestamp == INT64_MAX ? -1 : min_timestamp;
done:
    *index_out = index;
    *a_out = a;
    *b_out = b;
    *c_out = c;
    return kind;
}

#define RELEASE_GIL_ABOVE 65536 /* bytes: below this the GIL round trip costs more than the walk */

static PyObject *walk(PyObject *self, PyObject *args) {
    Py_buffer view;
    long long count, base_timestamp, index, a, b, c;
    int kind;
    if (!PyArg_ParseTuple(args, "y*LL", &view, &count, &base_timestamp))
        return NULL;
    const uint8_t *start = (const uint8_t *)view.buf;
    if (view.len >= RELEASE_GIL_ABOVE) {
        Py_BEGIN_ALLOW_THREADS
        kind = walk_records(start, start + view.len, count, (int64_t)base_timestamp, &index, &a, &b, &c);
        Py_END_ALLOW_THREADS
    } else {
        kind = walk_records(start, start + view.len, count, (int64_t)base_timestamp, &index, &a, &b, &c);
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(iLLLL)", kind, index, a, b, c);
}

/* accept(records, max_message_bytes, low, high, compacted) -> (BatchHeader, RecordsSummary) or None
 *
 * A Produce partition entry's records in one call, for the common case: exactly one uncompressed magic-2
 * batch that passes every check PartitionLog._validate makes (the split, Kafka's batch checks with the
 * CRC-32C, the record walk above, record timestamps within [low, high] for a CreateTime batch, no null key
 * when `compacted`). A compressed batch that passes every check but those of its records gets
 * (BatchHeader, None): the caller walks its records once they are decompressed. None for anything else,
 * faults included: the caller then runs the full Python path,
 * which finds and names the fault. So this function never decides an error; wire/records.py
 * accept_python is its twin (the same answer for every input, the tests hold them to it).
 * The header and summary types and the CRC-32C function are given once by configure(). */
static PyObject *header_type, *summary_type, *crc_function;

static inline int64_t be64(const uint8_t *p) {
    return (int64_t)(((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) |
                     ((uint64_t)p[3] << 32) | ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) |
                     ((uint64_t)p[6] << 8) | (uint64_t)p[7]);
}
static inline uint32_t be32u(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline int32_t be32(const uint8_t *p) { return (int32_t)be32u(p); }
static inline int16_t be16(const uint8_t *p) { return (int16_t)(((uint16_t)p[0] << 8) | (uint16_t)p[1]); }

#define BATCH_HEADER 61
#define LOG_OVERHEAD 12
#define CRC_FROM 21 /* the CRC covers the attributes to the end of the batch */

/* A tuple subclass (a NamedTuple) of n items, filled by the caller as tuple's own subtype constructor does. */
static PyObject *new_named(PyObject *type, Py_ssize_t n) {
    return ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, n);
}

/* The CRC-32C of a batch of `len` bytes (attributes to the end), by the configured function: 0, or -1 with an
 * exception set. */
static int batch_crc(const uint8_t *b, Py_ssize_t len, uint32_t *out) {
    PyObject *covered = PyMemoryView_FromMemory((char *)b + CRC_FROM, len - CRC_FROM, PyBUF_READ);
    if (covered == NULL)
        return -1;
    PyObject *computed = PyObject_CallOneArg(crc_function, covered);
    Py_DECREF(covered);
    if (computed == NULL)
        return -1;
    unsigned long value = PyLong_AsUnsignedLong(computed);
    Py_DECREF(computed);
    if (value == (unsigned long)-1 && PyErr_Occurred())
        return -1;
    *out = (uint32_t)value;
    return 0;
}

static int set_ll(PyObject *tuple, Py_ssize_t i, long long value) {
    PyObject *item = PyLong_FromLongLong(value);
    if (item == NULL)
        return -1;
    PyTuple_SET_ITEM(tuple, i, item);
    return 0;
}

static PyObject *accept(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "accept(records, max_message_bytes, low, high, compacted)");
        return NULL;
    }
    if (header_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "wire._record_walk.configure() was not called");
        return NULL;
    }
    if (args[0] == Py_None)
        Py_RETURN_NONE;
    long long max_message_bytes = PyLong_AsLongLong(args[1]);
    long long low = PyLong_AsLongLong(args[2]);
    long long high = PyLong_AsLongLong(args[3]);
    int compacted = PyObject_IsTrue(args[4]);
    if (PyErr_Occurred())
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *result = NULL;
    const uint8_t *b = (const uint8_t *)view.buf;
    Py_ssize_t len = view.len;
    if (len < BATCH_HEADER)
        goto none;
    int64_t base_offset = be64(b);
    int32_t batch_length = be32(b + 8);
    int32_t leader_epoch = be32(b + 12);
    int8_t magic = (int8_t)b[16];
    uint32_t crc = be32u(b + 17);
    int16_t attributes = be16(b + 21);
    int32_t last_offset_delta = be32(b + 23);
    int64_t base_timestamp = be64(b + 27);
    int64_t max_timestamp = be64(b + 35);
    int64_t producer_id = be64(b + 43);
    int16_t producer_epoch = be16(b + 51);
    int32_t base_sequence = be32(b + 53);
    int32_t record_count = be32(b + 57);
    if (batch_length < BATCH_HEADER - LOG_OVERHEAD || (long long)batch_length + LOG_OVERHEAD != len)
        goto none; /* truncated, or not exactly one batch */
    if (magic != 2 || base_offset != 0 || len > max_message_bytes)
        goto none;
    int compressed = (attributes & 0x07) != 0; /* its records are walked by the caller, after decompressing */
    if ((attributes & 0x07) > 4 || (attributes & 0x20) != 0)
        goto none; /* an unknown codec, or a control batch */
    if (record_count < 1 || last_offset_delta != record_count - 1)
        goto none;
    int log_append_time = (attributes & 0x08) != 0;
    if (base_timestamp < -1 || max_timestamp < -1 || (max_timestamp < base_timestamp && !log_append_time))
        goto none;
    if (producer_id >= 0 && base_sequence < 0)
        goto none;
    {
        uint32_t computed;
        if (batch_crc(b, len, &computed) < 0)
            goto done;
        if (computed != crc)
            goto none;
    }
    long long index = 0, null_keys = 0, max_seen = 0, min_seen = 0;
    if (!compressed) {
        int kind;
        const uint8_t *records = b + BATCH_HEADER, *end = b + len;
        if (len - BATCH_HEADER >= RELEASE_GIL_ABOVE) {
            Py_BEGIN_ALLOW_THREADS
            kind = walk_records(records, end, record_count, base_timestamp, &index, &null_keys, &max_seen, &min_seen);
            Py_END_ALLOW_THREADS
        } else {
            kind = walk_records(records, end, record_count, base_timestamp, &index, &null_keys, &max_seen, &min_seen);
        }
        if (kind != WALK_OK)
            goto none;
        if (!log_append_time && min_seen != -1 && (min_seen < low || max_seen > high))
            goto none; /* a record outside message.timestamp.before/after.max.ms */
        if (compacted && null_keys > 0)
            goto none;
    }
    PyObject *header = new_named(header_type, 13);
    if (header == NULL)
        goto done;
    if (set_ll(header, 0, base_offset) || set_ll(header, 1, batch_length) || set_ll(header, 2, leader_epoch) ||
        set_ll(header, 3, magic) || set_ll(header, 4, crc) || set_ll(header, 5, attributes) ||
        set_ll(header, 6, last_offset_delta) || set_ll(header, 7, base_timestamp) ||
        set_ll(header, 8, max_timestamp) || set_ll(header, 9, producer_id) || set_ll(header, 10, producer_epoch) ||
        set_ll(header, 11, base_sequence) || set_ll(header, 12, record_count)) {
        Py_DECREF(header);
        goto done;
    }
    if (compressed) { /* checked up to its records: (header, None) */
        result = PyTuple_Pack(2, header, Py_None);
        Py_DECREF(header);
        goto done;
    }
    PyObject *summary = new_named(summary_type, 5);
    if (summary == NULL) {
        Py_DECREF(header);
        goto done;
    }
    if (set_ll(summary, 0, record_count) || set_ll(summary, 1, null_keys) || set_ll(summary, 2, max_seen) ||
        set_ll(summary, 3, min_seen) || set_ll(summary, 4, len - BATCH_HEADER)) {
        Py_DECREF(header);
        Py_DECREF(summary);
        goto done;
    }
    result = PyTuple_Pack(2, header, summary);
    Py_DECREF(header);
    Py_DECREF(summary);
    goto done;
none:
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

/* stored(records, pos, size, base_offset, leader_epoch, max_timestamp, log_append_time) -> bytes
 *
 * The batch of `size` bytes at `pos` as the log stores it, in one copy: baseOffset and partitionLeaderEpoch set,
 * maxTimestamp set (log_append_time also sets the timestamp-type bit), the CRC recomputed only when a field it
 * covers changed. The twin of wire/records.py stored_python (the same bytes; the caller checked the batch). */
static void put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}
static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static PyObject *stored(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "stored(records, pos, size, base_offset, leader_epoch, max_timestamp, log_append_time)");
        return NULL;
    }
    if (crc_function == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "wire._record_walk.configure() was not called");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    Py_ssize_t size = PyLong_AsSsize_t(args[2]);
    long long base_offset = PyLong_AsLongLong(args[3]);
    long leader_epoch = PyLong_AsLong(args[4]);
    long long max_timestamp = PyLong_AsLongLong(args[5]);
    int log_append_time = PyObject_IsTrue(args[6]);
    if (PyErr_Occurred())
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *out = NULL;
    if (pos < 0 || size < BATCH_HEADER || pos > view.len - size) {
        PyErr_SetString(PyExc_ValueError, "the batch is not inside the buffer");
        goto done;
    }
    out = PyBytes_FromStringAndSize((const char *)view.buf + pos, size);
    if (out == NULL)
        goto done;
    uint8_t *b = (uint8_t *)PyBytes_AS_STRING(out);
    put_be64(b, (uint64_t)base_offset);
    put_be32(b + 12, (uint32_t)leader_epoch);
    int16_t attributes = be16(b + 21);
    int16_t new_attributes = log_append_time ? (int16_t)(attributes | 0x08) : attributes;
    if (new_attributes != attributes || max_timestamp != be64(b + 35)) {
        b[21] = (uint8_t)((uint16_t)new_attributes >> 8);
        b[22] = (uint8_t)new_attributes;
        put_be64(b + 35, (uint64_t)max_timestamp);
        uint32_t crc;
        if (batch_crc(b, size, &crc) < 0)
            goto fail;
        put_be32(b + 17, crc);
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyBuffer_Release(&view);
    return out;
}

static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *header, *summary, *crc;
    if (!PyArg_ParseTuple(args, "O!O!O", &PyType_Type, &header, &PyType_Type, &summary, &crc))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)header, &PyTuple_Type) ||
        !PyType_IsSubtype((PyTypeObject *)summary, &PyTuple_Type) || !PyCallable_Check(crc)) {
        PyErr_SetString(PyExc_TypeError, "configure(tuple subclass, tuple subclass, crc32c function)");
        return NULL;
    }
    Py_XSETREF(header_type, Py_NewRef(header));
    Py_XSETREF(summary_type, Py_NewRef(summary));
    Py_XSETREF(crc_function, Py_NewRef(crc));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS,
     "walk(block, count, base_timestamp) -> (kind, index, a, b, c): see wire/record_validation.py"},
    {"accept", (PyCFunction)(void (*)(void))accept, METH_FASTCALL,
     "accept(records, max_message_bytes, low, high, compacted) -> (header, summary) or None: see wire/records.py"},
    {"stored", (PyCFunction)(void (*)(void))stored, METH_FASTCALL,
     "stored(records, pos, size, base_offset, leader_epoch, max_timestamp, log_append_time) -> bytes"},
    {"configure", configure, METH_VARARGS, "configure(BatchHeader, RecordsSummary, crc32c)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wire._record_walk",
    "The record walk of wire/record_validation.py in C (built by setup.py; optional).", -1, methods,
};

/* Bumped whenever walk()'s answer changes shape: a stale build in a worktree is then not used. */
#define WALK_ABI 5

PyMODINIT_FUNC PyInit__record_walk(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "WALK_ABI", WALK_ABI) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
