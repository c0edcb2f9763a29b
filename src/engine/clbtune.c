/* clbtune: see clbtune.h. */
#define _DEFAULT_SOURCE /* realpath */
#include "clbtune.h"

#include <clblast_c.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clctx.h"

#ifndef CLAE_SOURCE_TUNING_DIR
#error "CLAE_SOURCE_TUNING_DIR must be defined by the build (the source tree's tuning/ folder)"
#endif

/* ---- identity ------------------------------------------------------------ */

static int info_str(cl_device_id dev, cl_device_info what, char *out, size_t len, Err *err)
{
    size_t n = 0;
    CL_CHECK(clGetDeviceInfo(dev, what, len - 1, out, &n));
    out[n < len ? n : len - 1] = '\0';
    /* Some drivers pad names with spaces; file values are trimmed. */
    for (size_t i = strlen(out); i > 0 && isspace((unsigned char)out[i - 1]); i--) out[i - 1] = '\0';
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20) *p = ' ';
    return 0;
fail:
    return -1;
}

/* LLVM CPU names with AVX-512 and with AVX2 (and FMA), as PoCL puts them in
 * its device name ("pthread-znver3-AMD EPYC 7B13"). AVX-512 is tested first:
 * "skylake-avx512" also contains "skylake". */
static const char *const AVX512_CPUS[] = {
    "avx512", "x86-64-v4", "cascadelake", "cooperlake", "icelake", "tigerlake", "rocketlake",
    "sapphirerapids", "graniterapids", "emeraldrapids", "cannonlake", "znver4", "znver5", "knl",
    "knm", NULL};
static const char *const AVX2_CPUS[] = {
    "x86-64-v3", "haswell", "broadwell", "skylake", "kabylake", "coffeelake", "cometlake",
    "alderlake", "raptorlake", "meteorlake", "arrowlake", "lunarlake", "gracemont", "znver1",
    "znver2", "znver3", "bdver4", "core-avx2", NULL};

static int has_any(const char *s, const char *const *names)
{
    for (; *names; names++)
        if (strstr(s, *names)) return 1;
    return 0;
}

void clbtune_class(const char *platform, const char *device, cl_device_type type, char *out,
                   size_t len)
{
    out[0] = '\0';
    if (!strstr(platform, "Portable Computing Language") || !(type & CL_DEVICE_TYPE_CPU)) return;
    const char *cpu = getenv("POCL_LLVM_CPU_NAME");
    if (!cpu || !*cpu) cpu = device;
    char lower[TUNING_TEXT];
    size_t i = 0;
    for (; cpu[i] && i + 1 < sizeof lower; i++) lower[i] = (char)tolower((unsigned char)cpu[i]);
    lower[i] = '\0';
    const char *cls = has_any(lower, AVX512_CPUS) ? "pocl-cpu-avx512"
                      : has_any(lower, AVX2_CPUS) ? "pocl-cpu-avx2"
                                                  : "pocl-cpu-generic";
    snprintf(out, len, "%s", cls);
}

int clbtune_identify(cl_device_id dev, DeviceId *id, Err *err)
{
    memset(id, 0, sizeof *id);
    cl_platform_id plat;
    cl_device_type type = 0;
    cl_ulong local = 0;
    CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_PLATFORM, sizeof plat, &plat, NULL));
    size_t n = 0;
    CL_CHECK(clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof id->platform - 1, id->platform, &n));
    id->platform[n < sizeof id->platform ? n : sizeof id->platform - 1] = '\0';
    if (info_str(dev, CL_DEVICE_NAME, id->device, sizeof id->device, err) ||
        info_str(dev, CL_DRIVER_VERSION, id->driver, sizeof id->driver, err) ||
        info_str(dev, CL_DEVICE_VENDOR, id->vendor, sizeof id->vendor, err))
        return -1;
    CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL));
    CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof id->max_work_group,
                             &id->max_work_group, NULL));
    CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof id->max_item, id->max_item,
                             NULL));
    CL_CHECK(clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL));
    id->local_mem = (size_t)local;
    snprintf(id->clblast, sizeof id->clblast, "%s", CLAE_CLBLAST_VERSION);
    clbtune_class(id->platform, id->device, type, id->device_class, sizeof id->device_class);
    return 0;
fail:
    return -1;
}

/* ---- where files are ----------------------------------------------------- */

