/* device: bringing a device up for work: the one place where a Config
 * becomes an OpenCL context with its queue and CLBlast tuning (clctx.h)
 * and the clae kernels built for it (kernels.h). Training (trainer.h),
 * inference (run/infer.h) and `clae selftest` all start here.
 *
 * The kernel-cache slot (kcache.h) is the process's, claimed once before
 * the first OpenCL call (cli/); a Device is one use of the device. */
#ifndef CLAE_DEVICE_H
#define CLAE_DEVICE_H

#include "clctx.h"
#include "config.h"
#include "kernels.h"
#include "util.h"

typedef struct {
    ClCtx ctx;   /* context, queue, tuning; owned */
    Kernels k;   /* built programs and kernels; owned; k.ctx points at ctx, so a
                    Device stays where it was opened */
    int open;    /* ctx (and maybe k) hold OpenCL objects */
} Device;

/* Opens the device cfg's [device] keys select, applies its [device] tuning,
 * finds the kernel folder (cl_dir as --cl-dir; NULL for the documented
 * search, kernels.h) and builds the kernels. d is zeroed first. Returns 0;
 * -2 when the config is at fault (no device matches the selection, a
 * tuning file given by path is wrong for it: exit 2); -1 on other
 * failures (d is then closed). */
int device_open(Device *d, const Config *cfg, const char *cl_dir, Err *err);

/* Waits for the queue, then releases the kernels, queue and context; a
 * zeroed or closed Device is fine. */
void device_close(Device *d);

#endif
