/*
 * A small driver for the C decoder core, for memory checking (tests/test_backends.py runs it
 * under valgrind). Usage: bsm_harness FILE...
 *
 * Each file is read into a buffer of exactly its size (so a read past the end is caught), then
 * decoded without options, with a time window and with an event set; the result's buffers are
 * checked for consistency and freed. The text mapping runs over the whole file too.
 */
#include "bsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(const bsm_result *r)
{
    int i;
    int64_t j;
    for (i = 0; i < r->ncols; i++) {
        const bsm_column *col = &r->cols[i];
        int64_t nulls = 0;
        for (j = 0; j < r->nrows; j++)
            nulls += !col->valid[j];
        if (nulls != col->null_count)
            return 1;
        if (col->kind == BSM_STRING || col->kind == BSM_LIST || col->kind == BSM_ARGS) {
            if (col->offsets[0] != 0)
                return 2;
            for (j = 0; j < r->nrows; j++)
                if (col->offsets[j + 1] < col->offsets[j])
                    return 3;
        }
        if (col->kind == BSM_STRING && col->offsets[r->nrows] != col->data_len)
            return 4;
        if (col->kind == BSM_LIST || col->kind == BSM_ARGS) {
            if (col->offsets[r->nrows] != col->nchild ||
                col->child_offsets[col->nchild] != col->data_len)
                return 5;
        }
        if (col->kind == BSM_FIXED || col->kind == BSM_BOOL) {
            /* touch every value so uninitialised bytes would be reported */
            unsigned acc = 0;
            for (j = 0; j < r->nrows * col->width; j++)
                acc += col->values[j];
            if (acc == 0xFFFFFFFFu)
                return 6;
        }
    }
    for (j = 0; j < r->nerrors; j++)
        if (r->err_reason[j] >= BSM_NREASONS)
            return 7;
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t events[8192];
    int a, failures = 0;
    events[23 >> 3] |= 1u << (23 & 7);
    events[72 >> 3] |= 1u << (72 & 7);
    for (a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        long size;
        uint8_t *buf, *out;
        int k;
        if (!f) {
            perror(argv[a]);
            return 2;
        }
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc(size ? (size_t)size : 1);
        if (size && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            perror(argv[a]);
            return 2;
        }
        fclose(f);
        for (k = 0; k < 3; k++) {
            bsm_options opts;
            bsm_result *r;
            int bad;
            memset(&opts, 0, sizeof opts);
            if (k == 1) {
                opts.has_since = opts.has_until = 1;
                opts.since_ms = 1710493199000LL;
                opts.until_ms = 1710493300000LL;
            } else if (k == 2) {
                opts.events = events;
            }
            r = bsm_decode(buf, (size_t)size, k ? &opts : NULL);
            if (!r) {
                fprintf(stderr, "%s: out of memory\n", argv[a]);
                return 2;
            }
            bad = check(r);
            if (bad) {
                fprintf(stderr, "%s: inconsistent result (%d)\n", argv[a], bad);
                failures++;
            }
            bsm_free(r);
        }
        out = malloc(3 * (size_t)size + 1);
        bsm_text_map(buf, (size_t)size, out);
        free(out);
        free(buf);
    }
    return failures ? 1 : 0;
}