int clbtune_cache_path(const DeviceId *id, char *path, size_t len, Err *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[3000];
    if (xdg && *xdg) snprintf(base, sizeof base, "%s/clae/tuning", xdg);
    else if (home && *home) snprintf(base, sizeof base, "%s/.cache/clae/tuning", home);
    else return err_set(err, "neither XDG_CACHE_HOME nor HOME is set: no tuning cache folder");
    /* The name is readable (the device) and unique (a hash of everything a
     * tuning depends on), so two devices never share a file. */
    char slug[64];
    size_t j = 0;
    for (const char *p = id->device; *p && j + 1 < sizeof slug; p++)
        slug[j++] = isalnum((unsigned char)*p) || *p == '.' || *p == '_' ? *p : '-';
    slug[j] = '\0';
    uint64_t h = 1469598103934665603ULL;
    const char *parts[4] = {id->platform, id->device, id->driver, id->clblast};
    for (int i = 0; i < 4; i++)
        for (const char *p = parts[i]; ; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
            if (!*p) break;
        }
    if (snprintf(path, len, "%s/%s-%08x.ini", base, slug, (unsigned)(h ^ (h >> 32))) >= (int)len)
        return err_set(err, "%s: tuning cache path too long", base);
    return 0;
}

/* The folders that may hold shipped class files, in search order. */
static int shipped_dirs(char dirs[3][4096])
{
    int n = 0;
    const char *env = getenv("CLAE_TUNING_DIR");
    if (env && *env) { /* instead of the others, as CLAE_CL_DIR is for kernels */
        snprintf(dirs[n++], 4096, "%s", env);
        return n;
    }
    char inst[4200], real[PATH_MAX];
    if (util_share_dir("tuning", inst, sizeof inst) == 0 && util_is_dir(inst) &&
        realpath(inst, real))
        snprintf(dirs[n++], 4096, "%s", real);
    snprintf(dirs[n++], 4096, "%s", CLAE_SOURCE_TUNING_DIR);
    return n;
}

/* ---- checks -------------------------------------------------------------- */

static int fits_group(const char *path, const char *kernel, const char *what, size_t x, size_t y,
                      const DeviceId *id, Err *err)
{
    if (x * y > id->max_work_group || x > id->max_item[0] || y > id->max_item[1])
        return err_set(err, "%s: [%s] %s gives work-groups of %zu x %zu; this device allows %zu "
                            "work-items (%zu x %zu)",
                       path, kernel, what, x, y, id->max_work_group, id->max_item[0],
                       id->max_item[1]);
    return 0;
}

static int fits_local(const char *path, const char *kernel, const char *what, size_t bytes,
                      const DeviceId *id, Err *err)
{
    if (bytes > id->local_mem)
        return err_set(err, "%s: [%s] %s need %zu bytes of local memory; this device has %zu",
                       path, kernel, what, bytes, id->local_mem);
    return 0;
}

static size_t pv(const Tuning *t, int k, const char *name)
{
    const TuningKernelInfo *ki = tuning_kernel(k);
    for (int i = 0; i < ki->n_params; i++)
        if (strcmp(ki->params[i], name) == 0) return t->value[k][i];
    return 0;
}

/* Work-group shape and local memory of each kernel, as CLBlast's tuners
 * compute them (src/tuning/kernels/ *.hpp). */
