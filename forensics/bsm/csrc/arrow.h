/*
 * arrow.h - the C decoder's columns handed over through the Arrow C data interface
 * (https://arrow.apache.org/docs/format/CDataInterface.html), and the destructors of the
 * PyCapsules ("arrow_schema", "arrow_array") that carry them to Polars (the Arrow PyCapsule
 * interface). cdecode.py makes the capsules; Polars adopts every buffer as it is.
 *
 * An exported column owns its buffers: they leave the bsm_result, and the array's release
 * callback frees them (as bsm_free_column does) once the consumer is done with the last one.
 */
#ifndef KNOX_ARROW_H
#define KNOX_ARROW_H

#include "bsm.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* Move column i of res out as one Arrow array and its schema (both malloc'ed; *schema and
 * *array are set): res keeps no buffer of it (selected becomes 0). format: the Arrow format of
 * a BSM_FIXED or BSM_BOOL column ("I", "tsm:UTC", "b", ...); a string column is "vu" (views,
 * variadic data blocks), a list "+L" of "vu", args "+L" of "+s" (number "C", value "L",
 * text "vu"). 0, or -1: out of memory or no such column (the column stays in res). */
int bsm_export_column(bsm_result *res, int i, const char *format,
                      struct ArrowSchema **schema, struct ArrowArray **array);
/* The names the capsules are made with ("arrow_schema", "arrow_array"); static. */
const char *bsm_capsule_name(int array);
/* The capsule destructors (arguments are PyObject *): release the struct unless the consumer
 * moved it (release is NULL then), then free it. */
void bsm_capsule_free_schema(void *capsule);
void bsm_capsule_free_array(void *capsule);

#ifdef __cplusplus
}
#endif

#endif /* KNOX_ARROW_H */
