/* clbtune: which CLBlast parameters a device runs with.
 *
 * Owns: a device's identity as tuning files name it (platform, device name,
 * driver, CLBlast version, and for PoCL's CPU device its class by
 * instruction set), finding the tuning that applies ([device] tuning =
 * auto | none | PATH), the checks of a tuning against the device's limits
 * (work-group sizes, local memory), and handing a Tuning to CLBlast
 * (CLBlastOverrideParameters, which holds it for the rest of the process).
 *
 * auto looks, in order, for the file `clae tune` wrote for exactly this
 * device ($XDG_CACHE_HOME/clae/tuning/, else ~/.cache/clae/tuning/), then a
 * shipped file for the device's class ($CLAE_TUNING_DIR alone when set, else
 * the installed <prefix>/share/clae/tuning, then the source tree's tuning/),
 * the class itself
 * first and then the next lower one, and else leaves CLBlast's own
 * parameters. A file auto finds but cannot use is a warning, never an
 * error; a file given by PATH must be right for the device (exit 2). */
#ifndef CLAE_CLBTUNE_H
#define CLAE_CLBTUNE_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#endif
#include <CL/cl.h>

#include "tuning.h"
#include "util.h"

typedef struct {
    char platform[TUNING_TEXT];  /* CL_PLATFORM_NAME */
    char device[TUNING_TEXT];    /* CL_DEVICE_NAME */
    char driver[TUNING_TEXT];    /* CL_DRIVER_VERSION */
    char vendor[TUNING_TEXT];    /* CL_DEVICE_VENDOR (not part of the identity) */
    char clblast[32];            /* the CLBlast clae was built against */
    char device_class[64];       /* "pocl-cpu-avx512", "pocl-cpu-avx2", "pocl-cpu-generic"
                                    for PoCL's CPU device, else "" */
    size_t max_work_group;       /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t max_item[3];          /* CL_DEVICE_MAX_WORK_ITEM_SIZES */
    size_t local_mem;            /* CL_DEVICE_LOCAL_MEM_SIZE */
} DeviceId;

/* Which tuning a device got, for the console, run.json and `clae devices`. */
typedef struct {
    char source[16];   /* "none" (CLBlast's own), "cache", "shipped" or "file" */
    char path[4096];   /* the file applied; "" for none */
    char hash[17];     /* tuning_hash as 16 hex digits; "" for none */
    char note[1024];   /* why this one, or why none ("no tuning file for this device: run
                          clae tune"; "shipped for pocl-cpu-avx2, the closest below this
                          device's pocl-cpu-avx512") */
    char warning[1024];/* a file auto found but could not use, "" if none */
} TuningUse;

/* Fills id from the device (and its platform). */
int clbtune_identify(cl_device_id dev, DeviceId *id, Err *err);

/* The class of a PoCL CPU device from its LLVM CPU name (POCL_LLVM_CPU_NAME
 * when set, since PoCL then compiles for it, else the device name):
 * pocl-cpu-avx512, pocl-cpu-avx2, or pocl-cpu-generic; "" for other
 * platforms and device types. */
void clbtune_class(const char *platform, const char *device, cl_device_type type, char *out,
                   size_t len);

/* $XDG_CACHE_HOME/clae/tuning/<device slug>-<hash of the identity>.ini (or
 * under ~/.cache): where `clae tune` saves, one file per device, driver and
 * CLBlast version. -1 when neither variable is set. */
int clbtune_cache_path(const DeviceId *id, char *path, size_t len, Err *err);

/* Checks t against the device's limits (work-group sizes and local memory of
 * every kernel that has a section) and its identity (platform and device,
 * or class; CLBlast version). Errors name the file (path) and the key. */
int clbtune_check(const Tuning *t, const DeviceId *id, const char *path, Err *err);

/* Resolves `setting` (auto, none, or a path) for the device into *t and
 * *use. Returns 0 (t has no sections when use->source is "none"), -2 when a
 * PATH file is unreadable, malformed or not for this device (err says
 * which), -1 on other errors. */
int clbtune_resolve(const char *setting, const DeviceId *id, Tuning *t, TuningUse *use, Err *err);

/* Hands every kernel section of t to CLBlast for dev (single precision).
 * CLBlast keeps them for the rest of the process; the next GEMM compiles
 * with them. */
int clbtune_apply(cl_device_id dev, const Tuning *t, Err *err);

#endif
