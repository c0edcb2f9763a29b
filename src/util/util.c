/* util: see util.h. */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int err_set(Err *err, const char *fmt, ...)
{
    if (!err) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(Err *err, const char *fmt, ...)
{
    if (!err) return -1;
    char head[ERR_MSG_LEN], old[ERR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* A message longer than the buffer is cut: it stays one readable line. */
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", head, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4);
    return -1;
}

void *util_malloc(size_t n, Err *err)
{
    void *p = malloc(n ? n : 1);
    if (!p) err_set(err, "out of memory allocating %zu bytes", n);
    return p;
}

void *util_calloc(size_t count, size_t size, Err *err)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) err_set(err, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

FILE *util_atomic_open(const char *path, char *tmp_path, size_t tmp_len, Err *err)
{
    int n = snprintf(tmp_path, tmp_len, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= tmp_len) {
        err_set(err, "%s: path too long", path);
        return NULL;
    }
    FILE *f = fopen(tmp_path, "wb");
    if (!f) err_set(err, "%s: cannot create: %s", tmp_path, strerror(errno));
    /* from here on a non-zero errno comes from this file's writes (commit) */
    errno = 0;
    return f;
}

int util_atomic_commit(FILE *f, const char *tmp_path, const char *path, Err *err)
{
    /* stdio keeps the first write error in ferror() but not its errno: a
     * write that failed earlier left errno set (open cleared it), a failing
     * flush now sets it afresh. */
    int e = 0;
    if (fflush(f) != 0 || ferror(f)) e = errno ? errno : EIO;
    if (fclose(f) != 0 && !e) e = errno ? errno : EIO;
    if (e) {
        remove(tmp_path);
        return err_set(err, "%s: write failed: %s", path, strerror(e));
    }
    if (rename(tmp_path, path) != 0) {
        e = errno;
        remove(tmp_path);
        return err_set(err, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return 0;
}

void util_atomic_abort(FILE *f, const char *tmp_path)
{
    if (f) fclose(f);
    remove(tmp_path);
}

int util_write_file_atomic(const char *path, const void *data, size_t len, Err *err)
{
    char tmp[4096];
    FILE *f = util_atomic_open(path, tmp, sizeof tmp, err);
    if (!f) return -1;
    if (len && fwrite(data, 1, len, f) != len) {
        int e = errno ? errno : EIO;
        util_atomic_abort(f, tmp);
        return err_set(err, "%s: write failed: %s", path, strerror(e));
    }
    return util_atomic_commit(f, tmp, path, err);
}

int util_append_whole(int fd, const void *data, size_t len)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    const char *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            /* nothing better to do if this fails too: the error is reported */
            if (done && ftruncate(fd, st.st_size) != 0) { /* keep e */ }
            errno = e;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

char *util_read_file(const char *path, size_t *len, Err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb;
        cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_set(err, "%s: read failed", path);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

void util_fmt(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

int util_make_dirs(const char *path, Err *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return err_set(err, "%.200s...: path too long", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return err_set(err, "%s: cannot create folder: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return err_set(err, "%s: cannot create folder: %s", tmp, strerror(errno));
    return 0;
}

int util_share_dir(const char *name, char *out, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    snprintf(out, len, "%s/../share/clae/%s", exe, name);
    return 0;
}

int util_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

double util_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int util_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    int cut = n >= cap;
    if (cut) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return cut ? -1 : 0;
}
