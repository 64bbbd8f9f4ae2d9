/*
 * select.h - auditreduce's selection evaluated in the C walk (select.c).
 *
 * A bsm_program is a compiled forensics.collection.selection.Selection (cselect.py fills it):
 * bsm_select_record() is its bsm_selector for bsm_reduce(). Sets of ids are plain arrays; a
 * count of -1 means the option was not given. Path regexes are POSIX extended regexes, run in
 * the "C" locale over the lossless text of each path (bsm_text_map).
 */
#ifndef KNOX_SELECT_H
#define KNOX_SELECT_H

#include "bsm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bsm_regexes bsm_regexes;

typedef struct bsm_program {
    const uint8_t *events;          /* -m: NULL, or a 65536-bit bitmap of event numbers */
    const uint8_t *class_any;       /* -c: NULL, or bitmaps of the events whose class mask */
    const uint8_t *class_success;   /*     hits the success or failure flags, the success */
    const uint8_t *class_failure;   /*     flags, the failure flags */
    int has_after;                  /* -a -b -d: the half-open window [after, before), ms */
    int has_before;
    int64_t after_ms;
    int64_t before_ms;
    int any_user;                   /* some of -u -e -f -r -g is given */
    const uint32_t *ids[5];         /* auid euid egid ruid rgid */
    int64_t nids[5];
    const uint32_t *subject_pids;   /* -j */
    int64_t nsubject_pids;
    const uint32_t *process_pids;   /* -o pid= */
    int64_t nprocess_pids;
    const uint32_t *ipc_ids[3];     /* -o msgqid= semid= shmid= (ipc types 1, 2, 3) */
    int64_t nipc[3];
    const bsm_regexes *paths;       /* -o file=: NULL when not given */
    int invert;                     /* -v */
    uint8_t *scratch;               /* (private) a path's text */
    size_t scratch_cap;
} bsm_program;

/* Compile n POSIX extended regexes (the "C" locale). A pattern with a fixed text (fixed[i]
 * not NULL, fixed_len[i] bytes; anchors[i]: 1 at the start, 2 at the end) is compared as bytes
 * instead. NULL on failure: *bad is the index of the pattern regcomp refused, or n when out of
 * memory. */
bsm_regexes *bsm_regexes_new(int n, const char *const *patterns, const char *const *fixed,
                             const size_t *fixed_len, const uint8_t *anchors,
                             const uint8_t *negated, int *bad);
void bsm_regexes_free(bsm_regexes *rx);
/* The decision for one text: the first regex that matches decides (a negated one rejects);
 * 0 when none matches. */
int bsm_regexes_decide(const bsm_regexes *rx, const uint8_t *text, size_t n);

/* The bsm_selector of a program (arg: the bsm_program). */
int bsm_select_record(void *arg, const uint8_t *buf, const bsm_fields *fields);
/* Write the selected spans of res (offsets into buf) to the file descriptor fd, in order, in
 * gathered writes, resuming short writes and EINTR. Returns 0, or the errno of the write that
 * failed; *written counts the bytes written either way. */
int bsm_write_spans(int fd, const uint8_t *buf, const bsm_result *res, uint64_t *written);
/* madvise(2) on [buf + start, buf + start + len), start a multiple of the page size from a
 * page-aligned buffer (a memory map): 0, or the errno. Here so that the call runs without
 * Python's lock (reduce populates and drops the pages of two ranges at once). */
int bsm_advise(const uint8_t *buf, size_t start, size_t len, int advice);
/* Free what evaluating a program allocated (its scratch buffer). */
void bsm_program_release(bsm_program *prog);

#ifdef __cplusplus
}
#endif

#endif /* KNOX_SELECT_H */
