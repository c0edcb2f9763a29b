/* fuzz: what the fuzz harnesses share.
 *
 * Each tests/fuzz/fuzz_<reader>.c defines LLVMFuzzerTestOneInput, the
 * libFuzzer entry point, and feeds its bytes to one of clae's readers the way
 * clae itself reads that file: most readers take a path, so the bytes are
 * written to a file in a scratch folder first. The same harness is built two
 * ways (CMakeLists.txt): with clang's libFuzzer under ASan and UBSan
 * (CLAE_FUZZ=ON, .ci/run runs each for a bounded time), and with any
 * compiler against driver.c, whose main() feeds the seed corpus and every
 * input that ever crashed a harness, as an ordinary CTest test.
 *
 * A harness aborts (FUZZ_ASSERT) when a reader breaks a promise that its
 * header makes, so a wrong answer counts as a crash, not only a memory error. */
#ifndef CLAE_FUZZ_H
#define CLAE_FUZZ_H

#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                   \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: broken promise: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                      \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            abort();                                                             \
        }                                                                        \
    } while (0)

static char fuzz_scratch[512]; /* see fuzz_dir */

/* Removes path and, for a folder, everything under it. */
static inline void fuzz_remove(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            char sub[4200];
            if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                fuzz_remove(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void fuzz_cleanup(void)
{
    if (fuzz_scratch[0]) fuzz_remove(fuzz_scratch);
}

/* The harness process's scratch folder, made on first use ($TMPDIR or /tmp)
 * and removed at exit: a harness writes a handful of small files there and
 * overwrites them for every input. Harness state, not library state:
 * libFuzzer's entry point has no context argument. */
static inline const char *fuzz_dir(void)
{
    char *dir = fuzz_scratch;
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof fuzz_scratch, "%s/clae-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return dir;
}

/* fuzz_dir()/name into path (len bytes). */
static inline void fuzz_path(char *path, size_t len, const char *name)
{
    snprintf(path, len, "%s/%s", fuzz_dir(), name);
}

/* Writes size bytes to fuzz_dir()/name (replacing it); returns the path in
 * path (len bytes). */
static inline void fuzz_write(const char *name, const uint8_t *data, size_t size, char *path,
                              size_t len)
{
    fuzz_path(path, len, name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* A whole file into a malloc'd NUL-terminated buffer (NULL if missing). */
static inline char *fuzz_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n + 1 < cap) break;
        buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* The number of fields of text (len bytes) when it is exactly one
 * well-formed RFC 4180 record ending in "\n" (quoted fields may hold commas,
 * doubled quotes and newlines); -1 when it is not. The first field, unquoted,
 * goes to first (cap bytes) when first is not NULL. */
static inline int fuzz_csv_record(const char *text, size_t len, char *first, size_t cap)
{
    int fields = 1, quoted = 0, at_field_start = 1;
    size_t fl = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < len && text[i + 1] == '"') i++;
            else if (c == '"') quoted = 0;
            else if (fields == 1 && first && fl + 1 < cap) first[fl++] = c;
            continue;
        }
        if (c == '"' && at_field_start) {
            quoted = 1;
            at_field_start = 0;
        } else if (c == '"') {
            return -1; /* a quote inside an unquoted field */
        } else if (c == ',') {
            fields++;
            at_field_start = 1;
        } else if (c == '\n') {
            if (first && cap) first[fl] = '\0';
            return i == len - 1 ? fields : -1;
        } else {
            if (fields == 1 && first && fl + 1 < cap) first[fl++] = c;
            at_field_start = 0;
        }
    }
    return -1; /* no final newline, or an open quote */
}

#endif
