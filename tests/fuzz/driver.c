/* driver: runs a fuzz harness over files, without libFuzzer.
 *
 *   fuzz_<reader>_corpus FILE_OR_FOLDER...
 *
 * Calls LLVMFuzzerTestOneInput once per file (the files of a folder in name
 * order; hidden files skipped) and prints how many it fed. This is how the
 * seed corpus and every input that ever crashed a harness run in the
 * ordinary test suite, with GCC as well as clang, with or without the
 * sanitizers: a crash, an abort from a broken promise or a sanitizer report
 * fails the test. A missing argument is an error: a regression input that
 * quietly went missing must not pass. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    size_t len = 0;
    char *data = fuzz_slurp(path, &len);
    if (!data) {
        fprintf(stderr, "driver: %s: cannot read\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every plain file of dir, in name order; returns the count or -1. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) names = realloc(names, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, by_name);
    int fed = 0;
    for (int i = 0; i < n; i++) {
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path)) fed = -1;
            else if (fed >= 0) fed++;
        }
        free(names[i]);
    }
    free(names);
    return fed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_FOLDER...\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "driver: %s: no such file or folder\n", argv[i]);
            return 1;
        }
        int n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0) return 1;
        printf("%s: %d input%s\n", argv[i], n, n == 1 ? "" : "s");
        total += n;
    }
    printf("%d inputs, no crash\n", total);
    return 0;
}
