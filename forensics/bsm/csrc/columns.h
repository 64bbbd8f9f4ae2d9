/*
 * columns.h - the column writer of the C decoder (internal: bsm.c, columns.c, concat.c and
 * arrow.c; cffi sees bsm.h and arrow.h).
 *
 * The walk (bsm.c) stages each record's fixed-width values and null flags column-major, BLOCK
 * rows at a time; columns.c copies a block out into the layout Arrow and Polars keep as they
 * are (see bsm.h): values of exact width, validity and booleans as packed bits, strings as
 * 16-byte views over data blocks of at most 2^31 - 1 bytes. Strings and list children are
 * written straight into their column while the record is walked. Only the selected columns
 * are allocated or written.
 *
 * A string longer than 12 bytes whose bytes the column's current data block already holds is
 * not written again: its view points at the earlier copy (views may share bytes). A small
 * direct-mapped table per column (seen_slot) remembers, by a hash of the bytes, where
 * recent strings of the block are; a match is always confirmed byte for byte, so a value never
 * changes, and the table starts empty with each block, so the result is deterministic.
 */
#ifndef KNOX_COLUMNS_H
#define KNOX_COLUMNS_H

#include "bsm.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* columns, in schema.RECORD_CORE order */

/* X(index, name, kind, width) for every column, in schema.RECORD_CORE order */
#define COLUMNS(X) \
    X(C_OFFSET, "offset", BSM_FIXED, 8) \
    X(C_LENGTH, "length", BSM_FIXED, 4) \
    X(C_TIME, "time", BSM_FIXED, 8) \
    X(C_EVENT, "event", BSM_FIXED, 2) \
    X(C_MODIFIER, "modifier", BSM_FIXED, 2) \
    X(C_VERSION, "version", BSM_FIXED, 1) \
    X(C_HEADER_TOKEN, "header_token", BSM_FIXED, 1) \
    X(C_HOST, "host", BSM_STRING, 0) \
    X(C_SUBJECT_TOKEN, "subject_token", BSM_FIXED, 1) \
    X(C_AUID, "auid", BSM_FIXED, 4) \
    X(C_EUID, "euid", BSM_FIXED, 4) \
    X(C_EGID, "egid", BSM_FIXED, 4) \
    X(C_RUID, "ruid", BSM_FIXED, 4) \
    X(C_RGID, "rgid", BSM_FIXED, 4) \
    X(C_PID, "pid", BSM_FIXED, 4) \
    X(C_ASID, "asid", BSM_FIXED, 4) \
    X(C_TERMINAL_PORT, "terminal_port", BSM_FIXED, 8) \
    X(C_TERMINAL_HOST, "terminal_host", BSM_STRING, 0) \
    X(C_P_AUID, "process_auid", BSM_FIXED, 4) \
    X(C_P_EUID, "process_euid", BSM_FIXED, 4) \
    X(C_P_EGID, "process_egid", BSM_FIXED, 4) \
    X(C_P_RUID, "process_ruid", BSM_FIXED, 4) \
    X(C_P_RGID, "process_rgid", BSM_FIXED, 4) \
    X(C_P_PID, "process_pid", BSM_FIXED, 4) \
    X(C_P_ASID, "process_asid", BSM_FIXED, 4) \
    X(C_P_TERMINAL_PORT, "process_terminal_port", BSM_FIXED, 8) \
    X(C_P_TERMINAL_HOST, "process_terminal_host", BSM_STRING, 0) \
    X(C_RETURN_ERRNO, "return_errno", BSM_FIXED, 1) \
    X(C_RETURN_VALUE, "return_value", BSM_FIXED, 8) \
    X(C_SUCCESS, "success", BSM_BOOL, 1) \
    X(C_PATHS, "paths", BSM_LIST, 0) \
    X(C_ARGS, "args", BSM_ARGS, 0) \
    X(C_EXEC_ARGV, "exec_argv", BSM_LIST, 0) \
    X(C_EXEC_ARGS_COUNT, "exec_args_count", BSM_FIXED, 4) \
    X(C_EXEC_ENV, "exec_env", BSM_LIST, 0) \
    X(C_EXIT_STATUS, "exit_status", BSM_FIXED, 4) \
    X(C_EXIT_VALUE, "exit_value", BSM_FIXED, 4) \
    X(C_TEXT, "text", BSM_LIST, 0) \
    X(C_ATTR_MODE, "attr_mode", BSM_FIXED, 4) \
    X(C_ATTR_UID, "attr_uid", BSM_FIXED, 4) \
    X(C_ATTR_GID, "attr_gid", BSM_FIXED, 4) \
    X(C_ATTR_FSID, "attr_fsid", BSM_FIXED, 4) \
    X(C_ATTR_NODEID, "attr_nodeid", BSM_FIXED, 8) \
    X(C_ATTR_DEV, "attr_dev", BSM_FIXED, 8) \
    X(C_SOCKET_FAMILY, "socket_family", BSM_STRING, 0) \
    X(C_SOCKET_TYPE, "socket_type", BSM_FIXED, 2) \
    X(C_LOCAL_ADDRESS, "local_address", BSM_STRING, 0) \
    X(C_LOCAL_PORT, "local_port", BSM_FIXED, 2) \
    X(C_REMOTE_ADDRESS, "remote_address", BSM_STRING, 0) \
    X(C_REMOTE_PORT, "remote_port", BSM_FIXED, 2) \
    X(C_SOCKET_PATH, "socket_path", BSM_STRING, 0) \
    X(C_IP_ADDRESS, "ip_address", BSM_STRING, 0) \
    X(C_IDENTITY_SIGNER_TYPE, "identity_signer_type", BSM_FIXED, 4) \
    X(C_SIGNING_ID, "signing_id", BSM_STRING, 0) \
    X(C_SIGNING_ID_TRUNCATED, "signing_id_truncated", BSM_BOOL, 1) \
    X(C_TEAM_ID, "team_id", BSM_STRING, 0) \
    X(C_TEAM_ID_TRUNCATED, "team_id_truncated", BSM_BOOL, 1) \
    X(C_CDHASH, "cdhash", BSM_STRING, 0) \
    X(C_EXEC_CDHASH, "exec_cdhash", BSM_STRING, 0) \
    X(C_ZONENAME, "zonename", BSM_STRING, 0) \
    X(C_SEQUENCE, "sequence", BSM_FIXED, 4) \
    X(C_IPC_TYPE, "ipc_type", BSM_FIXED, 1) \
    X(C_IPC_ID, "ipc_id", BSM_FIXED, 4) \
    X(C_TOKEN_COUNT, "token_count", BSM_FIXED, 2) \
    X(C_DAMAGE, "damage", BSM_STRING, 0)

