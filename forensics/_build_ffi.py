"""cffi builder for ``forensics._cbsm``: wires ``csrc/bsm.h`` and ``csrc/bsm.c``, nothing else.

Out-of-line API mode. setup.py runs it through ``cffi_modules``; by hand::

    python forensics/_build_ffi.py       # builds forensics/_cbsm*.so in place
"""

from __future__ import annotations

import os

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))

CDEF = """
#define BSM_FIXED ...
#define BSM_BOOL ...
#define BSM_STRING ...
#define BSM_LIST ...
#define BSM_ARGS ...
#define BSM_NREASONS ...

typedef struct bsm_column {
    const char *name;
    int kind;
    int width;
    int64_t null_count;
    uint8_t *values;
    uint8_t *valid;
    int64_t *offsets;
    int64_t *child_offsets;
    int64_t nchild;
    uint8_t *data;
    int64_t data_len;
    uint8_t *arg_number;
    uint64_t *arg_value;
    ...;
} bsm_column;

typedef struct bsm_options {
    int has_since;
    int has_until;
    int64_t since_ms;
    int64_t until_ms;
    const uint8_t *events;
} bsm_options;

typedef struct bsm_result {
    int64_t nrows;
    int ncols;
    bsm_column *cols;
    int64_t nerrors;
    uint64_t *err_offset;
    uint64_t *err_length;
    uint8_t *err_reason;
    int64_t records_seen;
    int64_t file_tokens;
    ...;
} bsm_result;

bsm_result *bsm_decode(const uint8_t *buf, size_t n, const bsm_options *opts);
void bsm_free(bsm_result *res);
void bsm_free_column(bsm_result *res, int i);
void bsm_free_validity(bsm_result *res);
int bsm_num_columns(void);
const char *bsm_reason_name(int reason);
size_t bsm_text_map(const uint8_t *in, size_t n, uint8_t *out);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "forensics._cbsm",
    '#include "bsm.h"',
    sources=["forensics/csrc/bsm.c"],      # relative to the project root (setup.py's folder)
    include_dirs=["forensics/csrc"],
    extra_compile_args=["-O2"],
)

if __name__ == "__main__":
    os.chdir(os.path.dirname(_HERE))    # the project root
    ffibuilder.compile(verbose=True)
