/* util: small host helpers shared by every module.
 *
 * Owns: the Err message buffer convention, atomic file writes, checked
 * allocation. Every fallible function in clae returns 0 on success and -1 on
 * failure, filling an Err with one line (no trailing newline) that names the
 * file, line, key or value at fault and what would be accepted. The caller
 * that understands the context prints it; nothing here calls exit(). */
#ifndef CLAE_UTIL_H
#define CLAE_UTIL_H

#include <stddef.h>
#include <stdio.h>

#define ERR_MSG_LEN 1024

typedef struct {
    char msg[ERR_MSG_LEN]; /* one line, NUL-terminated; "" when no error */
} Err;

/* Formats msg into err (truncating if needed); NULL err is allowed. Returns -1
 * so that error paths can be written `return err_set(err, ...);`. */
int err_set(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes err->msg with "prefix: " (e.g. a file name). Returns -1. */
int err_prefix(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* malloc/calloc that report the size and the caller's location through err
 * on failure. The caller frees the result with free(). */
void *util_malloc(size_t n, Err *err);
void *util_calloc(size_t count, size_t size, Err *err);

/* Writes len bytes to path through "path.tmp.PID" then rename(), so a reader
 * never sees a half-written file under the final name. */
int util_write_file_atomic(const char *path, const void *data, size_t len, Err *err);

/* Opens "path.tmp.PID" for writing; util_atomic_commit closes it and renames
 * it to path (or removes it and fails if any write failed). tmp_path must hold
 * at least 4096 bytes. util_atomic_abort closes and removes it. */
FILE *util_atomic_open(const char *path, char *tmp_path, size_t tmp_len, Err *err);
int util_atomic_commit(FILE *f, const char *tmp_path, const char *path, Err *err);
void util_atomic_abort(FILE *f, const char *tmp_path);

/* Appends len bytes to fd (opened with O_APPEND) all or nothing: when a
 * write fails or comes up short (disk full, file size limit), the file is
 * cut back to its size before the call, so a reader never sees half a
 * record. Returns 0, or -1 with errno saying why (EIO for a write that took
 * nothing and said nothing). */
int util_append_whole(int fd, const void *data, size_t len);

/* Reads a whole file into a NUL-terminated malloc'd buffer; *len gets the
 * byte count (without the NUL). The caller frees it. */
char *util_read_file(const char *path, size_t *len, Err *err);

/* Copies src into dst (cap bytes), cutting it short if needed; always
 * NUL-terminates (cap > 0). Returns 0, or -1 when it was cut. */
int util_copy(char *dst, size_t cap, const char *src);

/* mkdir -p: creates path and its missing parents (0777 before umask);
 * existing folders are fine. The error names the folder that failed. */
int util_make_dirs(const char *path, Err *err);

/* snprintf into a message buffer (cap > 0), cut short when it does not fit:
 * for notes and messages, where a cut is harmless. */
void util_fmt(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* <prefix>/share/clae/<name> for the running executable <prefix>/bin/clae
 * (found from /proc/self/exe, so that an installed tree can move) into
 * out, as it is (not resolved, maybe missing); -1 when the executable's
 * path cannot be read. */
int util_share_dir(const char *name, char *out, size_t len);

/* 1 if path is an existing directory, else 0. */
int util_is_dir(const char *path);

/* Monotonic wall-clock seconds, for timings. */
double util_now(void);

#endif