static int check_limits(const Tuning *t, const DeviceId *id, const char *path, Err *err)
{
    const size_t F = sizeof(float);
    if (t->has[TK_XGEMM]) {
        size_t kwg = pv(t, TK_XGEMM, "KWG");
        if (fits_group(path, "Xgemm", "MDIMC x NDIMC", pv(t, TK_XGEMM, "MDIMC"),
                       pv(t, TK_XGEMM, "NDIMC"), id, err) ||
            fits_local(path, "Xgemm", "SA, SB, KWG, MWG and NWG",
                       F * (pv(t, TK_XGEMM, "SA") * kwg * pv(t, TK_XGEMM, "MWG") +
                            pv(t, TK_XGEMM, "SB") * kwg * pv(t, TK_XGEMM, "NWG")),
                       id, err))
            return -1;
    }
    if (t->has[TK_XGEMM_DIRECT]) {
        size_t wgd = pv(t, TK_XGEMM_DIRECT, "WGD");
        if (fits_group(path, "XgemmDirect", "MDIMCD x NDIMCD", pv(t, TK_XGEMM_DIRECT, "MDIMCD"),
                       pv(t, TK_XGEMM_DIRECT, "NDIMCD"), id, err) ||
            fits_local(path, "XgemmDirect", "WGD, PADA and PADB",
                       F * (wgd * (wgd + pv(t, TK_XGEMM_DIRECT, "PADA")) +
                            wgd * (wgd + pv(t, TK_XGEMM_DIRECT, "PADB"))),
                       id, err))
            return -1;
    }
    if (t->has[TK_COPY] && fits_group(path, "Copy", "COPY_DIMX x COPY_DIMY",
                                      pv(t, TK_COPY, "COPY_DIMX"), pv(t, TK_COPY, "COPY_DIMY"),
                                      id, err))
        return -1;
    if (t->has[TK_PAD] && fits_group(path, "Pad", "PAD_DIMX x PAD_DIMY", pv(t, TK_PAD, "PAD_DIMX"),
                                     pv(t, TK_PAD, "PAD_DIMY"), id, err))
        return -1;
    if (t->has[TK_TRANSPOSE]) {
        size_t d = pv(t, TK_TRANSPOSE, "TRA_DIM"), w = d * pv(t, TK_TRANSPOSE, "TRA_WPT");
        if (fits_group(path, "Transpose", "TRA_DIM x TRA_DIM", d, d, id, err) ||
            fits_local(path, "Transpose", "TRA_DIM, TRA_WPT and TRA_PAD",
                       F * w * (w + pv(t, TK_TRANSPOSE, "TRA_PAD")), id, err))
            return -1;
    }
    if (t->has[TK_PADTRANSPOSE]) {
        size_t d = pv(t, TK_PADTRANSPOSE, "PADTRA_TILE"), w = d * pv(t, TK_PADTRANSPOSE, "PADTRA_WPT");
        if (fits_group(path, "Padtranspose", "PADTRA_TILE x PADTRA_TILE", d, d, id, err) ||
            fits_local(path, "Padtranspose", "PADTRA_TILE, PADTRA_WPT and PADTRA_PAD",
                       F * w * (w + pv(t, TK_PADTRANSPOSE, "PADTRA_PAD")), id, err))
            return -1;
    }
    return 0;
}

/* PoCL CPU classes from the narrowest instruction set up; -1 for others. */
static const char *const CLASSES[] = {"pocl-cpu-generic", "pocl-cpu-avx2", "pocl-cpu-avx512"};
#define N_CLASSES 3

static int class_rank(const char *c)
{
    for (int i = 0; i < N_CLASSES; i++)
        if (strcmp(c, CLASSES[i]) == 0) return i;
    return -1;
}

int clbtune_check(const Tuning *t, const DeviceId *id, const char *path, Err *err)
{
    if (strcmp(t->clblast, id->clblast) != 0)
        return err_set(err, "%s: [device] clblast = %s: the file is for CLBlast %s, clae runs "
                            "CLBlast %s (run clae tune again)",
                       path, t->clblast, t->clblast, id->clblast);
    if (t->device_class[0]) {
        /* A class file runs on its class and on wider ones: the same kernels,
         * tuned for narrower vectors. */
        int fr = class_rank(t->device_class), dr = class_rank(id->device_class);
        if (fr < 0 || dr < fr)
            return err_set(err, "%s: [device] class = %s: this device (%s) is of class %s",
                           path, t->device_class, id->device,
                           id->device_class[0] ? id->device_class : "none (not PoCL's CPU device)");
    } else if (strcmp(t->platform, id->platform) != 0 || strcmp(t->device, id->device) != 0) {
        return err_set(err, "%s: [device] device = %s on platform %s: the file is for that "
                            "device, not for %s on %s (run clae tune on this one)",
                       path, t->device, t->platform, id->device, id->platform);
    }
    return check_limits(t, id, path, err);
}

/* ---- resolving ----------------------------------------------------------- */

static void use_file(TuningUse *use, const char *source, const char *path, const Tuning *t)
{
    snprintf(use->source, sizeof use->source, "%s", source);
    char real[PATH_MAX];
    snprintf(use->path, sizeof use->path, "%s", realpath(path, real) ? real : path);
    snprintf(use->hash, sizeof use->hash, "%016llx", (unsigned long long)tuning_hash(t));
}

