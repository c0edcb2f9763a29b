/* check: what every tests/unit/test_<module>.c shares.
 *
 * CHECK(cond, fmt, ...) records a failure with file:line and the message and
 * carries on; check_done() prints "N passed, N failed" and returns the exit
 * status (non-zero on any failure), so a failing test always fails CTest.
 * The counters are per-process test state, not library state. And the
 * fixtures' file helpers: a temporary folder (test_tmpdir, test_rmdir),
 * a whole file read (test_slurp) or written (test_spit, test_spit_text),
 * and the entries of a folder counted (test_count). */
#ifndef CLAE_CHECK_H
#define CLAE_CHECK_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (cond) {                                                             \
            check_passed++;                                                     \
        } else {                                                                \
            check_failed++;                                                     \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Checks that haystack contains needle, printing both when it does not. */
#define CHECK_CONTAINS(haystack, needle)                                        \
    CHECK(strstr((haystack), (needle)) != NULL, "expected \"%s\" in \"%s\"",   \
          (needle), (haystack))

/* A fresh folder /tmp/clae-test-NAME-XXXXXX into dir (len >= 64); a test
 * that cannot make one cannot run, so it exits. */
static inline void test_tmpdir(char *dir, size_t len, const char *name)
{
    snprintf(dir, len, "/tmp/clae-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(EXIT_FAILURE);
    }
}

/* Removes dir and everything in it; 0 on success. */
static inline int test_rmdir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

/* The bytes of path, NUL-terminated, *len their count (len may be NULL);
 * NULL when it cannot be read. The caller frees. */
static inline char *test_slurp(const char *path, size_t *len)
{
    Err err = {{0}};
    return util_read_file(path, len, &err);
}

/* Writes len bytes to path (replacing it); a failure is a failed check. */
static inline void test_spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && (len == 0 || fwrite(data, 1, len, f) == len), "cannot write %s", path);
    if (f) fclose(f);
}

/* test_spit of a NUL-terminated text. */
static inline void test_spit_text(const char *path, const char *text)
{
    test_spit(path, text, strlen(text));
}

/* The entries of dir whose name holds part (every one when part is NULL),
 * "." and hidden names aside. */
static inline int test_count(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && (!part || strstr(e->d_name, part))) n++;
    if (d) closedir(d);
    return n;
}

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
