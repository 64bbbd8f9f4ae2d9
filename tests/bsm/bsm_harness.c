/*
 * A small driver for the C decoder core, for memory checking (tests/test_backends.py runs it
 * under valgrind). Usage: bsm_harness FILE...
 *
 * Each file is read into a buffer of exactly its size (so a read past the end is caught), then
 * decoded without options, with a time window, with an event set, with some columns only, and
 * in two halves joined (bsm_decode_range, bsm_concat); the result's buffers (values, validity
 * bits, string views and their data blocks) are checked for consistency and freed. The text mapping runs over the whole file too.
 *
 * bsm_harness -d FILE... also prints, per file, decoding and string or list column, a digest of
 * the column's values (what the views say, not where the bytes are): builds with other data
 * block sizes or string tables (-DBSM_BLOCK_MAX, -DBSM_SEEN_BITS) must print the same.
 */
#include "bsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one string view: inline bytes padded with zeros, or a range inside a data block */
static int check_view(const bsm_column *col, const uint8_t *v)
{
    int32_t len, index, offset;
    int k;
    memcpy(&len, v, 4);
    if (len < 0)
        return 1;
    if (len <= 12) {
        for (k = 4 + len; k < 16; k++)
            if (v[k])
                return 1;
        return 0;
    }
    memcpy(&index, v + 8, 4);
    memcpy(&offset, v + 12, 4);
    if (index < 0 || index >= col->nblocks || offset < 0 ||
        (int64_t)offset + len > col->block_len[index])
        return 1;
    return memcmp(v + 4, col->blocks[index] + offset, 4) != 0;
}

static int bit(const uint8_t *bits, int64_t j) { return bits[j / 8] >> (j % 8) & 1; }

static int check(const bsm_result *r)
{
    int i;
    int64_t j;
    for (i = 0; i < r->ncols; i++) {
        const bsm_column *col = &r->cols[i];
        int64_t nulls = 0;
        if (!col->selected) {
            if (col->values || col->valid || col->offsets || col->nblocks)
                return 8;
            continue;
        }
        for (j = 0; j < r->nrows; j++)
            nulls += !bit(col->valid, j);
        if (nulls != col->null_count)
            return 1;
        if (col->kind == BSM_LIST || col->kind == BSM_ARGS) {
            if (col->offsets[0] != 0)
                return 2;
            for (j = 0; j < r->nrows; j++)
                if (col->offsets[j + 1] < col->offsets[j])
                    return 3;
            if (col->offsets[r->nrows] != col->nchild)
                return 5;
            for (j = 0; j < col->nchild; j++)
                if (check_view(col, col->child_views + 16 * j))
                    return 4;
            if (col->kind == BSM_ARGS) {
                unsigned acc = 0;
                for (j = 0; j < col->nchild; j++)
                    acc += col->arg_number[j] + (unsigned)col->arg_value[j];
                if (acc == 0xFFFFFFFFu)
                    return 6;
            }
        }
        if (col->kind == BSM_STRING)
            for (j = 0; j < r->nrows; j++)
                if (check_view(col, col->values + 16 * j) ||
                    (!bit(col->valid, j) && col->values[16 * j]))
                    return 4;
        if (col->kind == BSM_FIXED || col->kind == BSM_BOOL) {
            /* touch every value so uninitialised bytes would be reported */
            unsigned acc = 0;
            int64_t size = col->kind == BSM_FIXED ? r->nrows * col->width : (r->nrows + 7) / 8;
            for (j = 0; j < size; j++)
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

/* FNV-1a over n bytes at p, on from h */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* h on over the string a view stands for: its length and bytes */
static uint64_t view_digest(uint64_t h, const bsm_column *col, const uint8_t *v)
{
    int32_t len, index, offset;
    memcpy(&len, v, 4);
    h = fnv(h, &len, 4);
    if (len <= 12)
        return fnv(h, v + 4, (size_t)len);
    memcpy(&index, v + 8, 4);
    memcpy(&offset, v + 12, 4);
    return fnv(h, col->blocks[index] + offset, (size_t)len);
}

/* one line per string or list column of r: the digest of its rows' values */
static void print_digests(const bsm_result *r, const char *file, int k)
{
    int i;
    int64_t j;
    for (i = 0; i < r->ncols; i++) {
        const bsm_column *col = &r->cols[i];
        uint64_t h = 0xcbf29ce484222325ULL;
        if (!col->selected || col->kind == BSM_FIXED || col->kind == BSM_BOOL)
            continue;
        for (j = 0; j < r->nrows; j++) {
            uint8_t ok = (uint8_t)bit(col->valid, j);
            h = fnv(h, &ok, 1);
            if (col->kind == BSM_STRING)
                h = view_digest(h, col, col->values + 16 * j);
            else
                h = fnv(h, &col->offsets[j + 1], 8);
        }
        if (col->kind != BSM_STRING)
            for (j = 0; j < col->nchild; j++)
                h = view_digest(h, col, col->child_views + 16 * j);
        printf("%s %d %s %lld %016llx\n", file, k, col->name, (long long)r->nrows,
               (unsigned long long)h);
    }
}

/* the buffer decoded as two halves cut at a candidate record start, then joined */
static bsm_result *halves(const uint8_t *buf, size_t n, bsm_options *opts)
{
    size_t mid = bsm_resync(buf, n / 2, n);
    bsm_result *a, *b;
    opts->keep_capacity = 1;
    a = bsm_decode_range(buf, n, 0, mid, opts);
    if (!a)
        return NULL;
    b = bsm_decode_range(buf, n, a->stopped, n, opts);
    opts->keep_capacity = 0;
    if (!b || bsm_concat(a, b)) {
        bsm_free(a);
        bsm_free(b);
        return NULL;
    }
    return a;
}

int main(int argc, char **argv)
{
    static uint8_t events[8192], columns[256];
    int a, failures = 0, digests = argc > 1 && !strcmp(argv[1], "-d");
    for (a = 0; a < bsm_num_columns(); a++)
        columns[a] = a % 3 != 1;       /* every kind, some of each left out */
    events[23 >> 3] |= 1u << (23 & 7);
    events[72 >> 3] |= 1u << (72 & 7);
    for (a = 1 + digests; a < argc; a++) {
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
        for (k = 0; k < 5; k++) {
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
            } else if (k == 3) {
                opts.columns = columns;
            }
            r = k == 4 ? halves(buf, (size_t)size, &opts)
                       : bsm_decode(buf, (size_t)size, k ? &opts : NULL);
            if (!r) {
                fprintf(stderr, "%s: out of memory\n", argv[a]);
                return 2;
            }
            bad = check(r);
            if (bad) {
                fprintf(stderr, "%s: inconsistent result (%d)\n", argv[a], bad);
                failures++;
            }
            if (digests)
                print_digests(r, argv[a], k);
            bsm_free(r);
        }
        out = malloc(3 * (size_t)size + 1);
        bsm_text_map(buf, (size_t)size, out);
        free(out);
        free(buf);
    }
    return failures ? 1 : 0;
}
