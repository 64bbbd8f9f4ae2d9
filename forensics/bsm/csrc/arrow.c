/*
 * arrow.c - one column of a bsm_result handed over through the Arrow C data interface, and the
 * destructors of the PyCapsules that carry it. See arrow.h.
 *
 * The buffers are exported as they are (they are written in the layout Arrow and Polars keep,
 * see columns.c): nothing is copied. The column's buffers move into a holder shared by the
 * array and its children; each node holds one reference, a node's release drops it (after
 * releasing the children the consumer did not move), and the last one frees the buffers. The
 * schema is built the same way, apart (the consumer may keep one without the other).
 *
 * Only the two capsule destructors use Python (the limited API: the module is abi3).
 */
#define Py_LIMITED_API 0x03080000
#include <Python.h>

#include "arrow.h"
#include "columns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 4             /* below the root: args' list child, struct, three fields */
#define FORMAT_MAX 16

/* stands for a buffer of no bytes (a pointer that is never read, never NULL) */
static const int64_t EMPTY[2];

static const void *or_empty(const void *p) { return p ? p : (const void *)EMPTY; }

static int drop_ref(int *refs)
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_sub_fetch(refs, 1, __ATOMIC_ACQ_REL);
#else
    return --*refs;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* arrays */

typedef struct array_holder {
    int refs;                   /* nodes not yet released */
    bsm_column col;             /* the column's buffers, moved out of the result */
    struct ArrowArray node[MAX_NODES + 1];
    struct ArrowArray *kids[MAX_NODES];
    const void *bufs[];         /* the nodes' buffer lists, one after the other */
} array_holder;

static void array_release(struct ArrowArray *a)
{
    array_holder *h = a->private_data;
    int64_t k;
    for (k = 0; k < a->n_children; k++)
        if (a->children[k]->release)
            a->children[k]->release(a->children[k]);
    a->release = NULL;
    if (drop_ref(&h->refs) == 0) {
        cols_free(&h->col);
        free(h);
    }
}

/* node a of h: length rows, nbuf buffers taken from h->bufs at *used */
static const void **array_node(array_holder *h, struct ArrowArray *a, int64_t length,
                               int64_t nulls, int nbuf, size_t *used)
{
    memset(a, 0, sizeof *a);
    a->length = length;
    a->null_count = nulls;
    a->n_buffers = nbuf;
    a->buffers = h->bufs + *used;
    a->release = array_release;
    a->private_data = h;
    *used += (size_t)nbuf;
    h->refs++;
    return (const void **)a->buffers;
}

/* node a: count string views (validity: NULL or nulls > 0 bits) over col's data blocks */
static void views_node(array_holder *h, struct ArrowArray *a, int64_t count, int64_t nulls,
                       const uint8_t *validity, const uint8_t *views, size_t *used)
{
    const bsm_column *col = &h->col;
    const void **b = array_node(h, a, count, nulls, 3 + col->nblocks, used);
    int k;
    b[0] = nulls ? validity : NULL;
    b[1] = or_empty(views);
    for (k = 0; k < col->nblocks; k++)
        b[2 + k] = or_empty(col->blocks[k]);
    b[2 + col->nblocks] = or_empty(col->block_len);      /* the variadic sizes (int64) */
}

/* node child (at kid k of parent) */
static struct ArrowArray *adopt(array_holder *h, struct ArrowArray *parent, int k)
{
    struct ArrowArray *child = &h->node[k + 1];
    h->kids[k] = child;
    if (!parent->n_children)
        parent->children = &h->kids[k];
    parent->n_children++;
    return child;
}

