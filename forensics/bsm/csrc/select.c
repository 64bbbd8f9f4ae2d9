/*
 * select.c - auditreduce's selection as a bsm_selector (see bsm.h, select.h).
 *
 * forensics/bsm/cselect.py compiles a forensics.collection.selection.Selection into a
 * bsm_program; bsm_select_record() evaluates it on the fields bsm_reduce() reads from each
 * record, with exactly the meaning of Selection.expr() over the records frame: every option is
 * a condition that is false when its column is null, the conditions are ANDed, -v inverts.
 *
 * Path regexes are POSIX extended regexes run by the C library in the "C" locale over the
 * record's paths in their lossless text form (bsm_text_map), the form the records frame holds.
 * cselect.py hands over only patterns whose POSIX meaning equals their Rust (Polars) meaning
 * on such text; any other pattern keeps the selection on the Polars path.
 */
#define _GNU_SOURCE /* memmem */

#include "select.h"

#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

struct bsm_regexes {
    int n;
    regex_t *re;
    uint8_t *negated;
    uint8_t **fixed;           /* per pattern: its fixed text, or NULL (a regex) */
    size_t *fixed_len;
    uint8_t *anchors;
    int size;                  /* entries of fixed (n counts the compiled regexes) */
    locale_t c_locale;
};

