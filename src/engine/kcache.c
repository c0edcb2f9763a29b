/* kcache: see kcache.h. */
#define _POSIX_C_SOURCE 200809L
#include "kcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define KCACHE_SLOTS 256

int kcache_claim(KCache *kc, Err *err)
{
    kc->fd = -1;
    kc->slot = -1;
    kc->dir[0] = '\0';
    const char *user = getenv("POCL_CACHE_DIR");
    if (user && *user) {
        snprintf(kc->dir, sizeof kc->dir, "%s", user);
        return 0;
    }
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char base[3000];
    if (xdg && *xdg) snprintf(base, sizeof base, "%s/clae/pocl", xdg);
    else if (home && *home) snprintf(base, sizeof base, "%s/.cache/clae/pocl", home);
    else return 0;
    if (util_make_dirs(base, NULL)) return 0; /* read-only home: PoCL's default, as before */
    for (int k = 0; k < KCACHE_SLOTS; k++) {
        char lock[4096];
        snprintf(lock, sizeof lock, "%s/slot-%d.lock", base, k);
        int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) return err_set(err, "%s: cannot open kernel-cache lock: %s", lock, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            snprintf(kc->dir, sizeof kc->dir, "%s/slot-%d", base, k);
            if (util_make_dirs(kc->dir, NULL) || setenv("POCL_CACHE_DIR", kc->dir, 1)) {
                close(fd);
                return err_set(err, "%s: cannot create kernel-cache folder: %s", kc->dir,
                               strerror(errno));
            }
            kc->fd = fd;
            kc->slot = k;
            return 0;
        }
        int e = errno;
        close(fd);
        if (e != EWOULDBLOCK)
            return err_set(err, "%s: cannot lock: %s", lock, strerror(e));
    }
    return err_set(err, "%s: all %d kernel-cache slots are in use by other clae processes; set "
                        "POCL_CACHE_DIR to choose one yourself", base, KCACHE_SLOTS);
}

void kcache_release(KCache *kc)
{
    if (kc && kc->fd >= 0) close(kc->fd);
    if (kc) kc->fd = -1;
}
