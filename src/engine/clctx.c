/* clctx: see clctx.h. */
#define _POSIX_C_SOURCE 200809L
#include "clctx.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PLATFORMS 16
#define MAX_DEVICES 64

const char *clctx_err_name(int code)
{
    switch (code) {
#define N(c) case c: return #c;
    N(CL_SUCCESS)
    N(CL_DEVICE_NOT_FOUND)
    N(CL_DEVICE_NOT_AVAILABLE)
    N(CL_COMPILER_NOT_AVAILABLE)
    N(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    N(CL_OUT_OF_RESOURCES)
    N(CL_OUT_OF_HOST_MEMORY)
    N(CL_PROFILING_INFO_NOT_AVAILABLE)
    N(CL_MEM_COPY_OVERLAP)
    N(CL_IMAGE_FORMAT_MISMATCH)
    N(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    N(CL_BUILD_PROGRAM_FAILURE)
    N(CL_MAP_FAILURE)
    N(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    N(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    N(CL_COMPILE_PROGRAM_FAILURE)
    N(CL_LINKER_NOT_AVAILABLE)
    N(CL_LINK_PROGRAM_FAILURE)
    N(CL_DEVICE_PARTITION_FAILED)
    N(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    N(CL_INVALID_VALUE)
    N(CL_INVALID_DEVICE_TYPE)
    N(CL_INVALID_PLATFORM)
    N(CL_INVALID_DEVICE)
    N(CL_INVALID_CONTEXT)
    N(CL_INVALID_QUEUE_PROPERTIES)
    N(CL_INVALID_COMMAND_QUEUE)
    N(CL_INVALID_HOST_PTR)
    N(CL_INVALID_MEM_OBJECT)
    N(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    N(CL_INVALID_IMAGE_SIZE)
    N(CL_INVALID_SAMPLER)
    N(CL_INVALID_BINARY)
    N(CL_INVALID_BUILD_OPTIONS)
    N(CL_INVALID_PROGRAM)
    N(CL_INVALID_PROGRAM_EXECUTABLE)
    N(CL_INVALID_KERNEL_NAME)
    N(CL_INVALID_KERNEL_DEFINITION)
    N(CL_INVALID_KERNEL)
    N(CL_INVALID_ARG_INDEX)
    N(CL_INVALID_ARG_VALUE)
    N(CL_INVALID_ARG_SIZE)
    N(CL_INVALID_KERNEL_ARGS)
    N(CL_INVALID_WORK_DIMENSION)
    N(CL_INVALID_WORK_GROUP_SIZE)
    N(CL_INVALID_WORK_ITEM_SIZE)
    N(CL_INVALID_GLOBAL_OFFSET)
    N(CL_INVALID_EVENT_WAIT_LIST)
    N(CL_INVALID_EVENT)
    N(CL_INVALID_OPERATION)
    N(CL_INVALID_GL_OBJECT)
    N(CL_INVALID_BUFFER_SIZE)
    N(CL_INVALID_MIP_LEVEL)
    N(CL_INVALID_GLOBAL_WORK_SIZE)
    N(CL_INVALID_PROPERTY)
    N(CL_INVALID_IMAGE_DESCRIPTOR)
    N(CL_INVALID_COMPILER_OPTIONS)
    N(CL_INVALID_LINKER_OPTIONS)
    N(CL_INVALID_DEVICE_PARTITION_COUNT)
    N(CL_INVALID_PIPE_SIZE)
    N(CL_INVALID_DEVICE_QUEUE)
    N(CL_INVALID_SPEC_ID)
    N(CL_MAX_SIZE_RESTRICTION_EXCEEDED)
#undef N
    /* CLBlast's own codes (clblast_c.h); below -1000 so they never clash
     * with OpenCL's, which CLBlast reuses for everything else. */
    case -1024: return "CLBlastNotImplemented";
    case -1022: return "CLBlastInvalidMatrixA";
    case -1021: return "CLBlastInvalidMatrixB";
    case -1020: return "CLBlastInvalidMatrixC";
    case -1019: return "CLBlastInvalidVectorX";
    case -1018: return "CLBlastInvalidVectorY";
    case -1017: return "CLBlastInvalidDimension";
    case -1016: return "CLBlastInvalidLeadDimA";
    case -1015: return "CLBlastInvalidLeadDimB";
    case -1014: return "CLBlastInvalidLeadDimC";
    case -1013: return "CLBlastInvalidIncrementX";
    case -1012: return "CLBlastInvalidIncrementY";
    case -1011: return "CLBlastInsufficientMemoryA";
    case -1010: return "CLBlastInsufficientMemoryB";
    case -1009: return "CLBlastInsufficientMemoryC";
    case -1008: return "CLBlastInsufficientMemoryX";
    case -1007: return "CLBlastInsufficientMemoryY";
    case -2050: return "CLBlastInsufficientMemoryTemp";
    case -2049: return "CLBlastInvalidBatchCount";
    case -2048: return "CLBlastInvalidOverrideKernel";
    case -2047: return "CLBlastMissingOverrideParameter";
    case -2046: return "CLBlastInvalidLocalMemUsage";
    case -2045: return "CLBlastNoHalfPrecision";
    case -2044: return "CLBlastNoDoublePrecision";
    case -2043: return "CLBlastInvalidVectorScalar";
    case -2042: return "CLBlastInsufficientMemoryScalar";
    case -2041: return "CLBlastDatabaseError";
    case -2040: return "CLBlastUnknownError";
    case -2039: return "CLBlastUnexpectedError";
    default: return "unknown OpenCL/CLBlast status";
    }
}

int clctx_check(int code, const char *call, const char *file, int line, Err *err)
{
    if (code == CL_SUCCESS) return 0;
    /* Only the function name of the call: the arguments make the line long. */
    char fn[128];
    size_t n = strcspn(call, "(");
    if (n >= sizeof fn) n = sizeof fn - 1;
    memcpy(fn, call, n);
    fn[n] = '\0';
    return err_set(err, "%s failed: %s (%d) at %s:%d", fn, clctx_err_name(code), code, file, line);
}

static cl_device_type devtype_mask(DevType t)
{
    switch (t) {
    case DEVTYPE_GPU: return CL_DEVICE_TYPE_GPU;
    case DEVTYPE_CPU: return CL_DEVICE_TYPE_CPU;
    case DEVTYPE_ACCELERATOR: return CL_DEVICE_TYPE_ACCELERATOR;
    case DEVTYPE_ANY: break;
    }
    return CL_DEVICE_TYPE_ALL;
}

static const char *devtype_str(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return "gpu";
    if (t & CL_DEVICE_TYPE_CPU) return "cpu";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

static void platform_str(cl_platform_id p, cl_platform_info what, char *buf, size_t len)
{
    buf[0] = '\0';
    if (clGetPlatformInfo(p, what, len, buf, NULL) != CL_SUCCESS) snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

static void device_str(cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, len, buf, NULL) != CL_SUCCESS) snprintf(buf, len, "?");
    buf[len - 1] = '\0';
}

/* Platforms, or 0 platforms (not an error: the caller explains). */
static int get_platforms(cl_platform_id *ids, cl_uint *n, Err *err)
{
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, ids, n);
    if (rc == CL_PLATFORM_NOT_FOUND_KHR) { /* the ICD loader found no driver */
        *n = 0;
        return 0;
    }
    CL_CHECK(rc);
    if (*n > MAX_PLATFORMS) *n = MAX_PLATFORMS;
    return 0;
fail:
    return -1;
}

static cl_uint get_devices(cl_platform_id p, cl_device_type mask, cl_device_id *ids)
{
    cl_uint n = 0;
    if (clGetDeviceIDs(p, mask, MAX_DEVICES, ids, &n) != CL_SUCCESS) return 0;
    return n > MAX_DEVICES ? MAX_DEVICES : n;
}

int clctx_list(FILE *out, Err *err)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    if (get_platforms(plats, &np, err)) return -1;
    if (np == 0) {
        fprintf(out, "no OpenCL platforms found (is an ICD installed? on Debian: apt-get install pocl-opencl-icd)\n");
        return 0;
    }
    for (cl_uint p = 0; p < np; p++) {
        char name[256], vendor[256], version[256];
        platform_str(plats[p], CL_PLATFORM_NAME, name, sizeof name);
        platform_str(plats[p], CL_PLATFORM_VENDOR, vendor, sizeof vendor);
        platform_str(plats[p], CL_PLATFORM_VERSION, version, sizeof version);
        fprintf(out, "platform %u: %s (%s, %s)\n", p, name, vendor, version);
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = get_devices(plats[p], CL_DEVICE_TYPE_ALL, devs);
        for (cl_uint d = 0; d < nd; d++) {
            char dname[256], dvendor[256], cver[256];
            cl_device_type type = 0;
            cl_uint cu = 0;
            cl_ulong mem = 0;
            size_t wg = 0;
            device_str(devs[d], CL_DEVICE_NAME, dname, sizeof dname);
            device_str(devs[d], CL_DEVICE_VENDOR, dvendor, sizeof dvendor);
            device_str(devs[d], CL_DEVICE_OPENCL_C_VERSION, cver, sizeof cver);
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
            clGetDeviceInfo(devs[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
            fprintf(out,
                    "  device %u:%u  type=%s  vendor=%s  name=%s  compute_units=%u  "
                    "global_mem=%.1f MiB  max_work_group=%zu  %s\n",
                    p, d, devtype_str(type), dvendor, dname, cu, (double)mem / (1024.0 * 1024.0), wg,
                    cver);
            /* Which tuning [device] tuning = auto would give it. */
            DeviceId id;
            Tuning t;
            TuningUse use;
            Err terr = {{0}};
            if (clbtune_identify(devs[d], &id, &terr) ||
                clbtune_resolve("auto", &id, &t, &use, &terr)) {
                fprintf(out, "          tuning: unknown (%s)\n", terr.msg);
                continue;
            }
            if (use.path[0]) fprintf(out, "          tuning: %s (%s)\n", use.path, use.note);
            else fprintf(out, "          tuning: none (%s)\n", use.note);
            if (use.warning[0]) fprintf(out, "          warning: %s\n", use.warning);
        }
        if (nd == 0) fprintf(out, "  (no devices)\n");
    }
    return 0;
}

static int all_digits(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return n == 0;
}

/* One line naming every device, for "nothing matched" errors. */
static void describe_all(char *buf, size_t len, cl_platform_id *plats, cl_uint np)
{
    size_t used = 0;
    buf[0] = '\0';
    for (cl_uint p = 0; p < np; p++) {
        char pname[256];
        platform_str(plats[p], CL_PLATFORM_NAME, pname, sizeof pname);
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = get_devices(plats[p], CL_DEVICE_TYPE_ALL, devs);
        for (cl_uint d = 0; d < nd && used < len; d++) {
            char dname[256];
            cl_device_type type = 0;
            device_str(devs[d], CL_DEVICE_NAME, dname, sizeof dname);
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            int k = snprintf(buf + used, len - used, "%s%u:%u %s / %s (%s)", used ? "; " : "", p, d,
                             pname, dname, devtype_str(type));
            if (k > 0) used += (size_t)k;
        }
    }
    if (!buf[0]) snprintf(buf, len, "no OpenCL devices at all");
}

/* Finds the device; fills ctx->platform/device and their indices. */
static int select_device(ClCtx *ctx, const Config *cfg, Err *err)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    if (get_platforms(plats, &np, err)) return -1;
    if (np == 0)
        return err_set(err, "no OpenCL platform found: install an OpenCL driver (on Debian: "
                            "apt-get install pocl-opencl-icd for the CPU) and check `clinfo -l`");
    cl_device_type mask = devtype_mask(cfg->type);
    int want_pidx = all_digits(cfg->platform) ? atoi(cfg->platform) : -1;
    int want_didx = all_digits(cfg->device) ? atoi(cfg->device) : -1;

    for (cl_uint p = 0; p < np; p++) {
        char pname[256];
        platform_str(plats[p], CL_PLATFORM_NAME, pname, sizeof pname);
        if (want_pidx >= 0 && (int)p != want_pidx) continue;
        if (want_pidx < 0 && cfg->platform[0] && !contains_ci(pname, cfg->platform)) continue;
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = get_devices(plats[p], mask, devs);
        for (cl_uint d = 0; d < nd; d++) {
            char dname[256];
            device_str(devs[d], CL_DEVICE_NAME, dname, sizeof dname);
            if (want_didx >= 0 ? (int)d != want_didx : !contains_ci(dname, cfg->device)) continue;
            ctx->platform = plats[p];
            ctx->device = devs[d];
            ctx->platform_index = (int)p;
            /* Record the index among all of the platform's devices, the
             * numbering `clae devices` prints. */
            cl_device_id all[MAX_DEVICES];
            cl_uint na = get_devices(plats[p], CL_DEVICE_TYPE_ALL, all);
            ctx->device_index = (int)d;
            for (cl_uint a = 0; a < na; a++)
                if (all[a] == devs[d]) ctx->device_index = (int)a;
            return 0;
        }
    }
    char avail[700];
    describe_all(avail, sizeof avail, plats, np);
    err_set(err,
                   "no OpenCL device matches [device] platform='%s' device='%s' type=%s; "
                   "available: %s (see `clae devices`)",
                   cfg->platform, cfg->device, config_devtype_name(cfg->type), avail);
    return -2;
}

/* "OpenCL 3.0 ..." -> 30; unknown -> 12. */
static int platform_version(cl_platform_id p)
{
    char v[256];
    platform_str(p, CL_PLATFORM_VERSION, v, sizeof v);
    int major = 1, minor = 2;
    if (sscanf(v, "OpenCL %d.%d", &major, &minor) != 2) return 12;
    return major * 10 + minor;
}

int clctx_find(const Config *cfg, int *platform_index, int *device_index, Err *err)
{
    ClCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    int sel = select_device(&ctx, cfg, err);
    if (sel) return sel;
    *platform_index = ctx.platform_index;
    *device_index = ctx.device_index;
    return 0;
}

/* The in-order queue, with or without profiling. */
static int make_queue(ClCtx *ctx, int profiling, Err *err)
{
    cl_int rc = CL_SUCCESS;
    /* clCreateCommandQueue is deprecated from 2.0 on, and the replacement
     * does not exist on 1.x platforms: pick by the platform's version. */
    if (platform_version(ctx->platform) >= 20) {
        cl_queue_properties qp[] = {CL_QUEUE_PROPERTIES,
                                    profiling ? CL_QUEUE_PROFILING_ENABLE : 0, 0};
        ctx->queue = clCreateCommandQueueWithProperties(ctx->context, ctx->device, qp, &rc);
        CL_CHECK(rc);
    } else {
        ctx->queue = clCreateCommandQueue(ctx->context, ctx->device,
                                          profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &rc);
        CL_CHECK(rc);
    }
    ctx->profiling = profiling;
    return 0;
fail:
    return -1;
}

int clctx_set_profiling(ClCtx *ctx, int profiling, Err *err)
{
    if (ctx->profiling == profiling) return 0;
    CL_CHECK(clFinish(ctx->queue));
    CL_CHECK(clReleaseCommandQueue(ctx->queue));
    ctx->queue = NULL;
    return make_queue(ctx, profiling, err);
fail:
    return -1;
}

int clctx_create(ClCtx *ctx, const Config *cfg, int profiling, Err *err)
{
    memset(ctx, 0, sizeof *ctx);
    int sel = select_device(ctx, cfg, err);
    if (sel) return sel;
    platform_str(ctx->platform, CL_PLATFORM_NAME, ctx->platform_name, sizeof ctx->platform_name);
    device_str(ctx->device, CL_DEVICE_NAME, ctx->device_name, sizeof ctx->device_name);
    device_str(ctx->device, CL_DEVICE_VERSION, ctx->device_version, sizeof ctx->device_version);
    device_str(ctx->device, CL_DRIVER_VERSION, ctx->driver_version, sizeof ctx->driver_version);
    device_str(ctx->device, CL_DEVICE_OPENCL_C_VERSION, ctx->opencl_c_version,
               sizeof ctx->opencl_c_version);
    CL_CHECK(clGetDeviceInfo(ctx->device, CL_DEVICE_TYPE, sizeof ctx->type, &ctx->type, NULL));
    CL_CHECK(clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof ctx->max_work_group,
                             &ctx->max_work_group, NULL));
    CL_CHECK(clGetDeviceInfo(ctx->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ctx->global_mem,
                             &ctx->global_mem, NULL));
    CL_CHECK(clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ctx->max_alloc,
                             &ctx->max_alloc, NULL));
    CL_CHECK(clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof ctx->compute_units,
                             &ctx->compute_units, NULL));

    cl_int rc = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &rc);
    CL_CHECK(rc);

    if (make_queue(ctx, profiling, err)) goto fail;
    ctx->profiling = profiling;
    if (clbtune_identify(ctx->device, &ctx->id, err)) goto fail;
    int rc_tune = clctx_tune(ctx, cfg->tuning, err);
    if (rc_tune) {
        clctx_destroy(ctx);
        return rc_tune;
    }
    return 0;
fail:
    clctx_destroy(ctx);
    return -1;
}

int clctx_tune(ClCtx *ctx, const char *setting, Err *err)
{
    Tuning t;
    int rc = clbtune_resolve(setting, &ctx->id, &t, &ctx->tuning, err);
    if (rc) return rc;
    if (clbtune_apply(ctx->device, &t, err)) return -1;
    clctx_gemm_tuning(ctx, &t);
    return 0;
}

void clctx_gemm_tuning(ClCtx *ctx, const Tuning *t)
{
    ctx->gemm_layout = t->layout;
    ctx->gemm_n_routes = t->n_routes;
    memcpy(ctx->gemm_route, t->route, sizeof t->route);
    ctx->gemm_has_min_indirect = t->has[TK_GEMM_ROUTINE];
    ctx->gemm_min_indirect = t->value[TK_GEMM_ROUTINE][0];
}

void clctx_print_tuning(const ClCtx *ctx, FILE *out, FILE *warn)
{
    const TuningUse *u = &ctx->tuning;
    if (out && u->path[0]) fprintf(out, "tuning: %s (hash %s): %s\n", u->path, u->hash, u->note);
    else if (out) fprintf(out, "tuning: none: %s\n", u->note);
    if (u->warning[0]) fprintf(warn, "clae: warning: %s\n", u->warning);
}

cl_mem clctx_buffer(ClCtx *ctx, size_t bytes, const void *host, Err *err)
{
    cl_int rc = CL_SUCCESS;
    /* OpenCL rejects empty buffers; an empty data set still gets one. */
    cl_mem b = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &rc);
    CL_CHECK(rc);
    if (host && bytes)
        CL_CHECK(clEnqueueWriteBuffer(ctx->queue, b, CL_TRUE, 0, bytes, host, 0, NULL, NULL));
    return b;
fail:
    if (b) clReleaseMemObject(b);
    err_prefix(err, "device buffer of %zu bytes", bytes);
    return NULL;
}

void clctx_destroy(ClCtx *ctx)
{
    if (!ctx) return;
    if (ctx->queue) clReleaseCommandQueue(ctx->queue);
    if (ctx->context) clReleaseContext(ctx->context);
    ctx->queue = NULL;
    ctx->context = NULL;
}
