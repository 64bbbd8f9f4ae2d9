/*
 * bsm.c - the C decoder core of knox-report. See bsm.h.
 *
 * Mirrors the pure-Python decoder (forensics/bsm/decode.py, with framing, tokenwalk and rows)
 * step for step:
 *   frame()            -> bsm_decode's main loop with record_problem / file_size / resync
 *   walk_record()      -> emit_tokens (the token walk that fills the row) with the exec_args /
 *                         exec_env cut search of tokenwalk._Search (search: every position's
 *                         status once, from the end backwards: linear, no recursion)
 *   _row()             -> the per-token switch in emit_tokens; columns.c writes the rows in
 *                         the layout Polars keeps (columns.h)
 *   text.decode_bytes  -> text_map
 * Token layouts are those of forensics/bsm/tokens.py; a token that does not fit is "bad token",
 * an id the table does not define is "unknown token".
 */
#include "bsm.h"
#include "columns.h"

#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define MIN_RECORD_SIZE 25
#define REPAIR_WINDOW (1u << 20) /* decode.REPAIR_WINDOW */
#define MAX_EXEC_COUNT (1u << 20)
#define BIND_EVENT 34
/* rows.MAX_TIME_MS: 9999-12-31T23:59:59.999Z; a later time (or msec above 999) is "bad time" */
#define MAX_TIME_SEC ((uint64_t)253402300799u)
#define EXEC_CUT_LIMIT ((size_t)16 * 1024) /* tokenwalk.EXEC_CUT_LIMIT */
#define MAX_TOKEN_COUNT 0xFFFF

static const char *const REASONS[BSM_NREASONS] = {
    "garbage",
    "truncated record",
    "bad record size",
    "bad trailer",
    "truncated file token",
    "unknown token",
    "bad token",
    "repaired record size",
    "bad time",
    "ambiguous exec cut",
    "too many tokens",
};

const char *bsm_reason_name(int reason)
{
    return (reason >= 0 && reason < BSM_NREASONS) ? REASONS[reason] : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* token ids */

/* every id of tokens.TOKENS */
static const uint8_t g_known[256] = {
    [0x11] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x21] = 1, [0x22] = 1, [0x23] = 1,
    [0x24] = 1, [0x26] = 1, [0x27] = 1, [0x28] = 1, [0x29] = 1, [0x2A] = 1, [0x2B] = 1,
    [0x2C] = 1, [0x2D] = 1, [0x2E] = 1, [0x2F] = 1, [0x32] = 1, [0x38] = 1, [0x39] = 1,
    [0x3B] = 1, [0x3C] = 1, [0x3D] = 1, [0x3E] = 1, [0x52] = 1, [0x60] = 1, [0x71] = 1,
    [0x72] = 1, [0x73] = 1, [0x74] = 1, [0x75] = 1, [0x77] = 1, [0x79] = 1, [0x7A] = 1,
    [0x7B] = 1, [0x7C] = 1, [0x7D] = 1, [0x7E] = 1, [0x7F] = 1, [0x80] = 1, [0x81] = 1,
    [0x82] = 1, [0x84] = 1, [0x85] = 1, [0xED] = 1, [0xEE] = 1, [0xEF] = 1,
};
/* the whole size (id byte included) of each fixed-size token, 0 for the others: the walk
 * steps over these without token_next's switch (which gives the same sizes) */
static const uint8_t g_fixed[256] = {
    [0x13] = 7, [0x14] = 18, [0x22] = 6, [0x24] = 37, [0x26] = 37, [0x27] = 6, [0x2A] = 5,
    [0x2B] = 21, [0x2C] = 3, [0x2E] = 15, [0x2F] = 5, [0x32] = 29, [0x3E] = 29, [0x52] = 9,
    [0x72] = 10, [0x73] = 33, [0x74] = 26, [0x75] = 41, [0x77] = 41, [0x80] = 9, [0x81] = 21,
};
/* decode.EXEC_FOLLOWERS: the tokens xnu writes after exec strings */
static const uint8_t g_follower[256] = {
    [0x3D] = 1, [0x23] = 1, [0x3E] = 1, [0x73] = 1, [0x21] = 1, [0x24] = 1, [0x75] = 1,
    [0x7A] = 1, [0x7C] = 1, [0x27] = 1, [0x72] = 1,
};
/* tokens.SUBJECT_IDS */
static const uint8_t g_subject[256] = {[0x24] = 1, [0x75] = 1, [0x7A] = 1, [0x7C] = 1};
/* decode.HEADER_IDS */
static const uint8_t g_header[256] = {[0x14] = 1, [0x15] = 1, [0x74] = 1, [0x79] = 1};
/* what _resync looks at: the header ids and the file token */
static const uint8_t g_resync[256] = {[0x11] = 1, [0x14] = 1, [0x15] = 1, [0x74] = 1, [0x79] = 1};

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* ------------------------------------------------------------------------------------------ */
/* text: the lossless mapping of forensics/text.py */

static inline uint8_t *put_escape(uint8_t *o, uint8_t b)
{
    /* U+EF00 + b (b >= 0x80) in UTF-8 */
    o[0] = 0xEE;
    o[1] = (uint8_t)(0xBC | (b >> 6));
    o[2] = (uint8_t)(0x80 | (b & 0x3F));
    return o + 3;
}

/* Length of the valid UTF-8 sequence (as Python's strict codec accepts it) starting at s[i],
 * lead byte >= 0x80; 0 when none starts there. */
