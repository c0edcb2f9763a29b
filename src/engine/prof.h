/* prof: per-kernel timing from OpenCL profiling events, for `clae bench`.
 *
 * Owns: the events of enqueued commands that asked for one, and totals per
 * command name. Disabled (the normal case) it hands out no events, so
 * training pays nothing for it. */
#ifndef CLAE_PROF_H
#define CLAE_PROF_H

#include "clctx.h"
#include "util.h"

#define PROF_MAX_PENDING 1024
#define PROF_MAX_NAMES 128

typedef struct {
    const char *name; /* static string: kernel or "sgemm NN 50x500x784" class */
    int is_blas;      /* 1 for CLBlast calls, 2 for those on a small product (gemm.h's
                         GEMM_SMALL_DIM), 0 for clae's kernels */
    double ms;        /* total device time */
    double flops;     /* total floating-point operations, for products (0 for others) */
    long count;
} ProfEntry;

typedef struct {
    int enabled;
    cl_event pending[PROF_MAX_PENDING];
    cl_event pending_begin[PROF_MAX_PENDING]; /* span start marker, or NULL */
    double pending_flops[PROF_MAX_PENDING];
    const char *pending_name[PROF_MAX_PENDING];
    int pending_blas[PROF_MAX_PENDING];
    int n_pending;
    ProfEntry entries[PROF_MAX_NAMES];
    int n_entries;
} Prof;

/* Where the next command's event should go: NULL when prof is NULL or
 * disabled (then the command gets no event). Collects first if full, which
 * is why it can fail. */
int prof_slot(Prof *prof, const char *name, int is_blas, cl_event **slot, Err *err);

/* For a call that enqueues several commands (a CLBlast GEMM: pad,
 * transpose, the product, ...) and reports only the last one's event:
 * enqueues a marker on queue first, so that the span from the marker's end
 * (everything before it done) to the last command's end is timed. Then
 * *slot is the last command's event, as for prof_slot. `flops` is the call's
 * floating-point work, summed per name for a GFLOP/s figure. */
int prof_span(Prof *prof, cl_command_queue queue, const char *name, int is_blas, double flops,
              cl_event **slot, Err *err);

/* After clFinish: adds every pending event's START..END time (a span's
 * marker END..END) to its name's total and releases the events. */
int prof_collect(Prof *prof, Err *err);

/* Releases pending events and zeroes the totals. */
void prof_reset(Prof *prof);

#endif