enum {
#define ENUM(ci, name, kind, width) ci,
    COLUMNS(ENUM)
#undef ENUM
    NCOLS
};

/* rows staged per block (a multiple of 8: every block starts on a byte of the bitmaps) */
#define BLOCK 256

/* the recent long strings of one column's current data block, by hash: the low half of
 * the hash and where the string starts in the block (any verified bytes will do: the slot
 * needs no length, and an empty slot points at the block's start) */
#ifndef BSM_SEEN_BITS          /* smaller in tests: slots shared by many strings */
#define BSM_SEEN_BITS 12
#endif
#define SEEN_SLOTS ((size_t)1 << BSM_SEEN_BITS)

typedef struct seen_slot {
    uint32_t hash;
    uint32_t offset;
} seen_slot;

typedef struct col_writer {
    bsm_result *res;
    seen_slot *seen[NCOLS];     /* per string or list column, once it has a data block */
    jmp_buf *oom;               /* where an allocation failure jumps */
    uint8_t sel[NCOLS];         /* 1: the column is produced */
    size_t nstage;              /* rows staged */
    size_t first_block;         /* capacity of a column's first data block */
    int64_t nulls[NCOLS];
    uint64_t stage_v[NCOLS * BLOCK];   /* column ci of staged row j: [ci * BLOCK + j] */
    uint8_t stage_ok[NCOLS * BLOCK];
} col_writer;

