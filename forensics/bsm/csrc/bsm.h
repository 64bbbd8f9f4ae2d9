/*
 * bsm.h - the C decoder core of knox-report.
 *
 * Plain C99, no Python headers. bsm_decode() frames a BSM trail held in memory, walks the
 * tokens of every record and fills one row per record into column buffers, exactly as the
 * pure-Python reference (forensics/bsm/decode.py) does. forensics/bsm/cdecode.py hands the
 * buffers to Polars through the Arrow C data interface (arrow.c): one frame (schema.CORE).
 *
 * Column buffers, in the layout Polars keeps (written by columns.c; an unselected column has
 * selected == 0 and no buffers):
 *   valid       nrows bits, least significant first (every kind)
 *   BSM_FIXED   values: nrows * width bytes (native-endian integers, 0 where null)
 *   BSM_BOOL    values: nrows bits
 *   BSM_STRING  values: nrows 16-byte Arrow string views into blocks[0:nblocks] (block_len
 *               bytes each, at most 2^31 - 1 unless one string is longer)
 *   BSM_LIST    offsets: nrows+1 int64 into the children; child_views: nchild views into the
 *               blocks (list validity; child strings are all valid)
 *   BSM_ARGS    as BSM_LIST (child = the text field), plus arg_number (nchild bytes) and
 *               arg_value (nchild uint64)
 * null_count counts the rows whose valid bit is 0.
 */
#ifndef KNOX_BSM_H
#define KNOX_BSM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BSM_FIXED 0
#define BSM_BOOL 1
#define BSM_STRING 2
#define BSM_LIST 3
#define BSM_ARGS 4

/* damage reasons: indices into bsm_reason_name(), the words of schema.DAMAGE_REASONS */
#define BSM_R_GARBAGE 0
#define BSM_R_TRUNCATED_RECORD 1
#define BSM_R_BAD_RECORD_SIZE 2
#define BSM_R_BAD_TRAILER 3
#define BSM_R_TRUNCATED_FILE 4
#define BSM_R_UNKNOWN_TOKEN 5
#define BSM_R_BAD_TOKEN 6
#define BSM_R_REPAIRED_SIZE 7
#define BSM_R_BAD_TIME 8
#define BSM_R_AMBIGUOUS_CUT 9
#define BSM_R_TOO_MANY_TOKENS 10
#define BSM_NREASONS 11

typedef struct bsm_column {
    const char *name;
    int kind;
    int width;               /* bytes per value (BSM_FIXED, BSM_BOOL) */
    int selected;            /* 0: not produced (no buffers) */
    int64_t null_count;
    uint8_t *valid;
    uint8_t *values;
    int64_t *offsets;
    int64_t nchild;
    uint8_t *child_views;
    uint8_t *arg_number;
    uint64_t *arg_value;
    int nblocks;
    uint8_t **blocks;
    int64_t *block_len;
    /* capacities (private) */
    size_t data_cap;
    size_t child_cap;
    size_t blocks_cap;
    size_t populated;        /* bytes of values (offsets) faulted in ahead */
    size_t data_populated;   /* of the last data block */
    size_t child_populated;  /* of the child views */
} bsm_column;

typedef struct bsm_options {
    int has_since;
    int has_until;
    int64_t since_ms;         /* half-open window on the header time, epoch ms */
    int64_t until_ms;
    const uint8_t *events;    /* NULL, or a 65536-bit bitmap (8192 bytes) of event numbers */
    const uint8_t *columns;   /* bsm_decode: NULL (every column), or one flag per column */
    int keep_capacity;        /* bsm_decode_range: leave the buffers' spare room (bsm_concat
                               * appends there without copying; bsm_trim gives it back) */
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
    /* bsm_decode_range, bsm_reduce: where framing stopped;
     * bsm_reduce only: the selected spans [span_start, span_end), ascending, contiguous ones
     * joined; the records and file tokens in them; where framing stopped */
    int64_t nspans;
    uint64_t *span_start;
    uint64_t *span_end;
    int64_t selected;
    int64_t selected_file_tokens;
    uint64_t stopped;
    /* capacities (private) */
    size_t row_cap;
    size_t err_cap;
    size_t span_cap;
} bsm_result;

/* What a selection reads of one record (bsm_reduce fills it from the same walk as
 * bsm_decode): the header's event and time, the first subject, process, return and ipc
 * token, and every path token (offsets of their u16 length fields in buf). */
typedef struct bsm_fields {
    uint16_t event;
    int has_time;
    int64_t time;              /* epoch ms */
    int has_subject;
    uint32_t subject[6];       /* auid euid egid ruid rgid pid */
    int has_process;
    uint32_t process[6];
    int has_return;
    int success;               /* the return token's error is 0 */
    int has_ipc;
    uint8_t ipc_type;
    uint32_t ipc_id;
    size_t npaths;
    const size_t *paths;
} bsm_fields;

/* A selector: 1 keeps the record, 0 drops it, -1 is out of memory. */
typedef int (*bsm_selector)(void *arg, const uint8_t *buf, const bsm_fields *fields);

/* Decode buf[0:n]. Returns NULL when out of memory. Free with bsm_free(). */
bsm_result *bsm_decode(const uint8_t *buf, size_t n, const bsm_options *opts);
/* Decode buf[start:n] as framing the whole buffer does from a record or file token boundary
 * at start, stopping at the first such boundary at or after stop (res->stopped). Offsets stay
 * those in buf. */
bsm_result *bsm_decode_range(const uint8_t *buf, size_t n, size_t start, size_t stop,
                             const bsm_options *opts);
/* Append b's rows, errors and counts to a (the results of two consecutive ranges of one buffer),
 * as one result, then trim a: b is freed. -1: out of memory (free both). */
int bsm_concat(bsm_result *a, bsm_result *b);
/* The first step of bsm_concat for columns [from, to) only (the columns are independent: two
 * threads may join disjoint ranges at once); bsm_concat then does the rest. */
int bsm_concat_columns(bsm_result *a, bsm_result *b, int from, int to);
/* Give back every buffer's spare room. */
void bsm_trim(bsm_result *res);
/* The first candidate record or file token start at or after p (decode._resync), or n. */
size_t bsm_resync(const uint8_t *buf, size_t p, size_t n);
void bsm_free(bsm_result *res);
/* Free one column's buffers early (bsm_free frees whatever is left). */
void bsm_free_column(bsm_result *res, int i);

/* Frame buf[start:n] as bsm_decode does (same pre-checks in opts, same errors, same counts)
 * but without columns: each record is walked for `select`, and the spans of the records it
 * keeps (and of bare file tokens when copy_files) are the output. Framing stops at the first
 * record or file token boundary at or after stop (res->stopped). NULL: out of memory. */
bsm_result *bsm_reduce(const uint8_t *buf, size_t n, size_t start, size_t stop,
                       const bsm_options *opts, bsm_selector select, void *select_arg,
                       int copy_files);

int bsm_num_columns(void);
const char *bsm_reason_name(int reason);

/* The lossless text mapping of forensics/text.py: writes at most 3*n bytes to out and returns
 * the number written. */
size_t bsm_text_map(const uint8_t *in, size_t n, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* KNOX_BSM_H */
