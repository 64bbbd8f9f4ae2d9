/*
 * columns.c - the column writer of the C decoder. See columns.h and bsm.h.
 *
 * Every buffer is in the layout Polars keeps, so cdecode.py wraps them without a copy:
 *   fixed-width values  nrows * width bytes, 0 where the row is null
 *   booleans, validity  packed bits, least significant first
 *   strings             16-byte views: length, then up to 12 bytes inline, or the first 4
 *                       bytes, the data block's index and the offset in it
 *   lists               nrows + 1 int64 offsets into the children (views, for args also the
 *                       number and value arrays)
 * A data block grows up to BLOCK_MAX bytes; a string that does not fit starts a new one (a
 * longer string gets a block of its own), so no view offset overflows. A long string the block
 * already holds is not written twice (see columns.h). At the end every buffer is cut to its
 * exact length.
 */
#include "columns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#ifndef BSM_BLOCK_MAX          /* smaller in tests: many blocks from small inputs */
#define BSM_BLOCK_MAX INT32_MAX
#endif
#define BLOCK_MAX ((size_t)BSM_BLOCK_MAX)
#define FIRST_BLOCK ((size_t)1 << 16)
#define VIEW 16

static const struct {
    const char *name;
    int kind;
    int width;
} COLDEFS[NCOLS] = {
#define DEF(ci, name, kind, width) {name, kind, width},
    COLUMNS(DEF)
#undef DEF
};

static const int LISTS[] = {C_PATHS, C_ARGS, C_EXEC_ARGV, C_EXEC_ENV, C_TEXT};
#define NLISTS ((int)(sizeof LISTS / sizeof LISTS[0]))

int bsm_num_columns(void) { return NCOLS; }

static void *resize(col_writer *w, void *p, size_t count, size_t elem)
{
    void *q;
    if (count > ((size_t)-1) / 4 / elem)
        longjmp(*w->oom, 1);
    q = realloc(p, count ? count * elem : 1);
    if (!q)
        longjmp(*w->oom, 1);
    return q;
}

static size_t bitmap_bytes(size_t rows) { return (rows + 7) / 8; }

/* Fault in the whole pages of [p + from, p + to) that are about to be written, in one call
 * (Linux: MADV_POPULATE_WRITE costs about a third less than a fault per page). Only memory
 * certain to be written is asked for; elsewhere, or when it fails, pages fault as usual. */
void cols_populate(uint8_t *p, size_t from, size_t to)
{
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    uintptr_t page = 4096, start = ((uintptr_t)(p + from) + page - 1) & ~(page - 1);
    uintptr_t end = (uintptr_t)(p + to) & ~(page - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)from;
    (void)to;
#endif
}

#define POPULATE_AHEAD ((size_t)64 << 10)

/* a buffer of cap bytes written in order up to end: fault the next pages in ahead, in one call;
 * *populated is how far that went */
static void ahead(uint8_t *p, size_t *populated, size_t end, size_t cap)
{
    size_t upto = end + POPULATE_AHEAD;
    if (end <= *populated)
        return;
    upto = upto < cap ? upto : cap;
    cols_populate(p, *populated, upto);
    *populated = upto;
}

void cols_ahead_data(bsm_column *col, size_t end)
{
    ahead(col->blocks[col->nblocks - 1], &col->data_populated, end, col->data_cap);
}

void cols_ahead_children(bsm_column *col, size_t end)
{
    ahead(col->child_views, &col->child_populated, end, col->child_cap * VIEW);
}

/* the row buffers of one column, from old to cap rows. String views start zeroed (calloc: the
 * pages of rows that stay null are never touched and cost no memory); a null row's view is
 * never written. Growing them copies, but the first capacity is rarely exceeded. */