/* the column table and the selected columns' buffers for up to max_rows rows (more rows are
 * possible but grow every buffer) and about est_bytes of string data per column; columns:
 * NULL (all) or NCOLS flags */
void cols_alloc(col_writer *w, const uint8_t *columns, size_t max_rows, size_t est_bytes);
/* the row being walked is complete: stage its list ends; a full block is copied out */
void cols_finish_row(col_writer *w);
/* copy every staged row out, set the null counts; trim: give back unused capacity */
void cols_finish(col_writer *w, int trim);
/* slow paths of the inline functions below */
uint8_t *cols_grow_data(col_writer *w, bsm_column *col, size_t max);
/* fault in the pages of the last data block (the child views) up to end and some ahead */
void cols_ahead_data(bsm_column *col, size_t end);
void cols_ahead_children(bsm_column *col, size_t end);
void cols_grow_children(col_writer *w, bsm_column *col);
void cols_grow_rows(col_writer *w, size_t need);
/* fault in the whole pages of [p + from, p + to) that are about to be written (Linux) */
void cols_populate(uint8_t *p, size_t from, size_t to);
/* free the writer's own memory (the seen_slot tables); the columns stay */
void cols_release(col_writer *w);
/* free one column's buffers (bsm_free_column; an exported column's release, arrow.c) */
void cols_free(bsm_column *col);
/* forget a column's buffers without freeing them (they moved: an exported column, arrow.c) */
void cols_forget(bsm_column *col);

/* a row begins (at index res->nrows + nstage): make room for it */
static inline void cols_begin_row(col_writer *w)
{
    size_t row = (size_t)w->res->nrows + w->nstage;
    if (row >= w->res->row_cap)
        cols_grow_rows(w, row + 1);
}

/* room for up to max bytes at the end of column ci's current data block */
static inline uint8_t *cols_reserve(col_writer *w, int ci, size_t max)
{
    bsm_column *col = &w->res->cols[ci];
    size_t end;
    if (!col->nblocks || (end = (size_t)col->block_len[col->nblocks - 1] + max) > col->data_cap)
        return cols_grow_data(w, col, max);
    if (end > col->data_populated)
        cols_ahead_data(col, end);
    return col->blocks[col->nblocks - 1] + col->block_len[col->nblocks - 1];
}

#define HASH_ALL 256           /* longer strings are hashed in part (cols_hash_long) */
#define HASH_K0 0xa0761d6478bd642fULL
#define HASH_K1 0xe7037ed1a0b428dbULL