static inline size_t utf8_seq(const uint8_t *s, size_t i, size_t n)
{
    uint8_t c = s[i], c1;
    size_t avail = n - i;
    if (c >= 0xC2 && c <= 0xDF)
        return (avail >= 2 && (s[i + 1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        uint8_t lo = 0x80, hi = 0xBF;
        if (avail < 3)
            return 0;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;            /* surrogates are not valid */
        c1 = s[i + 1];
        if (c1 < lo || c1 > hi || (s[i + 2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xEE && c1 >= 0xBE)
            return 0;             /* U+EF80..U+EFFF: escaped byte by byte */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        uint8_t lo = 0x80, hi = 0xBF;
        if (avail < 4)
            return 0;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        c1 = s[i + 1];
        if (c1 < lo || c1 > hi || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

static size_t text_map(const uint8_t *s, size_t n, uint8_t *out)
{
    uint8_t *o = out;
    size_t i = 0;
    while (i < n) {
        /* ASCII run */
        size_t j = i;
        while (j < n && s[j] < 0x80)
            j++;
        if (j > i) {
            memcpy(o, s + i, j - i);
            o += j - i;
            i = j;
            if (i >= n)
                break;
        }
        {
            size_t len = utf8_seq(s, i, n);
            if (len) {
                memcpy(o, s + i, len);
                o += len;
                i += len;
            } else {
                o = put_escape(o, s[i]);
                i++;
            }
        }
    }
    return (size_t)(o - out);
}

size_t bsm_text_map(const uint8_t *in, size_t n, uint8_t *out) { return text_map(in, n, out); }

/* ------------------------------------------------------------------------------------------ */
/* decoder context and growable buffers */

/* Rows are staged column-major, BLOCK at a time (columns.h), then copied out column by column:
 * one output stream at a time instead of ~130 interleaved ones. A row_t points at one staged
 * row. */

typedef struct {
    uint64_t *v;       /* &stage_v[j]: column ci of the row is v[ci * BLOCK] */
    uint8_t *ok;
} row_t;

#define RO(ci) row->ok[(size_t)(ci)*BLOCK]
#define RV(ci) row->v[(size_t)(ci)*BLOCK]

typedef struct {
    const uint8_t *buf;
    size_t n;
    bsm_result *res;
    jmp_buf oom;
    /* the record being walked */
    size_t base;       /* body start */
    size_t end;        /* trailer offset */
    size_t nul_end;    /* one past the record body's last NUL (base: none; NUL_UNKNOWN: not
                        * looked for yet, see body_nul_end) */
    /* the exec strings cut search over [sbase, end] (tokenwalk._Search) */
    int decided;       /* the first exec strings token was met: searched or greedy */
    int searched;
    size_t sbase;
    uint64_t *memo;    /* walk status per position (1 clean, else damage) */
    int64_t *subj;     /* offset of the first subject token of the rest (-1: none) */
    int64_t *cut;      /* per exec strings token: strings kept, -1 the greedy parse */
    uint8_t *guess;    /* per exec strings token: another clean cut leaves another subject */
    size_t memo_cap;
    size_t *nuls;      /* the NULs of [sbase, end), ascending */
    size_t nnul, nul_cap;
    size_t *next_clean;    /* per NUL index: the first clean follower cut at or after it */
    size_t *subject_cuts;  /* per NUL index: clean follower cuts from it on with a subject */
    size_t idx_cap;
    /* bsm_reduce: the selector, its argument, whether bare file tokens are copied, and the
     * path tokens of the record being walked */
    bsm_selector select;
    void *select_arg;
    int copy_files;
    size_t *paths;
    size_t npaths, path_cap;
    col_writer w;                       /* the columns (bsm_decode) */
} ctx_t;

#define NUL_UNKNOWN ((size_t)-1)

/* c->nul_end, looked for the first time a strings token needs it */
static inline size_t body_nul_end(ctx_t *c)
{
    if (c->nul_end == NUL_UNKNOWN) {
        size_t q = c->end;
        while (q > c->base && c->buf[q - 1])
            q--;
        c->nul_end = q;
    }
    return c->nul_end;
}

/* the tokens made of NUL-terminated strings (the only ones that read nul_end) */
static const uint8_t g_strings[256] = {[0x3C] = 1, [0x3D] = 1, [0xEE] = 1, [0xEF] = 1};

static void *grow(ctx_t *c, void *p, size_t *cap, size_t need, size_t elem)
{
    size_t nc;
    void *q;
    if (need <= *cap)
        return p;
    nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > ((size_t)-1) / 4 / elem)
            longjmp(c->oom, 1);
        nc *= 2;
    }
    q = realloc(p, nc * elem);
    if (!q)
        longjmp(c->oom, 1);
    *cap = nc;
    return q;
}

#define STATUS_CLEAN ((uint64_t)1)
#define STATUS_FAIL(pos, reason) \
    (((uint64_t)(pos) << 2) | ((reason) == BSM_R_UNKNOWN_TOKEN ? 2u : 3u))
#define STATUS_POS(st) ((size_t)((st) >> 2))
#define STATUS_REASON(st) (((st)&3u) == 2u ? BSM_R_UNKNOWN_TOKEN : BSM_R_BAD_TOKEN)

/* ------------------------------------------------------------------------------------------ */
/* token layouts (tokens.py). Each returns the position after the token or 0 when it does not
 * fit (positions are > 0 after any token, so 0 is free as the error value). p is the id. */

#define NEED(pos, size) \
    do { \
        if ((size_t)(end - (pos)) < (size_t)(size)) \
            return 0; \
    } while (0)

static inline size_t rd_str(const uint8_t *buf, size_t pos, size_t end)
{
    size_t len;
    NEED(pos, 2);
    len = be16(buf + pos);
    pos += 2;
    NEED(pos, len);
    return pos + len;
}

static inline size_t rd_taddr(const uint8_t *buf, size_t pos, size_t end, int lenient)
{
    uint32_t atype;
    NEED(pos, 4);
    atype = be32(buf + pos);
    pos += 4;
    if (atype == 4 || atype == 16) {
        NEED(pos, atype);
        return pos + atype;
    }
    return lenient ? pos : 0;
}

/* u32 count, then up to count NUL-terminated strings before end; never fails past the count.
 * nul_end: one past the last NUL before end, so a count running past the strings costs nothing */
static inline size_t rd_strings(const uint8_t *buf, size_t pos, size_t end, size_t nul_end,
                                uint64_t *count, size_t *nstr)
{
    uint64_t want, got = 0;
    NEED(pos, 4);
    want = be32(buf + pos);
    pos += 4;
    while (got < want && pos < nul_end) {
        const uint8_t *nul = memchr(buf + pos, 0, nul_end - pos);
        pos = (size_t)(nul - buf) + 1;
        got++;
    }
    if (count)
        *count = want;
    if (nstr)
        *nstr = (size_t)got;
    return pos;
}

static size_t token_next(const uint8_t *buf, size_t p, size_t end, size_t nul_end)
{
    size_t pos = p + 1;
    switch (buf[p]) {
    case 0x11: /* file: sec, msec, name */
        NEED(pos, 8);
        return rd_str(buf, pos + 8, end);
    case 0x13: /* trailer */
        NEED(pos, 6);
        return pos + 6;
    case 0x14: /* header32 */
        NEED(pos, 17);
        return pos + 17;
    case 0x15: /* header32_ex */
        NEED(pos, 9);
        pos = rd_taddr(buf, pos + 9, end, 1);
        if (!pos)
            return 0;
        NEED(pos, 8);
        return pos + 8;
    case 0x21: { /* data */
        size_t unit, count;
        NEED(pos, 3);
        unit = buf[pos + 1];
        count = buf[pos + 2];
        if (unit > 3)
            return 0;
        pos += 3;
        NEED(pos, ((size_t)1 << unit) * count);
        return pos + ((size_t)1 << unit) * count;
    }
    case 0x22: /* ipc */
        NEED(pos, 5);
        return pos + 5;
    case 0x23: /* path */
    case 0x28: /* text */
    case 0x29: /* opaque */
    case 0x60: /* zonename */
        return rd_str(buf, pos, end);
    case 0x24: /* subject32 */
    case 0x26: /* process32 */
        NEED(pos, 36);
        return pos + 36;
    case 0x27: /* return32 */
        NEED(pos, 5);
        return pos + 5;
    case 0x2A: /* in_addr */
    case 0x2F: /* seq */
        NEED(pos, 4);
        return pos + 4;
    case 0x2B: /* ip */
        NEED(pos, 20);
        return pos + 20;
    case 0x2C: /* iport */
        NEED(pos, 2);
        return pos + 2;
    case 0x2D: /* arg32 */
        NEED(pos, 5);
        return rd_str(buf, pos + 5, end);
    case 0x2E: /* socket */
        NEED(pos, 14);
        return pos + 14;
    case 0x32: /* ipc_perm */
        NEED(pos, 28);
        return pos + 28;
    case 0x38: /* privset */
        pos = rd_str(buf, pos, end);
        if (!pos)
            return 0;
        return rd_str(buf, pos, end);
    case 0x39: /* upriv */
        NEED(pos, 1);
        return rd_str(buf, pos + 1, end);
    case 0x3B: { /* newgroups */
        size_t count;
        NEED(pos, 2);
        count = be16(buf + pos);
        pos += 2;
        NEED(pos, 4 * count);
        return pos + 4 * count;
    }
    case 0x3C: /* exec_args */
    case 0x3D: /* exec_env */
    case 0xEE: /* krb5_principal */
    case 0xEF: /* cert_hash */
        return rd_strings(buf, pos, end, nul_end, NULL, NULL);
    case 0x3E: /* attr32 */
        NEED(pos, 28);
        return pos + 28;
    case 0x52: /* exit */
        NEED(pos, 8);
        return pos + 8;
    case 0x71: /* arg64 */
        NEED(pos, 9);
        return rd_str(buf, pos + 9, end);
    case 0x72: /* return64 */
        NEED(pos, 9);
        return pos + 9;
    case 0x73: /* attr64 */
        NEED(pos, 32);
        return pos + 32;
    case 0x74: /* header64 */
        NEED(pos, 25);
        return pos + 25;
    case 0x75: /* subject64 */
    case 0x77: /* process64 */
        NEED(pos, 40);
        return pos + 40;
    case 0x79: /* header64_ex */
        NEED(pos, 9);
        pos = rd_taddr(buf, pos + 9, end, 1);
        if (!pos)
            return 0;
        NEED(pos, 16);
        return pos + 16;
    case 0x7A: /* subject32_ex */
    case 0x7B: /* process32_ex */
        NEED(pos, 32);
        return rd_taddr(buf, pos + 32, end, 0);
    case 0x7C: /* subject64_ex */
    case 0x7D: /* process64_ex */
        NEED(pos, 36);
        return rd_taddr(buf, pos + 36, end, 0);
    case 0x7E: /* in_addr_ex */
        return rd_taddr(buf, pos, end, 0);
    case 0x7F: { /* socket_ex: domain, type, then atype u16, lport, laddr, rport, raddr */
        size_t atype;
        NEED(pos, 4);
        pos += 4;
        NEED(pos, 2);
        atype = be16(buf + pos);
        if (atype != 4 && atype != 16)
            return 0;
        NEED(pos, 6 + 2 * atype);
        return pos + 6 + 2 * atype;
    }
    case 0x80: /* sockinet32 */
        NEED(pos, 8);
        return pos + 8;
    case 0x81: /* sockinet128 */
        NEED(pos, 20);
        return pos + 20;
    case 0x82: { /* sockunix: family, NUL-terminated path */
        const uint8_t *nul;
        NEED(pos, 2);
        pos += 2;
        nul = memchr(buf + pos, 0, end - pos);
        if (!nul)
            return 0;
        return (size_t)(nul - buf) + 1;
    }
    case 0x84: /* arg_uuid */
    case 0x85: /* ret_uuid */
        NEED(pos, 17);
        return rd_str(buf, pos + 17, end);
    case 0xED: /* identity */
        NEED(pos, 4);
        pos = rd_str(buf, pos + 4, end);
        if (!pos)
            return 0;
        NEED(pos, 1);
        pos = rd_str(buf, pos + 1, end);
        if (!pos)
            return 0;
        NEED(pos, 1);
        return rd_str(buf, pos + 1, end);
    default:
        return 0;
    }
}

#undef NEED

/* ------------------------------------------------------------------------------------------ */
/* the exec strings cut search (tokenwalk._Search): the status of every position from the first
 * exec strings token to the trailer, computed once from the end backwards */

static size_t lower_bound(const size_t *a, size_t n, size_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* tokenwalk._strings_end: the position after up to count strings starting at first */
static size_t strings_end(ctx_t *c, size_t first, uint64_t count, size_t *found)
{
    size_t r = lower_bound(c->nuls, c->nnul, first), avail = c->nnul - r;
    size_t f = count < (uint64_t)avail ? (size_t)count : avail;
    *found = f;
    return f ? c->nuls[r + f - 1] + 1 : first;
}

/* the position after the (non exec strings) token at p, or 0: token_next without re-reading
 * NUL-terminated strings */
static size_t search_next(ctx_t *c, size_t p)
{
    const uint8_t *buf = c->buf;
    size_t end = c->end, found, r;
    switch (buf[p]) {
    case 0xEE: /* krb5_principal */
    case 0xEF: /* cert_hash */
        if (end - (p + 1) < 4)
            return 0;
        return strings_end(c, p + 5, be32(buf + p + 1), &found);
    case 0x82: /* sockunix */
        if (end - (p + 1) < 2)
            return 0;
        r = lower_bound(c->nuls, c->nnul, p + 3);
        return r < c->nnul ? c->nuls[r] + 1 : 0;
    default:
        return token_next(buf, p, end, g_strings[buf[p]] ? body_nul_end(c) : end);
    }
}

/* the position after the (non exec strings) token at p, or 0: fixed sizes from g_fixed */
static inline size_t next_token(ctx_t *c, size_t p)
{
    size_t size = g_fixed[c->buf[p]];
    if (size)
        return c->end - p >= size ? p + size : 0;
    if (c->searched)
        return search_next(c, p);
    return token_next(c->buf, p, c->end, g_strings[c->buf[p]] ? body_nul_end(c) : c->end);
}

#define S_I(x) ((x) - c->sbase)

static void take_cut(ctx_t *c, size_t x, int64_t k, size_t y)
{
    c->cut[S_I(x)] = k;
    c->memo[S_I(x)] = c->memo[S_I(y)];
    c->subj[S_I(x)] = c->subj[S_I(y)];
}

/* tokenwalk._Search._first_cut: the first clean cut at x (strings kept, *yp its position), or
 * -1; marks x as a guess when a later clean cut leaves a subject past the chosen one's */
static int64_t first_cut(ctx_t *c, size_t x, size_t found, size_t *yp)
{
    const uint8_t *buf = c->buf;
    size_t first = x + 5, r0, lim, lo, y;
    int64_t hi, k, subject;
    int first_ok;
    if (!found)
        return -1;
    first_ok = g_follower[buf[first]] && c->memo[S_I(first)] == STATUS_CLEAN;
    r0 = lower_bound(c->nuls, c->nnul, first);
    lim = c->end - first > EXEC_CUT_LIMIT ? first + EXEC_CUT_LIMIT : c->end;
    hi = (int64_t)(r0 + found) - 2;
    if ((int64_t)lower_bound(c->nuls, c->nnul, lim) - 1 < hi)
        hi = (int64_t)lower_bound(c->nuls, c->nnul, lim) - 1;
    if (first_ok) {
        k = 0;
        y = first;
    } else if (hi >= (int64_t)r0 && c->next_clean[r0] <= (size_t)hi) {
        size_t j = c->next_clean[r0];
        k = (int64_t)(j - r0 + 1);
        y = c->nuls[j] + 1;
    } else {
        return -1;
    }
    subject = c->subj[S_I(y)];
    lo = r0;
    if (subject >= 0) {
        size_t s = lower_bound(c->nuls, c->nnul, (size_t)subject);
        if (s > lo)
            lo = s;
    }
    if (hi >= (int64_t)lo && c->subject_cuts[lo] > c->subject_cuts[hi + 1])
        c->guess[S_I(x)] = 1;
    *yp = y;
    return k;
}

/* tokenwalk._Search._strings: decide the exec strings token at x */
static void decide_strings(ctx_t *c, size_t x)
{
    const uint8_t *buf = c->buf;
    size_t found, g, y = 0;
    uint64_t count;
    int64_t k;
    if (c->end - x < 5) {
        c->memo[S_I(x)] = STATUS_FAIL(x, BSM_R_BAD_TOKEN);
        return;
    }
    count = be32(buf + x + 1);
    g = strings_end(c, x + 5, count, &found);
    if (!((uint64_t)found < count && count <= MAX_EXEC_COUNT)) {
        if (c->memo[S_I(g)] == STATUS_CLEAN || count > MAX_EXEC_COUNT) {
            take_cut(c, x, -1, g);
            return;
        }
    }
    k = first_cut(c, x, found, &y);
    take_cut(c, x, k, k >= 0 ? y : g);
}

/* tokenwalk._Search._index_cut: the cut at x, just after the NUL with index j */
static void index_cut(ctx_t *c, size_t j, size_t x)
{
    int good = g_follower[c->buf[x]] && c->memo[S_I(x)] == STATUS_CLEAN;
    c->next_clean[j] = good ? j : c->next_clean[j + 1];
    c->subject_cuts[j] = c->subject_cuts[j + 1] + (good && c->subj[S_I(x)] >= 0);
}

static void search_prepare(ctx_t *c, size_t start)
{
    const uint8_t *buf = c->buf;
    size_t len = c->end - start + 1, p = start;
    c->sbase = start;
    c->nnul = 0;
    while (p < c->end) {
        const uint8_t *nul = memchr(buf + p, 0, c->end - p);
        if (!nul)
            break;
        if (c->nnul == c->nul_cap)
            c->nuls = grow(c, c->nuls, &c->nul_cap, c->nnul + 1, sizeof(size_t));
        c->nuls[c->nnul++] = (size_t)(nul - buf);
        p = (size_t)(nul - buf) + 1;
    }
    if (len > c->memo_cap) {
        size_t cap = c->memo_cap ? c->memo_cap : 256;
        while (cap < len)
            cap *= 2;
        free(c->memo);
        free(c->cut);
        free(c->subj);
        free(c->guess);
        c->memo = NULL;
        c->cut = NULL;
        c->subj = NULL;
        c->guess = NULL;
        c->memo_cap = 0;
        c->memo = malloc(cap * sizeof *c->memo);
        c->cut = malloc(cap * sizeof *c->cut);
        c->subj = malloc(cap * sizeof *c->subj);
        c->guess = malloc(cap);
        if (!c->memo || !c->cut || !c->subj || !c->guess)
            longjmp(c->oom, 1);
        c->memo_cap = cap;
    }
    if (c->nnul + 1 > c->idx_cap) {
        size_t cap = c->idx_cap ? c->idx_cap : 256;
        while (cap < c->nnul + 1)
            cap *= 2;
        free(c->next_clean);
        free(c->subject_cuts);
        c->next_clean = NULL;
        c->subject_cuts = NULL;
        c->idx_cap = 0;
        c->next_clean = malloc(cap * sizeof *c->next_clean);
        c->subject_cuts = malloc(cap * sizeof *c->subject_cuts);
        if (!c->next_clean || !c->subject_cuts)
            longjmp(c->oom, 1);
        c->idx_cap = cap;
    }
    memset(c->guess, 0, len);
    memset(c->cut, 0xFF, len * sizeof *c->cut);      /* -1: no decision (not an exec token) */
}

static void search(ctx_t *c, size_t start)
{
    const uint8_t *buf = c->buf;
    size_t end = c->end, x, n;
    int64_t j;
    search_prepare(c, start);
    n = c->nnul;
    c->next_clean[n] = n;
    c->subject_cuts[n] = 0;
    c->memo[S_I(end)] = STATUS_CLEAN;
    c->subj[S_I(end)] = -1;
    j = (int64_t)n - 1;
    if (j >= 0 && c->nuls[j] == end - 1) {   /* the cut after it would be the trailer */
        c->next_clean[j] = n;
        c->subject_cuts[j] = 0;
        j--;
    }
    for (x = end; x-- > start;) {
        uint8_t tid = buf[x];
        size_t i = S_I(x);
        c->subj[i] = -1;
        if (tid == 0x3C || tid == 0x3D) {
            decide_strings(c, x);
        } else if (!g_known[tid]) {
            c->memo[i] = STATUS_FAIL(x, BSM_R_UNKNOWN_TOKEN);
        } else {
            size_t nx = search_next(c, x);
            if (!nx) {
                c->memo[i] = STATUS_FAIL(x, BSM_R_BAD_TOKEN);
            } else {
                c->memo[i] = c->memo[S_I(nx)];
                c->subj[i] = g_subject[tid] ? (int64_t)x : c->subj[S_I(nx)];
            }
        }
        if (j >= 0 && c->nuls[j] + 1 == x) {
            index_cut(c, (size_t)j, x);
            j--;
        }
    }
    c->searched = 1;
}

/* tokenwalk._greedy_walk from the first exec strings token: is the cut search needed? */
static int needs_search(ctx_t *c, size_t p)
{
    const uint8_t *buf = c->buf;
    size_t end = c->end;
    while (p < end) {
        uint8_t tid = buf[p];
        size_t nx;
        if (!g_known[tid])
            return 1;
        if (tid == 0x3C || tid == 0x3D) {
            uint64_t count;
            size_t nstr;
            nx = rd_strings(buf, p + 1, end, body_nul_end(c), &count, &nstr);
            if (!nx || ((uint64_t)nstr < count && count <= MAX_EXEC_COUNT))
                return 1;
        } else {
            nx = token_next(buf, p, end, g_strings[tid] ? body_nul_end(c) : end);
            if (!nx)
                return 1;
        }
        p = nx;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* output */

/* The string s[0:n] as column ci's value in the row being walked; an unselected column is
 * not written. */
static inline void put_raw(ctx_t *c, int ci, const char *s, size_t n)
{
    uint8_t *o;
    if (!c->w.sel[ci])
        return;
    o = cols_reserve(&c->w, ci, n);
    memcpy(o, s, n);
    cols_string(&c->w, ci, o, n);
}

/* the text of s[0:n] as column ci's value */
static inline void put_text(ctx_t *c, int ci, const uint8_t *s, size_t n)
{
    uint8_t *o;
    if (!c->w.sel[ci])
        return;
    o = cols_reserve(&c->w, ci, 3 * n);
    cols_string(&c->w, ci, o, text_map(s, n, o));
}

/* the text of s[0:n] as a new child string of list column ci */
static inline void child_text(ctx_t *c, int ci, const uint8_t *s, size_t n)
{
    uint8_t *o;
    if (!c->w.sel[ci])
        return;
    o = cols_reserve(&c->w, ci, 3 * n);
    cols_child(&c->w, ci, o, text_map(s, n, o));
}

/* a length-prefixed string at pos (u16 length): the bytes, one trailing NUL dropped (_text) */
static inline const uint8_t *lp_text(const uint8_t *buf, size_t pos, size_t *n)
{
    size_t len = be16(buf + pos);
    if (len && buf[pos + 2 + len - 1] == 0)
        len--;
    *n = len;
    return buf + pos + 2;
}

static const char HEX[] = "0123456789abcdef";

static void put_hex(ctx_t *c, int ci, const uint8_t *s, size_t n)
{
    uint8_t *o;
    size_t i;
    if (!c->w.sel[ci])
        return;
    o = cols_reserve(&c->w, ci, 2 * n);
    for (i = 0; i < n; i++) {
        o[2 * i] = (uint8_t)HEX[s[i] >> 4];
        o[2 * i + 1] = (uint8_t)HEX[s[i] & 15];
    }
    cols_string(&c->w, ci, o, 2 * n);
}

static size_t fmt_dec(char *o, unsigned v)
{
    char tmp[12];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        o[i] = tmp[n - 1 - i];
    return n;
}

static size_t fmt_ip4(char *o, const uint8_t *a)
{
    size_t n = 0;
    int i;
    for (i = 0; i < 4; i++) {
        if (i)
            o[n++] = '.';
        n += fmt_dec(o + n, a[i]);
    }
    return n;
}

static size_t fmt_hex16(char *o, unsigned v)
{
    size_t n = 0;
    int shift, started = 0;
    for (shift = 12; shift >= 0; shift -= 4) {
        unsigned d = (v >> shift) & 15;
        if (d || started || shift == 0) {
            o[n++] = HEX[d];
            started = 1;
        }
    }
    return n;
}

/* decode.format_ip6: RFC 5952, ::ffff:a.b.c.d kept dotted */
static size_t fmt_ip6(char *o, const uint8_t *a)
{
    unsigned g[8];
    int i, best = -1, best_len = 1;
    size_t n = 0;
    for (i = 0; i < 8; i++)
        g[i] = ((unsigned)a[2 * i] << 8) | a[2 * i + 1];
    if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xFFFF) {
        memcpy(o, "::ffff:", 7);
        return 7 + fmt_ip4(o + 7, a + 12);
    }
    i = 0;
    while (i < 8) {
        if (g[i] == 0) {
            int j = i;
            while (j < 8 && g[j] == 0)
                j++;
            if (j - i > best_len) {
                best = i;
                best_len = j - i;
            }
            i = j;
        } else {
            i++;
        }
    }
    if (best < 0) {
        for (i = 0; i < 8; i++) {
            if (i)
                o[n++] = ':';
            n += fmt_hex16(o + n, g[i]);
        }
        return n;
    }
    for (i = 0; i < best; i++) {
        if (i)
            o[n++] = ':';
        n += fmt_hex16(o + n, g[i]);
    }
    o[n++] = ':';
    o[n++] = ':';
    for (i = best + best_len; i < 8; i++) {
        if (i > best + best_len)
            o[n++] = ':';
        n += fmt_hex16(o + n, g[i]);
    }
    return n;
}

static void put_ip4(ctx_t *c, int ci, const uint8_t *a)
{
    char tmp[16];
    put_raw(c, ci, tmp, fmt_ip4(tmp, a));
}

/* decode._addr: type 4 or 16; other types leave the column null. Returns 1 when written. */
static int put_addr(ctx_t *c, int ci, uint32_t atype, const uint8_t *a)
{
    char tmp[48];
    if (atype == 4)
        put_raw(c, ci, tmp, fmt_ip4(tmp, a));
    else if (atype == 16)
        put_raw(c, ci, tmp, fmt_ip6(tmp, a));
    else
        return 0;
    return 1;
}

static void add_error(ctx_t *c, size_t off, size_t len, int reason)
{
    bsm_result *res = c->res;
    size_t i = (size_t)res->nerrors;
    if (i == res->err_cap) {
        size_t cap = res->err_cap ? res->err_cap * 2 : 64;
        void *p;
        p = realloc(res->err_offset, cap * sizeof(uint64_t));
        if (!p)
            longjmp(c->oom, 1);
        res->err_offset = p;
        p = realloc(res->err_length, cap * sizeof(uint64_t));
        if (!p)
            longjmp(c->oom, 1);
        res->err_length = p;
        p = realloc(res->err_reason, cap);
        if (!p)
            longjmp(c->oom, 1);
        res->err_reason = p;
        res->err_cap = cap;
    }
    res->err_offset[i] = off;
    res->err_length[i] = len;
    res->err_reason[i] = (uint8_t)reason;
    res->nerrors++;
}

/* ------------------------------------------------------------------------------------------ */
/* one row per record */

#define SET(ci, val) \
    do { \
        RV(ci) = (uint64_t)(val); \
        RO(ci) = 1; \
    } while (0)

static void put_exec_strings(ctx_t *c, int ci, size_t pos, size_t k)
{
    const uint8_t *buf = c->buf;
    size_t i;
    if (!c->w.sel[ci])
        return;
    for (i = 0; i < k; i++) {
        const uint8_t *nul = memchr(buf + pos, 0, c->end - pos);
        size_t len = (size_t)(nul - (buf + pos));
        child_text(c, ci, buf + pos, len);
        pos += len + 1;
    }
}

/* the subject/process fields: ids at p+1, then the port (4 or 8 bytes), then the address */
static void put_ids(row_t *row, int first, const uint8_t *t, int wide)
{
    int i;
    for (i = 0; i < 7; i++) {
        RV(first + i) = be32(t + 1 + 4 * i);
        RO(first + i) = 1;
    }
    RV(first + 7) = wide ? be64(t + 29) : be32(t + 29);
    RO(first + 7) = 1;
}

static void put_ids_host(ctx_t *c, row_t *row, int first, const uint8_t *t, uint8_t tid)
{
    int wide = (tid == 0x75 || tid == 0x77 || tid == 0x7C || tid == 0x7D);
    int ex = (tid == 0x7A || tid == 0x7B || tid == 0x7C || tid == 0x7D);
    const uint8_t *a = t + (wide ? 37 : 33);
    put_ids(row, first, t, wide);
    if (ex)
        RO(first + 8) = (uint8_t)put_addr(c, first + 8, be32(a), a + 4);
    else {
        put_ip4(c, first + 8, a);
        RO(first + 8) = 1;
    }
}

/* The exec strings token at p on the walk: its count, the strings kept and the position after
 * it (0: it does not fit). Decides at the first one whether the cut search is needed. */
static size_t walk_strings(ctx_t *c, size_t p, uint64_t *count, size_t *kept, size_t *guessed)
{
    const uint8_t *buf = c->buf;
    size_t found, g;
    int64_t k;
    if (!c->decided) {
        c->decided = 1;
        if (needs_search(c, p))
            search(c, p);
    }
    if (!c->searched)
        return rd_strings(buf, p + 1, c->end, body_nul_end(c), count, kept);
    if (c->end - p < 5)
        return 0;
    *count = be32(buf + p + 1);
    g = strings_end(c, p + 5, *count, &found);
    k = c->cut[S_I(p)];
    if (c->guess[S_I(p)] && *guessed == (size_t)-1)
        *guessed = p;
    if (k < 0) {
        *kept = found;
        return g;
    }
    *kept = (size_t)k;
    return k ? c->nuls[lower_bound(c->nuls, c->nnul, p + 5) + (size_t)k - 1] + 1 : p + 5;
}

/* Walk the record body, filling the row (tokenwalk.walk_record + rows.record_row). Returns the
 * token count (header and trailer included), the damage status (0: none) and the offset of an
 * exec strings token whose cut was a guess ((size_t)-1: none). */
static size_t emit_tokens(ctx_t *c, row_t *row, uint16_t event, uint64_t *damage,
                          size_t *guessed)
{
    const uint8_t *buf = c->buf;
    size_t end = c->end, p = c->base, ntok = 2;
    *damage = 0;
    *guessed = (size_t)-1;
    while (p < end) {
        uint8_t tid = buf[p];
        const uint8_t *t = buf + p;
        size_t nx;
        if (!g_known[tid]) {
            *damage = STATUS_FAIL(p, BSM_R_UNKNOWN_TOKEN);
            break;
        }
        if (tid == 0x3C || tid == 0x3D) {
            uint64_t count;
            size_t nstr;
            int ci = tid == 0x3C ? C_EXEC_ARGV : C_EXEC_ENV;
            nx = walk_strings(c, p, &count, &nstr, guessed);
            if (!nx) {
                *damage = STATUS_FAIL(p, BSM_R_BAD_TOKEN);
                break;
            }
            if (!RO(ci)) {
                RO(ci) = 1;
                put_exec_strings(c, ci, p + 5, nstr);
                if (tid == 0x3C)
                    SET(C_EXEC_ARGS_COUNT, count);
            }
            ntok++;
            p = nx;
            continue;
        }
        nx = next_token(c, p);
        if (!nx) {
            *damage = STATUS_FAIL(p, BSM_R_BAD_TOKEN);
            break;
        }
        ntok++;
        switch (tid) {
        case 0x23: { /* path */
            size_t n;
            const uint8_t *s = lp_text(buf, p + 1, &n);
            child_text(c, C_PATHS, s, n);
            break;
        }
        case 0x2D:   /* arg32 */
        case 0x71: { /* arg64 */
            size_t n;
            const uint8_t *s;
            if (!c->w.sel[C_ARGS])
                break;
            if (tid == 0x2D) {
                cols_arg(&c->w, t[1], be32(t + 2));
                s = lp_text(buf, p + 6, &n);
            } else {
                cols_arg(&c->w, t[1], be64(t + 2));
                s = lp_text(buf, p + 10, &n);
            }
            child_text(c, C_ARGS, s, n);
            break;
        }
        case 0x24: case 0x75: case 0x7A: case 0x7C: /* subjects */
            if (!RO(C_SUBJECT_TOKEN)) {
                SET(C_SUBJECT_TOKEN, tid);
                put_ids_host(c, row, C_AUID, t, tid);
            }
            break;
        case 0x26: case 0x77: case 0x7B: case 0x7D: /* processes */
            if (!RO(C_P_PID))
                put_ids_host(c, row, C_P_AUID, t, tid);
            break;
        case 0x27:   /* return32 */
        case 0x72: { /* return64 */
            if (!RO(C_SUCCESS)) {
                int64_t v = tid == 0x27 ? (int64_t)(int32_t)be32(t + 2) : (int64_t)be64(t + 2);
                SET(C_RETURN_ERRNO, t[1]);
                SET(C_RETURN_VALUE, v);
                SET(C_SUCCESS, t[1] == 0);
            }
            break;
        }
        case 0x28: { /* text */
            size_t n;
            const uint8_t *s = lp_text(buf, p + 1, &n);
            child_text(c, C_TEXT, s, n);
            break;
        }
        case 0x52: /* exit */
            if (!RO(C_EXIT_STATUS)) {
                SET(C_EXIT_STATUS, be32(t + 1));
                SET(C_EXIT_VALUE, be32(t + 5));
            }
            break;
        case 0x3E:   /* attr32 */
        case 0x73: { /* attr64 */
            if (!RO(C_ATTR_MODE)) {
                SET(C_ATTR_MODE, be32(t + 1));
                SET(C_ATTR_UID, be32(t + 5));
                SET(C_ATTR_GID, be32(t + 9));
                SET(C_ATTR_FSID, be32(t + 13));
                SET(C_ATTR_NODEID, be64(t + 17));
                SET(C_ATTR_DEV, tid == 0x3E ? (uint64_t)be32(t + 25) : be64(t + 25));
            }
            break;
        }
        case 0x80: case 0x81: case 0x82: case 0x7F: case 0x2E: /* sockets */
            if (RO(C_SOCKET_FAMILY))
                break;
            RO(C_SOCKET_FAMILY) = 1;
            if (tid == 0x82) {
                put_raw(c, C_SOCKET_FAMILY, "unix", 4);
                put_text(c, C_SOCKET_PATH, t + 3, nx - (p + 3) - 1);
                RO(C_SOCKET_PATH) = 1;
            } else if (tid == 0x7F) {
                uint16_t domain = be16(t + 1);
                uint16_t atype = be16(t + 5);
                const uint8_t *laddr = t + 9, *raddr = t + 11 + atype;
                if (domain == 2)
                    put_raw(c, C_SOCKET_FAMILY, "inet", 4);
                else if (domain == 26)
                    put_raw(c, C_SOCKET_FAMILY, "inet6", 5);
                else {
                    char tmp[8];
                    put_raw(c, C_SOCKET_FAMILY, tmp, fmt_dec(tmp, domain));
                }
                SET(C_SOCKET_TYPE, be16(t + 3));
                RO(C_LOCAL_ADDRESS) = (uint8_t)put_addr(c, C_LOCAL_ADDRESS, atype, laddr);
                SET(C_LOCAL_PORT, be16(t + 7));
                RO(C_REMOTE_ADDRESS) = (uint8_t)put_addr(c, C_REMOTE_ADDRESS, atype, raddr);
                SET(C_REMOTE_PORT, be16(t + 9 + atype));
            } else if (tid == 0x2E) {
                put_raw(c, C_SOCKET_FAMILY, "inet", 4);
                SET(C_SOCKET_TYPE, be16(t + 1));
                SET(C_LOCAL_PORT, be16(t + 3));
                put_ip4(c, C_LOCAL_ADDRESS, t + 5);
                RO(C_LOCAL_ADDRESS) = 1;
                SET(C_REMOTE_PORT, be16(t + 9));
                put_ip4(c, C_REMOTE_ADDRESS, t + 11);
                RO(C_REMOTE_ADDRESS) = 1;
            } else {
                int addr_col = event == BIND_EVENT ? C_LOCAL_ADDRESS : C_REMOTE_ADDRESS;
                int port_col = event == BIND_EVENT ? C_LOCAL_PORT : C_REMOTE_PORT;
                if (tid == 0x80) {
                    put_raw(c, C_SOCKET_FAMILY, "inet", 4);
                    put_ip4(c, addr_col, t + 5);
                } else {
                    char tmp[48];
                    put_raw(c, C_SOCKET_FAMILY, "inet6", 5);
                    put_raw(c, addr_col, tmp, fmt_ip6(tmp, t + 5));
                }
                RO(addr_col) = 1;
                SET(port_col, be16(t + 3));
            }
            break;
        case 0x2A: /* in_addr */
            if (!RO(C_IP_ADDRESS)) {
                put_ip4(c, C_IP_ADDRESS, t + 1);
                RO(C_IP_ADDRESS) = 1;
            }
            break;
        case 0x7E: /* in_addr_ex */
            if (!RO(C_IP_ADDRESS))
                RO(C_IP_ADDRESS) = (uint8_t)put_addr(c, C_IP_ADDRESS, be32(t + 1), t + 5);
            break;
        case 0xED: /* identity */
            if (!RO(C_IDENTITY_SIGNER_TYPE)) {
                size_t pos = p + 5, n, len;
                const uint8_t *s;
                SET(C_IDENTITY_SIGNER_TYPE, be32(t + 1));
                s = lp_text(buf, pos, &n);
                put_text(c, C_SIGNING_ID, s, n);
                RO(C_SIGNING_ID) = 1;
                pos += 2 + be16(buf + pos);
                SET(C_SIGNING_ID_TRUNCATED, buf[pos] != 0);
                pos += 1;
                s = lp_text(buf, pos, &n);
                put_text(c, C_TEAM_ID, s, n);
                RO(C_TEAM_ID) = 1;
                pos += 2 + be16(buf + pos);
                SET(C_TEAM_ID_TRUNCATED, buf[pos] != 0);
                pos += 1;
                len = be16(buf + pos);
                put_hex(c, C_CDHASH, buf + pos + 2, len);
                RO(C_CDHASH) = 1;
            }
            break;
        case 0x21: /* data: a 20-byte cdhash */
            if (t[2] == 0 && t[3] == 20 && !RO(C_EXEC_CDHASH)) {
                put_hex(c, C_EXEC_CDHASH, t + 4, 20);
                RO(C_EXEC_CDHASH) = 1;
            }
            break;
        case 0x60: /* zonename */
            if (!RO(C_ZONENAME)) {
                size_t n;
                const uint8_t *s = lp_text(buf, p + 1, &n);
                put_text(c, C_ZONENAME, s, n);
                RO(C_ZONENAME) = 1;
            }
            break;
        case 0x2F: /* seq */
            if (!RO(C_SEQUENCE))
                SET(C_SEQUENCE, be32(t + 1));
            break;
        case 0x22: /* ipc */
            if (!RO(C_IPC_TYPE)) {
                SET(C_IPC_TYPE, t[1]);
                SET(C_IPC_ID, be32(t + 2));
            }
            break;
        default:
            break;
        }
        p = nx;
    }
    return ntok;
}

/* the header token of the record at p (_parse_header); 0 (and a "bad token" error) when it
 * does not fit */
typedef struct {
    size_t body, end;          /* body start, trailer offset */
    uint16_t event;
    int has_time;
    int64_t t;
    uint32_t atype;
    const uint8_t *host;
} header_t;

static int read_header(ctx_t *c, size_t p, size_t size, header_t *h)
{
    const uint8_t *buf = c->buf;
    uint8_t hid = buf[p];
    uint64_t sec, msec;
    h->end = p + size - 7;
    h->atype = 0;
    h->host = NULL;
    switch (hid) {
    case 0x14:
        h->body = p + 18;
        sec = be32(buf + p + 10);
        msec = be32(buf + p + 14);
        break;
    case 0x74:
        if (h->end - (p + 1) < 25)
            goto bad;
        h->body = p + 26;
        sec = be64(buf + p + 10);
        msec = be64(buf + p + 18);
        break;
    default: { /* 0x15, 0x79: atype then 4/16 address bytes (other types: none) */
        size_t q, tail = hid == 0x15 ? 8 : 16;
        if (h->end - (p + 1) < 13)
            goto bad;
        h->atype = be32(buf + p + 10);
        q = p + 14;
        if (h->atype == 4 || h->atype == 16) {
            if (h->end - q < h->atype)
                goto bad;
            h->host = buf + q;
            q += h->atype;
        }
        if (h->end - q < tail)
            goto bad;
        if (hid == 0x15) {
            sec = be32(buf + q);
            msec = be32(buf + q + 4);
        } else {
            sec = be64(buf + q);
            msec = be64(buf + q + 8);
        }
        h->body = q + tail;
        break;
    }
    }
    h->event = be16(buf + p + 6);
    h->has_time = sec <= MAX_TIME_SEC && msec <= 999;
    h->t = h->has_time ? (int64_t)(sec * 1000 + msec) : 0;
    return 1;
bad:
    add_error(c, p, size, BSM_R_BAD_TOKEN);
    return 0;
}

/* the decoder's pre-checks at the header: the event set and the time window */
static int header_wanted(const bsm_options *opts, const header_t *h)
{
    if (opts && opts->events && !(opts->events[h->event >> 3] & (1u << (h->event & 7))))
        return 0;
    if (opts && (opts->has_since || opts->has_until)) {
        if (!h->has_time || (opts->has_since && h->t < opts->since_ms) ||
            (opts->has_until && h->t >= opts->until_ms))
            return 0;
    }
    return 1;
}

/* set up the walk of the record body [body, end) */
static void walk_begin(ctx_t *c, const header_t *h)
{
    c->base = h->body;
    c->end = h->end;
    c->decided = c->searched = 0;
    c->nul_end = NUL_UNKNOWN;
}

/* decode._flags: the errors of a walked record, in this order; returns the damage column's
 * reason (-1: none): the first of the walk's damage, an ambiguous cut, a bad time, too many
 * tokens and a repaired size */
static int record_damage(ctx_t *c, size_t p, size_t size, const header_t *h, int repaired,
                         size_t ntok, uint64_t damage, size_t guessed)
{
    int reason = repaired ? BSM_R_REPAIRED_SIZE : -1;
    if (ntok > MAX_TOKEN_COUNT)
        reason = BSM_R_TOO_MANY_TOKENS;
    if (!h->has_time) {
        add_error(c, p, size, BSM_R_BAD_TIME);
        reason = BSM_R_BAD_TIME;
    }
    if (guessed != (size_t)-1) {
        add_error(c, guessed, h->end - guessed, BSM_R_AMBIGUOUS_CUT);
        reason = BSM_R_AMBIGUOUS_CUT;
    }
    if (damage) {
        size_t off = STATUS_POS(damage);
        reason = STATUS_REASON(damage);
        add_error(c, off, h->end - off, reason);
    }
    if (ntok > MAX_TOKEN_COUNT)
        add_error(c, p, size, BSM_R_TOO_MANY_TOKENS);
    return reason;
}

static void do_record(ctx_t *c, const bsm_options *opts, size_t p, size_t size, int repaired)
{
    const uint8_t *buf = c->buf;
    header_t h;
    int reason;
    row_t rw, *row = &rw;
    size_t ntok, guessed;
    uint64_t damage;

    c->res->records_seen++;
    if (!read_header(c, p, size, &h) || !header_wanted(opts, &h))
        return;

    cols_begin_row(&c->w);
    row->v = c->w.stage_v + c->w.nstage;
    row->ok = c->w.stage_ok + c->w.nstage;
    RV(C_OFFSET) = p;
    RV(C_LENGTH) = size;
    RV(C_EVENT) = h.event;
    RV(C_MODIFIER) = be16(buf + p + 8);
    RV(C_VERSION) = buf[p + 5];
    RV(C_HEADER_TOKEN) = buf[p];
    RO(C_OFFSET) = RO(C_LENGTH) = RO(C_EVENT) = RO(C_MODIFIER) = 1;
    RO(C_VERSION) = RO(C_HEADER_TOKEN) = 1;
    if (h.has_time) {
        RV(C_TIME) = (uint64_t)h.t;
        RO(C_TIME) = 1;
    }
    if (h.host)
        RO(C_HOST) = (uint8_t)put_addr(c, C_HOST, h.atype, h.host);
    /* the lists are never null, except exec_argv / exec_env */
    RO(C_PATHS) = RO(C_ARGS) = RO(C_TEXT) = 1;

    walk_begin(c, &h);
    ntok = emit_tokens(c, row, h.event, &damage, &guessed);
    RV(C_TOKEN_COUNT) = ntok > MAX_TOKEN_COUNT ? MAX_TOKEN_COUNT : ntok;
    RO(C_TOKEN_COUNT) = 1;
    reason = record_damage(c, p, size, &h, repaired, ntok, damage, guessed);
    if (reason >= 0) {
        put_raw(c, C_DAMAGE, REASONS[reason], strlen(REASONS[reason]));
        RO(C_DAMAGE) = 1;
    }
    cols_finish_row(&c->w);
}

/* ------------------------------------------------------------------------------------------ */
/* bsm_reduce: the selection evaluated in the walk, the selected byte spans as output */

/* append [off, off+len) to the spans, joined to the last one when contiguous */
static void add_span(ctx_t *c, size_t off, size_t len, int file_token)
{
    bsm_result *res = c->res;
    size_t i = (size_t)res->nspans;
    if (file_token)
        res->selected_file_tokens++;
    else
        res->selected++;
    if (i && res->span_end[i - 1] == off) {
        res->span_end[i - 1] = off + len;
        return;
    }
    if (i == res->span_cap) {
        size_t cap = res->span_cap ? res->span_cap * 2 : 256;
        void *q = realloc(res->span_start, cap * sizeof(uint64_t));
        if (!q)
            longjmp(c->oom, 1);
        res->span_start = q;
        q = realloc(res->span_end, cap * sizeof(uint64_t));
        if (!q)
            longjmp(c->oom, 1);
        res->span_end = q;
        res->span_cap = cap;
    }
    res->span_start[i] = off;
    res->span_end[i] = off + len;
    res->nspans++;
}

/* the first subject or process token's ids: auid euid egid ruid rgid pid */
static void take_ids(uint32_t *ids, const uint8_t *t)
{
    int i;
    for (i = 0; i < 6; i++)
        ids[i] = be32(t + 1 + 4 * i);
}

/* emit_tokens for a selection: the same walk (and damage), keeping only what the selection
 * reads (the first subject, process, return and ipc tokens, every path token) */
static size_t scan_tokens(ctx_t *c, bsm_fields *f, uint64_t *damage, size_t *guessed)
{
    const uint8_t *buf = c->buf;
    size_t end = c->end, p = c->base, ntok = 2;
    *damage = 0;
    *guessed = (size_t)-1;
    c->npaths = 0;
    while (p < end) {
        uint8_t tid = buf[p];
        const uint8_t *t = buf + p;
        size_t nx;
        if (!g_known[tid]) {
            *damage = STATUS_FAIL(p, BSM_R_UNKNOWN_TOKEN);
            break;
        }
        if (tid == 0x3C || tid == 0x3D) {
            uint64_t count;
            size_t nstr;
            nx = walk_strings(c, p, &count, &nstr, guessed);
            if (!nx) {
                *damage = STATUS_FAIL(p, BSM_R_BAD_TOKEN);
                break;
            }
            ntok++;
            p = nx;
            continue;
        }
        nx = next_token(c, p);
        if (!nx) {
            *damage = STATUS_FAIL(p, BSM_R_BAD_TOKEN);
            break;
        }
        ntok++;
        switch (tid) {
        case 0x23: /* path */
            if (c->npaths == c->path_cap)
                c->paths = grow(c, c->paths, &c->path_cap, c->npaths + 1, sizeof(size_t));
            c->paths[c->npaths++] = p + 1;
            break;
        case 0x24: case 0x75: case 0x7A: case 0x7C: /* subjects */
            if (!f->has_subject) {
                f->has_subject = 1;
                take_ids(f->subject, t);
            }
            break;
        case 0x26: case 0x77: case 0x7B: case 0x7D: /* processes */
            if (!f->has_process) {
                f->has_process = 1;
                take_ids(f->process, t);
            }
            break;
        case 0x27: case 0x72: /* return32, return64 */
            if (!f->has_return) {
                f->has_return = 1;
                f->success = t[1] == 0;
            }
            break;
        case 0x22: /* ipc */
            if (!f->has_ipc) {
                f->has_ipc = 1;
                f->ipc_type = t[1];
                f->ipc_id = be32(t + 2);
            }
            break;
        default:
            break;
        }
        p = nx;
    }
    f->npaths = c->npaths;
    f->paths = c->paths;
    return ntok;
}

/* do_record for a selection: the same pre-checks, walk and errors; the record's span is kept
 * when the selector says so */
static void do_select(ctx_t *c, const bsm_options *opts, size_t p, size_t size, int repaired)
{
    header_t h;
    bsm_fields f;
    size_t ntok, guessed;
    uint64_t damage;
    int keep;

    c->res->records_seen++;
    if (!read_header(c, p, size, &h) || !header_wanted(opts, &h))
        return;
    memset(&f, 0, sizeof f);
    f.event = h.event;
    f.has_time = h.has_time;
    f.time = h.t;
    walk_begin(c, &h);
    ntok = scan_tokens(c, &f, &damage, &guessed);
    record_damage(c, p, size, &h, repaired, ntok, damage, guessed);
    keep = c->select(c->select_arg, c->buf, &f);
    if (keep < 0)
        longjmp(c->oom, 1);
    if (keep)
        add_span(c, p, size, 0);
}

static void record(ctx_t *c, const bsm_options *opts, size_t p, size_t size, int repaired)
{
    if (c->select)
        do_select(c, opts, p, size, repaired);
    else
        do_record(c, opts, p, size, repaired);
}

/* ------------------------------------------------------------------------------------------ */
/* framing */

static int record_problem(const uint8_t *buf, size_t p, size_t n)
{
    uint32_t size;
    size_t t;
    if (n - p < 5)
        return BSM_R_TRUNCATED_RECORD;
    size = be32(buf + p + 1);
    if (size < MIN_RECORD_SIZE)
        return BSM_R_BAD_RECORD_SIZE;
    if (size > n - p)
        return BSM_R_TRUNCATED_RECORD;
    t = p + size - 7;
    if (buf[t] != 0x13 || be16(buf + t + 1) != 0xB105 || be32(buf + t + 3) != size)
        return BSM_R_BAD_TRAILER;
    return -1;
}

/* length of the bare file token at p, or 0 when it does not fit */
static size_t file_size(const uint8_t *buf, size_t p, size_t n)
{
    size_t size;
    if (n - p < 11)
        return 0;
    size = 11 + (size_t)be16(buf + p + 9);
    return size <= n - p ? size : 0;
}

/* decode._trailer_frame: length of the record at p framed by the first trailer before `limit`
 * whose size equals its distance from p (the header's own size is wrong), or 0 */
static size_t trailer_frame(const uint8_t *buf, size_t p, size_t limit)
{
    size_t t, stop = limit;
    if (stop - p > REPAIR_WINDOW)
        stop = p + REPAIR_WINDOW;
    for (t = p + MIN_RECORD_SIZE - 7; t + 7 <= stop; t++) {
        if (buf[t] == 0x13 && buf[t + 1] == 0xB1 && buf[t + 2] == 0x05 &&
            be32(buf + t + 3) == t + 7 - p)
            return t + 7 - p;
    }
    return 0;
}

static size_t resync(const uint8_t *buf, size_t p, size_t n)
{
    size_t q;
    for (q = p; q < n; q++) {
        uint8_t b = buf[q];
        if (!g_resync[b])
            continue;
        if (b == 0x11) {
            size_t size = file_size(buf, q, n), after;
            if (!size || be32(buf + q + 5) >= 1000)
                continue;
            after = q + size;
            if (after == n || (g_header[buf[after]] && record_problem(buf, after, n) < 0))
                return q;
        } else if (record_problem(buf, q, n) < 0) {
            return q;
        }
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */

void bsm_free(bsm_result *res)
{
    int i;
    if (!res)
        return;
    if (res->cols) {
        for (i = 0; i < res->ncols; i++)
            bsm_free_column(res, i);
        free(res->cols);
    }
    free(res->err_offset);
    free(res->err_length);
    free(res->err_reason);
    free(res->span_start);
    free(res->span_end);
    free(res);
}

static void ctx_release(ctx_t *c)
{
    free(c->paths);
    free(c->memo);
    free(c->subj);
    free(c->cut);
    free(c->guess);
    free(c->nuls);
    free(c->next_clean);
    free(c->subject_cuts);
    cols_release(&c->w);
}

static void *zalloc(ctx_t *c, size_t size)
{
    void *p = calloc(1, size);
    if (!p)
        longjmp(c->oom, 1);
    return p;
}

static void alloc_errors(ctx_t *c)
{
    bsm_result *res = c->res;
    res->err_cap = 16;
    res->err_offset = zalloc(c, res->err_cap * sizeof(uint64_t));
    res->err_length = zalloc(c, res->err_cap * sizeof(uint64_t));
    res->err_reason = zalloc(c, res->err_cap);
}

/* decode.frame over [start, n), stopping at the first record or file token boundary at or
 * after stop (framing from a boundary gives what framing the whole buffer gives); returns
 * where it stopped */
#define PREFETCH_AHEAD 2048

static size_t frame_range(ctx_t *c, const bsm_options *opts, size_t start, size_t stop)
{
    const uint8_t *buf = c->buf;
    size_t n = c->n, pos = start, scanned_from = 1, next_valid = 0, ahead = start;
    bsm_result *res = c->res;

    /* decode.frame; resync never rescans: no valid start lies in [scanned_from, next_valid) */
    while (pos < n && pos < stop) {
        uint8_t b = buf[pos];
        /* framing alone jumps from header to trailer to header: a cache miss per record
         * unless the lines ahead are asked for (records lie end to end) */
        if (ahead < pos + PREFETCH_AHEAD)
            ahead = pos + PREFETCH_AHEAD;
        while (ahead < pos + 2 * PREFETCH_AHEAD && ahead < n) {
            __builtin_prefetch(buf + ahead);
            ahead += 64;
        }
        int reason;
        size_t q;
        if (g_header[b]) {
            size_t size;
            reason = record_problem(buf, pos, n);
            if (reason < 0) {
                size = be32(buf + pos + 1);
                record(c, opts, pos, size, 0);
                pos += size;
                continue;
            }
            if (!(scanned_from <= pos + 1 && pos + 1 <= next_valid)) {
                scanned_from = pos + 1;
                next_valid = resync(buf, pos + 1, n);
            }
            q = next_valid;
            size = trailer_frame(buf, pos, q);
            if (size) {
                add_error(c, pos, size, BSM_R_REPAIRED_SIZE);
                record(c, opts, pos, size, 1);
                pos += size;
                continue;
            }
            add_error(c, pos, q - pos, reason);
            pos = q;
            continue;
        } else if (b == 0x11) {
            size_t size = file_size(buf, pos, n);
            if (size) {
                res->file_tokens++;
                if (c->copy_files)
                    add_span(c, pos, size, 1);
                pos += size;
                continue;
            }
            reason = BSM_R_TRUNCATED_FILE;
        } else {
            reason = BSM_R_GARBAGE;
        }
        if (!(scanned_from <= pos + 1 && pos + 1 <= next_valid)) {
            scanned_from = pos + 1;
            next_valid = resync(buf, pos + 1, n);
        }
        q = next_valid;
        add_error(c, pos, q - pos, reason);
        pos = q;
    }
    return pos;
}

/* the selected columns of the records framed in [start, stop) (see frame_range) */
static void decode_all(ctx_t *c, const bsm_options *opts, size_t start, size_t stop)
{
    bsm_result *res = c->res;
    size_t span = stop > start ? stop - start : 0;
    c->w.res = res;
    c->w.oom = &c->oom;
    alloc_errors(c);
    /* Records are ~100-300 bytes: the row buffers are sized for records of 48 bytes on
     * average, so they practically never grow; the capacity left untouched costs no memory
     * and is given back at the end. */
    cols_alloc(&c->w, opts ? opts->columns : NULL, 64 + span / 48, span / 8);
    res->stopped = frame_range(c, opts, start, stop);
    cols_finish(&c->w, !(opts && opts->keep_capacity));
}

bsm_result *bsm_decode_range(const uint8_t *buf, size_t n, size_t start, size_t stop,
                             const bsm_options *opts)
{
    /* the context is large (the staging block): keep it off the stack */
    ctx_t *volatile c = calloc(1, sizeof(ctx_t));
    bsm_result *res;

    if (!c)
        return NULL;
    c->buf = buf;
    c->n = n;
    c->res = calloc(1, sizeof(bsm_result));
    if (!c->res) {
        free(c);
        return NULL;
    }
    if (setjmp(c->oom)) {
        ctx_release(c);
        bsm_free(c->res);
        free(c);
        return NULL;
    }
    decode_all(c, opts, start < n ? start : n, stop);
    res = c->res;
    ctx_release(c);
    free(c);
    return res;
}

bsm_result *bsm_decode(const uint8_t *buf, size_t n, const bsm_options *opts)
{
    return bsm_decode_range(buf, n, 0, n, opts);
}

size_t bsm_resync(const uint8_t *buf, size_t p, size_t n)
{
    return p < n ? resync(buf, p, n) : n;
}

bsm_result *bsm_reduce(const uint8_t *buf, size_t n, size_t start, size_t stop,
                       const bsm_options *opts, bsm_selector select, void *select_arg,
                       int copy_files)
{
    ctx_t *volatile c = calloc(1, sizeof(ctx_t));
    bsm_result *res;

    if (!c)
        return NULL;
    c->buf = buf;
    c->n = n;
    c->select = select;
    c->select_arg = select_arg;
    c->copy_files = copy_files;
    c->res = calloc(1, sizeof(bsm_result));
    if (!c->res || !select) {
        free(c->res);
        free(c);
        return NULL;
    }
    if (setjmp(c->oom)) {
        ctx_release(c);
        bsm_free(c->res);
        free(c);
        return NULL;
    }
    alloc_errors(c);
    c->res->stopped = frame_range(c, opts, start < n ? start : n, stop);
    res = c->res;
    ctx_release(c);
    free(c);
    return res;
}
