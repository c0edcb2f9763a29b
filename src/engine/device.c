/* device: see device.h. */
#include "device.h"

#include <string.h>

int device_open(Device *d, const Config *cfg, const char *cl_dir, Err *err)
{
    memset(d, 0, sizeof *d);
    int rc = clctx_create(&d->ctx, cfg, 0, err);
    if (rc) return rc == -2 ? -2 : -1;
    d->open = 1;
    char dir[4096];
    const char *source = NULL;
    if (kernels_find_dir(cl_dir, dir, sizeof dir, &source, err) ||
        kernels_create(&d->k, &d->ctx, dir, source, err)) {
        device_close(d);
        return -1;
    }
    return 0;
}

void device_close(Device *d)
{
    if (!d || !d->open) return;
    if (d->ctx.queue) clFinish(d->ctx.queue);
    kernels_destroy(&d->k);
    clctx_destroy(&d->ctx);
    d->open = 0;
}