static void fill_array(array_holder *h, struct ArrowArray *root, int64_t n)
{
    const bsm_column *col = &h->col;
    int64_t nulls = col->null_count, k = col->nchild;
    const void **b;
    size_t used = 0;
    if (col->kind == BSM_STRING) {
        views_node(h, root, n, nulls, col->valid, col->values, &used);
        return;
    }
    b = array_node(h, root, n, nulls, 2, &used);
    b[0] = nulls ? col->valid : NULL;
    if (col->kind == BSM_FIXED || col->kind == BSM_BOOL) {
        b[1] = or_empty(col->values);
        return;
    }
    b[1] = or_empty(col->offsets);
    if (col->kind == BSM_LIST) {
        views_node(h, adopt(h, root, 0), k, 0, NULL, col->child_views, &used);
    } else {                    /* args: a list of structs {number, value, text} */
        struct ArrowArray *st = adopt(h, root, 0);
        array_node(h, st, k, 0, 1, &used)[0] = NULL;
        b = array_node(h, adopt(h, st, 1), k, 0, 2, &used);
        b[0] = NULL;
        b[1] = or_empty(col->arg_number);
        b = array_node(h, adopt(h, st, 2), k, 0, 2, &used);
        b[0] = NULL;
        b[1] = or_empty(col->arg_value);
        views_node(h, adopt(h, st, 3), k, 0, NULL, col->child_views, &used);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* schemas */

typedef struct schema_holder {
    int refs;
    struct ArrowSchema node[MAX_NODES + 1];
    struct ArrowSchema *kids[MAX_NODES];
    char format[FORMAT_MAX];
} schema_holder;

static void schema_release(struct ArrowSchema *s)
{
    schema_holder *h = s->private_data;
    int64_t k;
    for (k = 0; k < s->n_children; k++)
        if (s->children[k]->release)
            s->children[k]->release(s->children[k]);
    s->release = NULL;
    if (drop_ref(&h->refs) == 0)
        free(h);
}

static struct ArrowSchema *field(schema_holder *h, struct ArrowSchema *s, const char *format,
                                 const char *name)
{
    memset(s, 0, sizeof *s);
    s->format = format;
    s->name = name;
    s->flags = ARROW_FLAG_NULLABLE;
    s->release = schema_release;
    s->private_data = h;
    h->refs++;
    return s;
}

/* field child, kid k of parent */
static struct ArrowSchema *subfield(schema_holder *h, struct ArrowSchema *parent, int k,
                                    const char *format, const char *name)
{
    struct ArrowSchema *child = field(h, &h->node[k + 1], format, name);
    h->kids[k] = child;
    if (!parent->n_children)
        parent->children = &h->kids[k];
    parent->n_children++;
    return child;
}

static void fill_schema(schema_holder *h, struct ArrowSchema *root, const bsm_column *col)
{
    switch (col->kind) {
    case BSM_STRING:
        field(h, root, "vu", col->name);
        break;
    case BSM_LIST:
        subfield(h, field(h, root, "+L", col->name), 0, "vu", "item");
        break;
    case BSM_ARGS: {
        struct ArrowSchema *st = subfield(h, field(h, root, "+L", col->name), 0, "+s", "item");
        subfield(h, st, 1, "C", "number");
        subfield(h, st, 2, "L", "value");
        subfield(h, st, 3, "vu", "text");
        break;
    }
    default:
        field(h, root, h->format, col->name);
        break;
    }
}

/* ------------------------------------------------------------------------------------------ */

int bsm_export_column(bsm_result *res, int i, const char *format,
                      struct ArrowSchema **schema, struct ArrowArray **array)
{
    bsm_column *col;
    array_holder *ah;
    schema_holder *sh;
    if (!res || !res->cols || i < 0 || i >= res->ncols || !res->cols[i].selected ||
        strlen(format) >= FORMAT_MAX)
        return -1;
    col = &res->cols[i];
    ah = malloc(sizeof *ah + (10 + (size_t)col->nblocks) * sizeof(const void *));
    sh = calloc(1, sizeof *sh);
    *schema = malloc(sizeof **schema);
    *array = malloc(sizeof **array);
    if (!ah || !sh || !*schema || !*array) {
        free(ah);
        free(sh);
        free(*schema);
        free(*array);
        *schema = NULL;
        *array = NULL;
        return -1;
    }
    memset(ah, 0, sizeof *ah);
    ah->col = *col;             /* the buffers move: the result forgets them */
    cols_forget(col);
    col->selected = 0;
    strcpy(sh->format, format);
    fill_array(ah, *array, res->nrows);
    fill_schema(sh, *schema, &ah->col);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* capsules */

static const char SCHEMA_CAPSULE[] = "arrow_schema";
static const char ARRAY_CAPSULE[] = "arrow_array";

const char *bsm_capsule_name(int array) { return array ? ARRAY_CAPSULE : SCHEMA_CAPSULE; }

void bsm_capsule_free_schema(void *capsule)
{
    struct ArrowSchema *s;
    if (!PyCapsule_IsValid((PyObject *)capsule, SCHEMA_CAPSULE))
        return;
    s = PyCapsule_GetPointer((PyObject *)capsule, SCHEMA_CAPSULE);
    if (s->release)             /* not moved by the consumer */
        s->release(s);
    free(s);
}

void bsm_capsule_free_array(void *capsule)
{
    struct ArrowArray *a;
    if (!PyCapsule_IsValid((PyObject *)capsule, ARRAY_CAPSULE))
        return;
    a = PyCapsule_GetPointer((PyObject *)capsule, ARRAY_CAPSULE);
    if (a->release)
        a->release(a);
    free(a);
}
