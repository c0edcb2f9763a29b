/* prof: see prof.h. */
#include "prof.h"

#include <string.h>

int prof_slot(Prof *prof, const char *name, int is_blas, cl_event **slot, Err *err)
{
    *slot = NULL;
    if (!prof || !prof->enabled) return 0;
    if (prof->n_pending == PROF_MAX_PENDING && prof_collect(prof, err)) return -1;
    int i = prof->n_pending++;
    prof->pending[i] = NULL;
    prof->pending_begin[i] = NULL;
    prof->pending_flops[i] = 0;
    prof->pending_name[i] = name;
    prof->pending_blas[i] = is_blas;
    *slot = &prof->pending[i];
    return 0;
}

int prof_span(Prof *prof, cl_command_queue queue, const char *name, int is_blas, double flops,
              cl_event **slot, Err *err)
{
    if (prof_slot(prof, name, is_blas, slot, err)) return -1;
    if (!*slot) return 0;
    int i = prof->n_pending - 1;
    prof->pending_flops[i] = flops;
    CL_CHECK(clEnqueueMarkerWithWaitList(queue, 0, NULL, &prof->pending_begin[i]));
    return 0;
fail:
    return -1;
}

static ProfEntry *entry_for(Prof *prof, const char *name, int is_blas)
{
    for (int i = 0; i < prof->n_entries; i++)
        if (strcmp(prof->entries[i].name, name) == 0) return &prof->entries[i];
    if (prof->n_entries == PROF_MAX_NAMES) return NULL;
    ProfEntry *e = &prof->entries[prof->n_entries++];
    e->name = name;
    e->is_blas = is_blas;
    e->ms = 0;
    e->flops = 0;
    e->count = 0;
    return e;
}

int prof_collect(Prof *prof, Err *err)
{
    if (!prof) return 0;
    int rc = 0;
    for (int i = 0; i < prof->n_pending; i++) {
        cl_event ev = prof->pending[i], begin = prof->pending_begin[i];
        if (!ev) { /* the command failed before making an event */
            if (begin) clReleaseEvent(begin);
            continue;
        }
        cl_ulong t0 = 0, t1 = 0;
        if (rc == 0) {
            CL_CHECK(clWaitForEvents(1, &ev));
            if (begin)
                CL_CHECK(clGetEventProfilingInfo(begin, CL_PROFILING_COMMAND_END, sizeof t0, &t0,
                                                 NULL));
            else
                CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0,
                                                 NULL));
            CL_CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL));
            ProfEntry *e = entry_for(prof, prof->pending_name[i], prof->pending_blas[i]);
            if (e) {
                e->ms += t1 > t0 ? (double)(t1 - t0) * 1e-6 : 0.0;
                e->flops += prof->pending_flops[i];
                e->count++;
            }
        }
        goto next;
    fail:
        rc = -1;
    next:
        clReleaseEvent(ev);
        if (begin) clReleaseEvent(begin);
    }
    prof->n_pending = 0;
    return rc;
}

void prof_reset(Prof *prof)
{
    if (!prof) return;
    for (int i = 0; i < prof->n_pending; i++) {
        if (prof->pending[i]) clReleaseEvent(prof->pending[i]);
        if (prof->pending_begin[i]) clReleaseEvent(prof->pending_begin[i]);
    }
    prof->n_pending = 0;
    prof->n_entries = 0;
}
