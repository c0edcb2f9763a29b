/* check: the tiny test helper every tests/test_<module>.c uses.
 *
 * CHECK(cond, fmt, ...) records a failure with file:line and the message and
 * carries on; check_done() prints "N passed, N failed" and returns the exit
 * status (non-zero on any failure), so a failing test always fails CTest.
 * The counters are per-process test state, not library state. */
#ifndef CLAE_CHECK_H
#define CLAE_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
