/* The one hot loop of record validation, in C: walk the records of a magic-2 batch without building them.
 *
 * walk(block, count, base_timestamp) -> (kind, index, a, b, c)
 *   block: the batch's records as one uncompressed buffer (any object with the buffer protocol).
 *   Success: (0, count, null_keys, max_timestamp, min_timestamp); timestamps are base + delta, wrapped as
 *   Java's long; the max starts at -1 (NO_TIMESTAMP), the min skips records at -1 and is -1 if all are.
 *   Failure: (kind, index of the record at fault, detail a, detail b, 0); wire/record_validation.py turns the
 *   kind into Kafka's error and message, and holds the pure-Python twin that must answer exactly the same.
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

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS,
     "walk(block, count, base_timestamp) -> (kind, index, a, b, c): see wire/record_validation.py"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wire._record_walk",
    "The record walk of wire/record_validation.py in C (built by setup.py; optional).", -1, methods,
};

/* Bumped whenever walk()'s answer changes shape: a stale build in a worktree is then not used. */
#define WALK_ABI 2

PyMODINIT_FUNC PyInit__record_walk(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "WALK_ABI", WALK_ABI) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