static void size_rows(col_writer *w, bsm_column *col, size_t old, size_t cap)
{
    col->valid = resize(w, col->valid, bitmap_bytes(cap), 1);
    switch (col->kind) {
    case BSM_FIXED:
        col->values = resize(w, col->values, cap, (size_t)col->width);
        break;
    case BSM_BOOL:
        col->values = resize(w, col->values, bitmap_bytes(cap), 1);
        break;
    case BSM_STRING:
        if (cap > old || !col->values) {     /* a fresh zeroed buffer, the views copied in */
            uint8_t *views = calloc(cap ? cap : 1, VIEW);
            if (!views)
                longjmp(*w->oom, 1);
            if (col->values)
                memcpy(views, col->values, old * VIEW);
            free(col->values);
            col->values = views;
        } else {
            col->values = resize(w, col->values, cap, VIEW);
        }
        break;
    default:
        col->offsets = resize(w, col->offsets, cap + 1, sizeof(int64_t));
        break;
    }
}

void cols_grow_rows(col_writer *w, size_t need)
{
    bsm_result *res = w->res;
    size_t old = res->row_cap, cap = old ? old : BLOCK, i;
    if (need <= old)
        return;
    while (cap < need)
        cap *= 2;
    for (i = 0; i < NCOLS; i++)
        if (w->sel[i])
            size_rows(w, &res->cols[i], old, cap);
    res->row_cap = cap;
}

void cols_alloc(col_writer *w, const uint8_t *columns, size_t max_rows, size_t est_bytes)
{
    bsm_result *res = w->res;
    size_t cap = (max_rows + BLOCK - 1) & ~(size_t)(BLOCK - 1);
    int i;
    res->cols = calloc(NCOLS, sizeof(bsm_column));
    if (!res->cols)
        longjmp(*w->oom, 1);
    res->ncols = NCOLS;
    for (i = 0; i < NCOLS; i++) {
        bsm_column *col = &res->cols[i];
        col->name = COLDEFS[i].name;
        col->kind = COLDEFS[i].kind;
        col->width = COLDEFS[i].width;
        col->selected = w->sel[i] = (uint8_t)(columns ? columns[i] != 0 : 1);
        if (col->selected)
            size_rows(w, col, 0, cap ? cap : BLOCK);
    }
    res->row_cap = cap ? cap : BLOCK;
    /* untouched capacity costs no memory, and is given back at the end */
    w->first_block = est_bytes < FIRST_BLOCK ? FIRST_BLOCK : est_bytes;
    if (w->first_block > BLOCK_MAX)
        w->first_block = BLOCK_MAX;
    for (i = 0; i < NLISTS; i++)
        if (w->sel[LISTS[i]])
            w->res->cols[LISTS[i]].offsets[0] = 0;
}

/* ------------------------------------------------------------------------------------------ */
/* strings */

uint64_t cols_hash_long(const uint8_t *s, size_t len)
{
    uint64_t h = (uint64_t)len ^ HASH_K1;
    size_t i, step = (len - 16) / 16;
    for (i = 0; i < 128; i += 16)
        h = cols_mix16(h, s + i);
    for (i = 1; i < 16; i++)
        h = cols_mix16(h, s + i * step);
    for (i = len - 128; i < len; i += 16)
        h = cols_mix16(h, s + i);
    return cols_mum(h ^ HASH_K1, (uint64_t)len ^ HASH_K0);
}

/* column col starts a data block: no string of it is seen yet */
static void forget_strings(col_writer *w, bsm_column *col)
{
    seen_slot **seen = &w->seen[col - w->res->cols];
    if (*seen)
        memset(*seen, 0, SEEN_SLOTS * sizeof(seen_slot));
    else if (!(*seen = calloc(SEEN_SLOTS, sizeof(seen_slot))))
        longjmp(*w->oom, 1);
}

void cols_release(col_writer *w)
{
    int i;
    for (i = 0; i < NCOLS; i++) {
        free(w->seen[i]);
        w->seen[i] = NULL;
    }
}

static void new_block(col_writer *w, bsm_column *col, size_t max)
{
    size_t cap = max > w->first_block ? max : w->first_block;
    if (col->nblocks) {          /* the full block keeps only what it holds */
        int last = col->nblocks - 1;
        col->blocks[last] = resize(w, col->blocks[last], (size_t)col->block_len[last], 1);
    }
    if ((size_t)col->nblocks == col->blocks_cap) {
        size_t bc = col->blocks_cap ? 2 * col->blocks_cap : 4;
        col->blocks = resize(w, col->blocks, bc, sizeof(uint8_t *));
        col->block_len = resize(w, col->block_len, bc, sizeof(int64_t));
        col->blocks_cap = bc;
    }
    col->blocks[col->nblocks] = resize(w, NULL, cap, 1);
    col->block_len[col->nblocks] = 0;
    forget_strings(w, col);
    col->data_populated = 0;
    col->nblocks++;
    col->data_cap = cap;
}