/* Class files, from the device's class down; returns 1 when one applies. */
static int find_shipped(const DeviceId *id, Tuning *t, TuningUse *use)
{
    int start = class_rank(id->device_class);
    if (start < 0) return 0;
    char dirs[3][4096];
    int nd = shipped_dirs(dirs);
    for (int c = start; c >= 0; c--) {
        for (int d = 0; d < nd; d++) {
            char path[4200];
            if (snprintf(path, sizeof path, "%s/%s.ini", dirs[d], CLASSES[c]) >= (int)sizeof path ||
                access(path, F_OK) != 0)
                continue;
            Err e = {{0}};
            if (tuning_read(t, path, &e)) {
                util_fmt(use->warning, sizeof use->warning, "%s", e.msg);
                return -1;
            }
            if (strcmp(t->clblast, id->clblast) != 0) {
                util_fmt(use->note, sizeof use->note, "%s is for CLBlast %s, not %s", path,
                         t->clblast, id->clblast);
                continue;
            }
            if (strcmp(t->device_class, CLASSES[c]) != 0) {
                util_fmt(use->warning, sizeof use->warning, "%s: [device] class = %s, but the "
                         "file's name says %s", path, t->device_class, CLASSES[c]);
                return -1;
            }
            if (clbtune_check(t, id, path, &e)) {
                util_fmt(use->warning, sizeof use->warning, "%s", e.msg);
                return -1;
            }
            use_file(use, "shipped", path, t);
            if (c == start)
                util_fmt(use->note, sizeof use->note, "shipped for this device's class, %s",
                         CLASSES[c]);
            else
                util_fmt(use->note, sizeof use->note, "shipped for %s, the closest class below "
                                                      "this device's %s (no file for it)",
                         CLASSES[c], id->device_class);
            return 1;
        }
    }
    return 0;
}

int clbtune_resolve(const char *setting, const DeviceId *id, Tuning *t, TuningUse *use, Err *err)
{
    memset(use, 0, sizeof *use);
    tuning_init(t);
    snprintf(use->source, sizeof use->source, "none");
    if (strcmp(setting, "none") == 0) {
        util_fmt(use->note, sizeof use->note, "[device] tuning = none: CLBlast's own parameters");
        return 0;
    }
    if (strcmp(setting, "auto") != 0) {
        if (tuning_read(t, setting, err) || clbtune_check(t, id, setting, err)) {
            tuning_init(t);
            return -2;
        }
        if (t->driver[0] && !t->device_class[0] && strcmp(t->driver, id->driver) != 0)
            util_fmt(use->warning, sizeof use->warning,
                     "%s was measured with driver %s; this device runs %s", setting, t->driver,
                     id->driver);
        use_file(use, "file", setting, t);
        util_fmt(use->note, sizeof use->note, "[device] tuning = %s", setting);
        return 0;
    }
    char path[4096];
    Err e = {{0}};
    if (clbtune_cache_path(id, path, sizeof path, &e) == 0 && access(path, F_OK) == 0) {
        if (tuning_read(t, path, &e) || clbtune_check(t, id, path, &e)) {
            tuning_init(t);
            util_fmt(use->warning, sizeof use->warning, "%s; using CLBlast's own parameters", e.msg);
            util_fmt(use->note, sizeof use->note, "the tuning file for this device is unusable");
            return 0;
        }
        use_file(use, "cache", path, t);
        util_fmt(use->note, sizeof use->note, "tuned on this device by clae tune");
        return 0;
    }
    int found = find_shipped(id, t, use);
    if (found > 0) return 0;
    tuning_init(t);
    snprintf(use->source, sizeof use->source, "none");
    use->path[0] = use->hash[0] = '\0';
    if (found < 0) {
        size_t n = strlen(use->warning);
        util_fmt(use->warning + n, sizeof use->warning - n, "; using CLBlast's own parameters");
        util_fmt(use->note, sizeof use->note, "the shipped tuning file is unusable");
    } else if (!use->note[0]) {
        util_fmt(use->note, sizeof use->note, "no tuning file for this device: CLBlast's own "
                                              "parameters (clae tune makes one)");
    } else {
        size_t n = strlen(use->note);
        util_fmt(use->note + n, sizeof use->note - n, ": CLBlast's own parameters");
    }
    (void)err;
    return 0;
}

/* ---- applying ------------------------------------------------------------ */

int clbtune_apply(cl_device_id dev, const Tuning *t, Err *err)
{
    for (int k = 0; k < TK_COUNT; k++) {
        if (!t->has[k]) continue;
        const TuningKernelInfo *ki = tuning_kernel(k);
        CL_CHECK(CLBlastOverrideParameters(dev, ki->name, CLBlastPrecisionSingle,
                                           (size_t)ki->n_params, (const char **)ki->params,
                                           t->value[k]));
    }
    return 0;
fail:
    return -1;
}
