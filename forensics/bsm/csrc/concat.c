/*
 * concat.c - bsm_concat: the columns of two results (two halves of one buffer, decoded on two
 * cores) as one, exactly what one pass over the whole buffer gives. See columns.h and bsm.h.
 *
 * The second half's data blocks move over as they are (their views get the block index
 * shifted), so strings shared inside a block stay shared; row buffers are appended.
 */
#include "columns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VIEW 16

static size_t bitmap_bytes(size_t rows) { return (rows + 7) / 8; }

/* bits [0, nb) of src after the first na bits of dst (whose bits from na on are 0) */
static void append_bits(uint8_t *dst, size_t na, const uint8_t *src, size_t nb)
{
    size_t shift = na % 8, i, nbytes = bitmap_bytes(nb), total = bitmap_bytes(na + nb);
    uint8_t *o = dst + na / 8;
    if (!nb)
        return;
    if (!shift) {
        memcpy(o, src, nbytes);
        return;
    }
    for (i = 0; i < nbytes; i++) {
        o[i] |= (uint8_t)(src[i] << shift);
        if (na / 8 + i + 1 < total)
            o[i + 1] = (uint8_t)(src[i] >> (8 - shift));
    }
}

/* n views of src appended at dst, those pointing into blocks moved by shift blocks; a view
 * whose bit in valid (when not NULL) is 0 is left as it is (zero) */
static void append_views(uint8_t *dst, const uint8_t *src, size_t n, int32_t shift,
                         const uint8_t *valid)
{
    size_t j;
    for (j = 0; j < n; j++) {
        const uint8_t *v = src + j * VIEW;
        int32_t len, index;
        if (valid && !(valid[j / 8] >> (j % 8) & 1))
            continue;
        memcpy(dst + j * VIEW, v, VIEW);
        memcpy(&len, v, 4);
        if (len > 12) {
            memcpy(&index, v + 8, 4);
            index += shift;
            memcpy(dst + j * VIEW + 8, &index, 4);
        }
    }
}

static int grow_to(void *pp, size_t count, size_t elem)
{
    void **p = pp, *q = realloc(*p, count ? count * elem : 1);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

/* room for n rows in column a (whose capacity is cap rows). A null view costs nothing while
 * its page is untouched: views beyond cap come in a fresh zeroed buffer. */
static int room_rows(bsm_column *a, size_t n1, size_t cap, size_t n)
{
    if (n <= cap)
        return 0;
    if (grow_to(&a->valid, bitmap_bytes(n), 1))
        return -1;
    switch (a->kind) {
    case BSM_FIXED:
        return grow_to(&a->values, n, (size_t)a->width);
    case BSM_BOOL:
        return grow_to(&a->values, bitmap_bytes(n), 1);
    case BSM_STRING: {
        uint8_t *views = calloc(n, VIEW);
        if (!views)
            return -1;
        append_views(views, a->values, n1, 0, a->valid);
        free(a->values);
        a->values = views;
        return 0;
    }
    default:
        return grow_to(&a->offsets, n + 1, sizeof(int64_t));
    }
}

static int room_children(bsm_column *a, size_t k)
{
    if (k <= a->child_cap)
        return 0;
    if (grow_to(&a->child_views, k, VIEW) ||
        (a->kind == BSM_ARGS && (grow_to(&a->arg_number, k, 1) ||
                                 grow_to(&a->arg_value, k, sizeof(uint64_t)))))
        return -1;
    a->child_cap = k;
    return 0;
}

/* column b's rows after column a's (a has room for cap rows); b keeps what it still owns */
static int concat_column(bsm_column *a, bsm_column *b, size_t n1, size_t n2, size_t cap)
{
    size_t k1 = (size_t)a->nchild, k2 = (size_t)b->nchild, j;
    if (!a->selected || !b->selected)       /* not produced, or already joined */
        return 0;
    if (room_rows(a, n1, cap, n1 + n2))
        return -1;
    switch (a->kind) {
    case BSM_FIXED:
        cols_populate(a->values, n1 * (size_t)a->width, (n1 + n2) * (size_t)a->width);
        memcpy(a->values + n1 * (size_t)a->width, b->values, n2 * (size_t)a->width);
        break;
    case BSM_BOOL:
        append_bits(a->values, n1, b->values, n2);
        break;
    case BSM_STRING:            /* beyond n1 the views are still zero */
        append_views(a->values + n1 * VIEW, b->values, n2, a->nblocks, b->valid);
        break;
    default:
        if (room_children(a, k1 + k2))
            return -1;
        for (j = 1; j <= n2; j++)
            a->offsets[n1 + j] = b->offsets[j] + (int64_t)k1;
        append_views(a->child_views + k1 * VIEW, b->child_views, k2, a->nblocks, NULL);
        if (a->kind == BSM_ARGS) {
            memcpy(a->arg_number + k1, b->arg_number, k2);
            memcpy(a->arg_value + k1, b->arg_value, k2 * sizeof(uint64_t));
        }
        a->nchild += (int64_t)k2;
        break;
    }
    append_bits(a->valid, n1, b->valid, n2);
    if (b->nblocks) {            /* the data blocks move over as they are */
        size_t nb = (size_t)a->nblocks + (size_t)b->nblocks;
        if (grow_to(&a->blocks, nb, sizeof(uint8_t *)) ||
            grow_to(&a->block_len, nb, sizeof(int64_t)))
            return -1;
        memcpy(a->blocks + a->nblocks, b->blocks, (size_t)b->nblocks * sizeof(uint8_t *));
        memcpy(a->block_len + a->nblocks, b->block_len, (size_t)b->nblocks * sizeof(int64_t));
        a->nblocks = (int)nb;
        a->blocks_cap = nb;
        a->data_cap = (size_t)a->block_len[nb - 1];
        b->nblocks = 0;
    }
    a->null_count += b->null_count;
    return 0;
}

int bsm_concat_columns(bsm_result *a, bsm_result *b, int from, int to)
{
    int i;
    if (!a || !b || a->ncols != b->ncols || from < 0 || to > a->ncols)
        return -1;
    for (i = from; i < to; i++) {
        if (concat_column(&a->cols[i], &b->cols[i], (size_t)a->nrows, (size_t)b->nrows,
                          a->row_cap))
            return -1;
        bsm_free_column(b, i);
        b->cols[i].selected = 0;
    }
    return 0;
}

int bsm_concat(bsm_result *a, bsm_result *b)
{
    size_t ne;
    if (!a || !b || a->ncols != b->ncols)
        return -1;
    ne = (size_t)(a->nerrors + b->nerrors);
    if (grow_to(&a->err_offset, ne, sizeof(uint64_t)) ||
        grow_to(&a->err_length, ne, sizeof(uint64_t)) || grow_to(&a->err_reason, ne, 1))
        return -1;
    a->err_cap = ne;
    if (bsm_concat_columns(a, b, 0, a->ncols))
        return -1;
    memcpy(a->err_offset + a->nerrors, b->err_offset, (size_t)b->nerrors * sizeof(uint64_t));
    memcpy(a->err_length + a->nerrors, b->err_length, (size_t)b->nerrors * sizeof(uint64_t));
    memcpy(a->err_reason + a->nerrors, b->err_reason, (size_t)b->nerrors);
    a->nerrors += b->nerrors;
    a->nrows += b->nrows;
    a->records_seen += b->records_seen;
    a->file_tokens += b->file_tokens;
    a->stopped = b->stopped;
    bsm_free(b);
    bsm_trim(a);
    return 0;
}