uint8_t *cols_grow_data(col_writer *w, bsm_column *col, size_t max)
{
    int last = col->nblocks - 1;
    size_t len;
    if (last < 0) {
        new_block(w, col, max);
        return col->blocks[0];
    }
    len = (size_t)col->block_len[last];
    if (len + max <= col->data_cap)
        return col->blocks[last] + len;
    if (len + max <= BLOCK_MAX && col->data_cap < BLOCK_MAX) {
        size_t cap = col->data_cap;
        while (cap < len + max)
            cap *= 2;
        if (cap > BLOCK_MAX)
            cap = BLOCK_MAX;
        col->blocks[last] = resize(w, col->blocks[last], cap, 1);
        col->data_cap = cap;
        return col->blocks[last] + len;
    }
    new_block(w, col, max);
    return col->blocks[col->nblocks - 1];
}

void cols_grow_children(col_writer *w, bsm_column *col)
{
    size_t cap = col->child_cap ? 2 * col->child_cap : 1024;
    col->child_views = resize(w, col->child_views, cap, VIEW);
    if (col->kind == BSM_ARGS) {
        col->arg_number = resize(w, col->arg_number, cap, 1);
        col->arg_value = resize(w, col->arg_value, cap, sizeof(uint64_t));
    }
    col->child_cap = cap;
}

/* ------------------------------------------------------------------------------------------ */
/* rows */

/* m bytes (each 0 or 1) as m bits, least significant first; the last byte padded with 0 */
static void pack_bits(uint8_t *out, const uint8_t *bits, size_t m)
{
    size_t j, k;
    for (j = 0; j + 8 <= m; j += 8) {
        uint64_t x;
        memcpy(&x, bits + j, 8);
        out[j / 8] = (uint8_t)(((x & 0x0101010101010101ULL) * 0x0102040810204080ULL) >> 56);
    }
    if (j < m) {
        uint8_t b = 0;
        for (k = 0; j + k < m; k++)
            b |= (uint8_t)((bits[j + k] & 1) << k);
        out[j / 8] = b;
    }
}

/* copy column ci's m staged rows out at row r0 (a multiple of 8) */
static void flush_col(col_writer *w, int ci, size_t r0, size_t m)
{
    bsm_column *col = &w->res->cols[ci];
    const uint8_t *ok = w->stage_ok + (size_t)ci * BLOCK;
    const uint64_t *v = w->stage_v + (size_t)ci * BLOCK;
    size_t j;
    int64_t valid = 0;
    pack_bits(col->valid + r0 / 8, ok, m);
    for (j = 0; j < m; j++)
        valid += ok[j];
    w->nulls[ci] += (int64_t)m - valid;
    switch (col->kind) {
    case BSM_FIXED:
        ahead(col->values, &col->populated, (r0 + m) * (size_t)col->width,
              w->res->row_cap * (size_t)col->width);
        if (col->width == 1) {
            uint8_t *o = col->values + r0;
            for (j = 0; j < m; j++)
                o[j] = ok[j] ? (uint8_t)v[j] : 0;
        } else if (col->width == 2) {
            uint16_t *o = (uint16_t *)(void *)col->values + r0;
            for (j = 0; j < m; j++)
                o[j] = ok[j] ? (uint16_t)v[j] : 0;
        } else if (col->width == 4) {
            uint32_t *o = (uint32_t *)(void *)col->values + r0;
            for (j = 0; j < m; j++)
                o[j] = ok[j] ? (uint32_t)v[j] : 0;
        } else {
            uint64_t *o = (uint64_t *)(void *)col->values + r0;
            for (j = 0; j < m; j++)
                o[j] = ok[j] ? v[j] : 0;
        }
        break;
    case BSM_BOOL: {
        uint8_t truth[BLOCK];
        for (j = 0; j < m; j++)
            truth[j] = ok[j] && v[j];
        pack_bits(col->values + r0 / 8, truth, m);
        break;
    }
    case BSM_STRING:            /* views were written during the walk; null rows stay zero */
        break;
    default:                    /* lists: the staged value is the row's end in the children */
        ahead((uint8_t *)col->offsets, &col->populated, (r0 + m + 1) * sizeof(int64_t),
              (w->res->row_cap + 1) * sizeof(int64_t));
        memcpy(col->offsets + r0 + 1, v, m * sizeof(int64_t));
        break;
    }
}