static inline uint64_t cols_word(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

/* a and b folded into one word (the high and low halves of their 128-bit product) */
static inline uint64_t cols_mum(uint64_t a, uint64_t b)
{
#if defined(__SIZEOF_INT128__)
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t ha = a >> 32, la = (uint32_t)a, hb = b >> 32, lb = (uint32_t)b;
    uint64_t rh = ha * hb, rm0 = ha * lb, rm1 = hb * la, rl = la * lb, t = rl + (rm0 << 32);
    uint64_t c = t < rl, lo = t + (rm1 << 32);
    c += lo < t;
    return lo ^ (rh + (rm0 >> 32) + (rm1 >> 32) + c);
#endif
}

/* 16 bytes at p mixed into h */
static inline uint64_t cols_mix16(uint64_t h, const uint8_t *p)
{
    return cols_mum(cols_word(p) ^ HASH_K0, cols_word(p + 8) ^ h);
}

uint64_t cols_hash_long(const uint8_t *s, size_t len);

/* a hash of the 12 < len bytes at s (and no others): all of them, 16 at a time, the last 16
 * (or the first and last 8) overlapping; for a long string its length, both ends and words
 * spread over the middle */
static inline uint64_t cols_hash(const uint8_t *s, size_t len)
{
    uint64_t h = (uint64_t)len ^ HASH_K1;
    size_t i;
    if (len > HASH_ALL)
        return cols_hash_long(s, len);
    if (len < 16)
        h = cols_mum(cols_word(s) ^ HASH_K0, cols_word(s + len - 8) ^ h);
    else {
        for (i = 0; i + 16 < len; i += 16)
            h = cols_mix16(h, s + i);
        h = cols_mix16(h, s + len - 16);
    }
    return cols_mum(h ^ HASH_K1, (uint64_t)len ^ HASH_K0);
}

/* where the len bytes just written at the end of column ci's last block (at offset) are kept:
 * at an earlier copy in that block, or where they are (the block then grows by len) */
static inline int32_t cols_place(col_writer *w, int ci, bsm_column *col, const uint8_t *s,
                                 size_t len, int32_t offset)
{
    uint64_t h = cols_hash(s, len);
    seen_slot *slot = &w->seen[ci][h >> (64 - BSM_SEEN_BITS)];
    if (slot->hash == (uint32_t)h && slot->offset + len <= (size_t)offset &&
        !memcmp(col->blocks[col->nblocks - 1] + slot->offset, s, len))
        return (int32_t)slot->offset;
    slot->hash = (uint32_t)h;
    slot->offset = (uint32_t)offset;
    col->block_len[col->nblocks - 1] += (int64_t)len;
    return offset;
}

/* the view of the len bytes at s (the end of column ci's last block, see cols_reserve);
 * longer than 12 bytes, they stay there unless the block holds them already */
static inline void cols_view(col_writer *w, int ci, bsm_column *col, uint8_t *v,
                             const uint8_t *s, size_t len)
{
    int32_t n = (int32_t)len;
    if (len <= 12) {
        memset(v, 0, 16);
        memcpy(v, &n, 4);
        memcpy(v + 4, s, len);
    } else {
        int32_t index = col->nblocks - 1;
        int32_t offset;
        if (len > (size_t)INT32_MAX)
            longjmp(*w->oom, 1);
        offset = cols_place(w, ci, col, s, len, (int32_t)col->block_len[index]);
        memcpy(v, &n, 4);
        memcpy(v + 4, s, 4);
        memcpy(v + 8, &index, 4);
        memcpy(v + 12, &offset, 4);
    }
}

/* the len bytes just written at s = cols_reserve(w, ci, ...) become the value of the row being
 * walked (a string column) */
static inline void cols_string(col_writer *w, int ci, uint8_t *s, size_t len)
{
    bsm_column *col = &w->res->cols[ci];
    size_t row = (size_t)w->res->nrows + w->nstage;
    cols_view(w, ci, col, col->values + row * 16, s, len);
}

/* ... or a new child of list column ci */
static inline void cols_child(col_writer *w, int ci, uint8_t *s, size_t len)
{
    bsm_column *col = &w->res->cols[ci];
    if ((size_t)col->nchild == col->child_cap)
        cols_grow_children(w, col);
    if (((size_t)col->nchild + 1) * 16 > col->child_populated)
        cols_ahead_children(col, ((size_t)col->nchild + 1) * 16);
    cols_view(w, ci, col, col->child_views + (size_t)col->nchild * 16, s, len);
    col->nchild++;
}

/* a new arg: its number and value (its text follows with cols_child on C_ARGS) */
static inline void cols_arg(col_writer *w, uint8_t number, uint64_t value)
{
    bsm_column *col = &w->res->cols[C_ARGS];
    if ((size_t)col->nchild == col->child_cap)
        cols_grow_children(w, col);
    col->arg_number[col->nchild] = number;
    col->arg_value[col->nchild] = value;
}

#endif /* KNOX_COLUMNS_H */
