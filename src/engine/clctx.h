/* clctx: the OpenCL platform, device, context and queue of one run.
 *
 * Owns: listing platforms and devices, choosing one from the [device] keys
 * (with an error that lists what exists when nothing matches), creating the
 * context and the single in-order queue (the right call for the platform's
 * OpenCL version), applying the device's CLBlast tuning ([device] tuning,
 * clbtune.h), and naming OpenCL and CLBlast status codes. */
#ifndef CLAE_CLCTX_H
#define CLAE_CLCTX_H

/* Normally set by CMake for every file, so that CL/cl.h and clblast_c.h agree. */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#endif
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include <stdio.h>

#include "clbtune.h"
#include "config.h"
#include "util.h"

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;     /* owned */
    cl_command_queue queue; /* owned; in order; profiling when asked for */
    int platform_index, device_index;
    char platform_name[256];
    char device_name[256];
    char device_version[256];  /* CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ..." */
    char driver_version[256];
    char opencl_c_version[256];
    cl_device_type type;
    size_t max_work_group;     /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    cl_ulong global_mem;       /* CL_DEVICE_GLOBAL_MEM_SIZE */
    cl_ulong max_alloc;        /* CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest one buffer */
    cl_uint compute_units;
    int profiling;             /* queue has CL_QUEUE_PROFILING_ENABLE */
    DeviceId id;               /* the device as tuning files name it */
    TuningUse tuning;          /* the CLBlast tuning applied, or none */
    GemmLayout gemm_layout;    /* how gemm.h hands products to CLBlast (the tuning's) */
    TuningRoute gemm_route[TUNING_MAX_ROUTES]; /* the tuning's [routes] (gemm.h) */
    int gemm_n_routes;
    size_t gemm_min_indirect;  /* the tuning's XGEMM_MIN_INDIRECT_SIZE, which gemm.h puts
                                  back after a product it forces direct or indirect */
    int gemm_has_min_indirect; /* 0: the tuning has no [GemmRoutine] (CLBlast's own value,
                                  which cannot be put back): direct and indirect routes run
                                  as clblast */
} ClCtx;

/* Name of an OpenCL or CLBlast status code ("CL_OUT_OF_RESOURCES",
 * "CLBlastInsufficientMemoryTemp"); a static string, never NULL. */
const char *clctx_err_name(int code);

/* Fills err with "CALL failed: NAME (code) at file:line" and returns -1
 * (for code != 0); returns 0 for CL_SUCCESS. Used through CL_CHECK. */
int clctx_check(int code, const char *call, const char *file, int line, Err *err);

/* Evaluates an OpenCL or CLBlast call once; on failure fills err and jumps to
 * the enclosing function's `fail` label. */
#define CL_CHECK(call)                                                          \
    do {                                                                        \
        if (clctx_check((int)(call), #call, __FILE__, __LINE__, err)) goto fail; \
    } while (0)

/* Prints every platform and device with its indices, type, vendor, name,
 * compute units, global memory, max work-group size and OpenCL C version. */
int clctx_list(FILE *out, Err *err);

/* Chooses the device that cfg's [device] keys describe, creates the
 * context and an in-order queue (with profiling if `profiling`), then finds
 * and applies the tuning that [device] tuning names (clbtune.h; a file auto
 * finds but cannot use leaves ctx->tuning.warning for the caller to print).
 * ctx is zeroed first; clctx_destroy frees it. Returns -2 (a config error)
 * when no device matches the selection or a tuning file given by path is
 * wrong for it, -1 on other failures. */
int clctx_create(ClCtx *ctx, const Config *cfg, int profiling, Err *err);

/* Which device cfg's [device] keys select, as clctx_create would choose it,
 * without creating anything: its P:D indices. Returns 0, -2 when nothing
 * matches (err lists what exists), -1 on an OpenCL error. */
int clctx_find(const Config *cfg, int *platform_index, int *device_index, Err *err);

/* A read-write device buffer of `bytes` (at least 1 is allocated), filled
 * from `host` with a blocking copy when host is not NULL. NULL on failure,
 * with err saying which call failed and the size. The caller releases it
 * with clReleaseMemObject. */
cl_mem clctx_buffer(ClCtx *ctx, size_t bytes, const void *host, Err *err);

/* Replaces the queue by one with (or without) profiling, after the old one
 * has finished: profiling costs PoCL a lot per command (measured: the seed
 * step at batch 50 ran at 4,000 instead of 6,900 images/s), so only the
 * breakdown of clae bench runs with it. Buffers and kernels stay. */
int clctx_set_profiling(ClCtx *ctx, int profiling, Err *err);

/* Resolves `setting` (auto, none, a path) for ctx's device and applies it:
 * ctx->tuning and ctx->gemm_layout follow. Returns -2 for a bad tuning file
 * given by path. Once CLBlast holds a tuning for a device, only another
 * tuning replaces it: apply none first to measure CLBlast's own. */
int clctx_tune(ClCtx *ctx, const char *setting, Err *err);

/* What gemm.h takes from a tuning CLBlast now holds (clbtune_apply): its
 * layout, its routes and its direct/indirect threshold. */
void clctx_gemm_tuning(ClCtx *ctx, const Tuning *t);

/* "tuning: PATH (hash H): NOTE" or "tuning: none: NOTE" to out (unless
 * NULL), and the warning, if any, as "clae: warning: ..." to warn. */
void clctx_print_tuning(const ClCtx *ctx, FILE *out, FILE *warn);

/* Releases the queue and context; a zeroed ctx is fine. */
void clctx_destroy(ClCtx *ctx);

#endif