static void flush_rows(col_writer *w)
{
    size_t r0 = (size_t)w->res->nrows, m = w->nstage;
    int ci;
    if (!m)
        return;
    for (ci = 0; ci < NCOLS; ci++)
        if (w->sel[ci])
            flush_col(w, ci, r0, m);
    w->res->nrows += (int64_t)m;
    w->nstage = 0;
    memset(w->stage_ok, 0, sizeof w->stage_ok);
}

void cols_finish_row(col_writer *w)
{
    int i;
    for (i = 0; i < NLISTS; i++) {
        int ci = LISTS[i];
        if (w->sel[ci])
            w->stage_v[(size_t)ci * BLOCK + w->nstage] = (uint64_t)w->res->cols[ci].nchild;
    }
    if (++w->nstage == BLOCK)
        flush_rows(w);
}

/* *p cut to count elements (when that fails, the larger buffer stays: it is still right) */
static void shrink_to(void *pp, size_t count, size_t elem)
{
    void **p = pp, *q;
    if (!*p)
        return;
    q = realloc(*p, count ? count * elem : 1);
    if (q)
        *p = q;
}

/* every buffer of column col cut to its exact length */
static void trim_column(bsm_column *col, size_t n)
{
    size_t k = (size_t)col->nchild;
    shrink_to(&col->valid, bitmap_bytes(n), 1);
    switch (col->kind) {
    case BSM_FIXED:
        shrink_to(&col->values, n, (size_t)col->width);
        break;
    case BSM_BOOL:
        shrink_to(&col->values, bitmap_bytes(n), 1);
        break;
    case BSM_STRING:
        shrink_to(&col->values, n, VIEW);
        break;
    default:
        shrink_to(&col->offsets, n + 1, sizeof(int64_t));
        shrink_to(&col->child_views, k, VIEW);
        if (col->kind == BSM_ARGS) {
            shrink_to(&col->arg_number, k, 1);
            shrink_to(&col->arg_value, k, sizeof(uint64_t));
        }
        col->child_cap = k;
        break;
    }
    if (col->nblocks) {
        int last = col->nblocks - 1;
        shrink_to(&col->blocks[last], (size_t)col->block_len[last], 1);
        col->data_cap = (size_t)col->block_len[last];
    }
}

void bsm_trim(bsm_result *res)
{
    int i;
    if (!res || !res->cols)
        return;
    for (i = 0; i < res->ncols; i++)
        if (res->cols[i].selected)
            trim_column(&res->cols[i], (size_t)res->nrows);
    res->row_cap = (size_t)res->nrows;
}

void cols_finish(col_writer *w, int trim)
{
    bsm_result *res = w->res;
    int ci;
    flush_rows(w);
    cols_release(w);
    for (ci = 0; ci < NCOLS; ci++)
        res->cols[ci].null_count = w->nulls[ci];
    if (trim)
        bsm_trim(res);
}

/* ------------------------------------------------------------------------------------------ */

void cols_free(bsm_column *col)
{
    int b;
    free(col->values);
    free(col->valid);
    free(col->offsets);
    free(col->child_views);
    free(col->arg_number);
    free(col->arg_value);
    for (b = 0; b < col->nblocks; b++)
        free(col->blocks[b]);
    free(col->blocks);
    free(col->block_len);
    cols_forget(col);
}

void cols_forget(bsm_column *col)
{
    col->values = col->valid = col->child_views = col->arg_number = NULL;
    col->offsets = NULL;
    col->arg_value = NULL;
    col->blocks = NULL;
    col->block_len = NULL;
    col->nblocks = 0;
}

void bsm_free_column(bsm_result *res, int i)
{
    if (res && res->cols && i >= 0 && i < res->ncols)
        cols_free(&res->cols[i]);
}