static locale_t c_locale(void)
{
    return newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

bsm_regexes *bsm_regexes_new(int n, const char *const *patterns, const char *const *fixed,
                             const size_t *fixed_len, const uint8_t *anchors,
                             const uint8_t *negated, int *bad)
{
    bsm_regexes *rx = calloc(1, sizeof *rx);
    size_t m = (size_t)(n > 0 ? n : 1);
    locale_t old;
    int i;
    *bad = -1;
    if (!rx || n < 0)
        goto fail;
    rx->re = calloc(m, sizeof(regex_t));
    rx->negated = calloc(m, 1);
    rx->fixed = calloc(m, sizeof(uint8_t *));
    rx->fixed_len = calloc(m, sizeof(size_t));
    rx->anchors = calloc(m, 1);
    rx->c_locale = c_locale();
    if (!rx->re || !rx->negated || !rx->fixed || !rx->fixed_len || !rx->anchors ||
        rx->c_locale == (locale_t)0)
        goto fail;
    rx->size = n;
    for (i = 0; i < n; i++) {
        if (!fixed[i])
            continue;
        rx->fixed[i] = malloc(fixed_len[i] ? fixed_len[i] : 1);
        if (!rx->fixed[i])
            goto fail;
        memcpy(rx->fixed[i], fixed[i], fixed_len[i]);
        rx->fixed_len[i] = fixed_len[i];
        rx->anchors[i] = anchors[i];
    }
    old = uselocale(rx->c_locale);
    for (i = 0; i < n; i++) {
        if (regcomp(&rx->re[i], patterns[i], REG_EXTENDED | REG_NOSUB) != 0) {
            *bad = i;
            break;
        }
        rx->n = i + 1;
        rx->negated[i] = negated[i] ? 1 : 0;
    }
    uselocale(old);
    if (*bad >= 0)
        goto fail;
    return rx;
fail:
    if (*bad < 0)
        *bad = n;     /* out of memory */
    bsm_regexes_free(rx);
    return NULL;
}

void bsm_regexes_free(bsm_regexes *rx)
{
    int i;
    if (!rx)
        return;
    for (i = 0; i < rx->n; i++)
        regfree(&rx->re[i]);
    if (rx->fixed)
        for (i = 0; i < rx->size; i++)
            free(rx->fixed[i]);
    free(rx->fixed);
    free(rx->fixed_len);
    free(rx->anchors);
    free(rx->re);
    free(rx->negated);
    if (rx->c_locale != (locale_t)0)
        freelocale(rx->c_locale);
    free(rx);
}

/* whether the fixed text k occurs in text (at its start, its end or both, by the anchors) */
static int text_match(const bsm_regexes *rx, int k, const uint8_t *text, size_t n)
{
    const uint8_t *f = rx->fixed[k];
    size_t len = rx->fixed_len[k];
    switch (rx->anchors[k]) {
    case 1:
        return len <= n && memcmp(text, f, len) == 0;
    case 2:
        return len <= n && memcmp(text + n - len, f, len) == 0;
    case 3:
        return len == n && memcmp(text, f, len) == 0;
    default:
        return len == 0 || (len <= n && memmem(text, n, f, len) != NULL);
    }
}

int bsm_regexes_decide(const bsm_regexes *rx, const uint8_t *text, size_t n)
{
    locale_t old = (locale_t)0;
    int i, accept = 0, switched = 0;
    for (i = 0; i < rx->n; i++) {
        int hit;
        if (rx->fixed[i]) {
            hit = text_match(rx, i, text, n);
        } else {
            regmatch_t m[1];
            if (!switched) {
                old = uselocale(rx->c_locale);
                switched = 1;
            }
            m[0].rm_so = 0;
            m[0].rm_eo = (regoff_t)n;
            hit = regexec(&rx->re[i], (const char *)text, 1, m, REG_STARTEND) == 0;
        }
        if (hit) {
            accept = !rx->negated[i];
            break;
        }
    }
    if (switched)
        uselocale(old);
    return accept;
}

/* ------------------------------------------------------------------------------------------ */

static inline int bit(const uint8_t *map, unsigned v) { return (map[v >> 3] >> (v & 7)) & 1; }

static int member(const uint32_t *ids, int64_t n, uint32_t v)
{
    int64_t i;
    for (i = 0; i < n; i++)
        if (ids[i] == v)
            return 1;
    return 0;
}

/* -u -e -f -r -g: a subject or a process token; each one present must match every option */
static int users_match(const bsm_program *prog, const bsm_fields *f)
{
    int k, s_ok = 1, p_ok = 1;
    if (!f->has_subject && !f->has_process)
        return 0;
    for (k = 0; k < 5; k++) {
        if (prog->nids[k] < 0)
            continue;
        if (f->has_subject && !member(prog->ids[k], prog->nids[k], f->subject[k]))
            s_ok = 0;
        if (f->has_process && !member(prog->ids[k], prog->nids[k], f->process[k]))
            p_ok = 0;
    }
    return s_ok && p_ok;
}

/* -o file=: at least one path, and each accepted by the first regex that matches it */
static int paths_match(bsm_program *prog, const uint8_t *buf, const bsm_fields *f)
{
    size_t i;
    if (!f->npaths)
        return 0;
    for (i = 0; i < f->npaths; i++) {
        const uint8_t *s = buf + f->paths[i] + 2;
        size_t len = ((size_t)buf[f->paths[i]] << 8) | buf[f->paths[i] + 1], m;
        if (len && s[len - 1] == 0)
            len--;                         /* one trailing NUL dropped, as in the frame */
        if (3 * len + 1 > prog->scratch_cap) {
            size_t cap = 3 * len + 1 > 4096 ? 3 * len + 1 : 4096;
            void *q = realloc(prog->scratch, cap);
            if (!q)
                return -1;
            prog->scratch = q;
            prog->scratch_cap = cap;
        }
        m = bsm_text_map(s, len, prog->scratch);
        prog->scratch[m] = 0;              /* REG_STARTEND bounds it; terminated all the same */
        if (!bsm_regexes_decide(prog->paths, prog->scratch, m))
            return 0;
    }
    return 1;
}

/* every condition but the paths (null columns are false) */
static int fixed_match(const bsm_program *prog, const bsm_fields *f)
{
    int k;
    if (prog->has_after && !(f->has_time && f->time >= prog->after_ms))
        return 0;
    if (prog->has_before && !(f->has_time && f->time < prog->before_ms))
        return 0;
    if (prog->events && !bit(prog->events, f->event))
        return 0;
    if (prog->class_any) {
        if (!bit(prog->class_any, f->event))
            return 0;
        if (f->has_return &&
            !bit(f->success ? prog->class_success : prog->class_failure, f->event))
            return 0;
    }
    if (prog->any_user && !users_match(prog, f))
        return 0;
    if (prog->nsubject_pids >= 0 &&
        !(f->has_subject && member(prog->subject_pids, prog->nsubject_pids, f->subject[5])))
        return 0;
    if (prog->nprocess_pids >= 0 &&
        !(f->has_process && member(prog->process_pids, prog->nprocess_pids, f->process[5])))
        return 0;
    for (k = 0; k < 3; k++) {
        if (prog->nipc[k] < 0)
            continue;
        if (!(f->has_ipc && f->ipc_type == k + 1 && member(prog->ipc_ids[k], prog->nipc[k],
                                                           f->ipc_id)))
            return 0;
    }
    return 1;
}

int bsm_select_record(void *arg, const uint8_t *buf, const bsm_fields *f)
{
    bsm_program *prog = arg;
    int ok = fixed_match(prog, f);
    if (ok && prog->paths) {
        ok = paths_match(prog, buf, f);
        if (ok < 0)
            return -1;
    }
    return prog->invert ? !ok : ok;
}

void bsm_program_release(bsm_program *prog)
{
    free(prog->scratch);
    prog->scratch = NULL;
    prog->scratch_cap = 0;
}

#define WRITE_IOV 1024 /* IOV_MAX on Linux and the BSDs */

int bsm_write_spans(int fd, const uint8_t *buf, const bsm_result *res, uint64_t *written)
{
    struct iovec iov[WRITE_IOV];
    int64_t i = 0, n = res->nspans;
    size_t skip = 0; /* bytes of span i already written */
    *written = 0;
    while (i < n) {
        int k = 0;
        int64_t j;
        ssize_t w;
        for (j = i; j < n && k < WRITE_IOV; j++, k++) {
            size_t off = (size_t)res->span_start[j] + (j == i ? skip : 0);
            iov[k].iov_base = (void *)(buf + off);
            iov[k].iov_len = (size_t)res->span_end[j] - off;
        }
        w = writev(fd, iov, k);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (w == 0)
            return EIO;
        *written += (uint64_t)w;
        while (w > 0) {
            size_t left = (size_t)(res->span_end[i] - res->span_start[i]) - skip;
            if ((size_t)w >= left) {
                w -= (ssize_t)left;
                i++;
                skip = 0;
            } else {
                skip += (size_t)w;
                w = 0;
            }
        }
    }
    return 0;
}

int bsm_advise(const uint8_t *buf, size_t start, size_t len, int advice)
{
    if (len == 0)
        return 0;
    return madvise((void *)(buf + start), len, advice) ? errno : 0;
}
