/* parse: see parse.h. */
#include "parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int parse_trimmed(char *dst, size_t cap, const char *begin, const char *end)
{
    while (begin < end && isspace((unsigned char)*begin)) begin++;
    while (end > begin && isspace((unsigned char)end[-1])) end--;
    size_t n = (size_t)(end - begin);
    if (n >= cap) return -1;
    memcpy(dst, begin, n);
    dst[n] = '\0';
    return 0;
}

int parse_all_digits(const char *s, const char *end)
{
    if (s == end) return 0;
    for (; s < end; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

int parse_whole(const char *s, double lo, double hi, long long *out)
{
    if (!*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || (double)v < lo || (double)v > hi) return -1;
    *out = v;
    return 0;
}

int parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s)) return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || (errno == ERANGE && v == 0)) return -1;
    *out = v;
    return 0;
}

int parse_edit_distance(const char *a, const char *b)
{
    enum { M = 64 };
    size_t n = strlen(a), m = strlen(b);
    if (n >= M || m >= M) return INT_MAX;
    int d[M][M];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

int parse_is_close(const char *typed, const char *known)
{
    int d = parse_edit_distance(typed, known);
    size_t n = strlen(typed) > strlen(known) ? strlen(typed) : strlen(known);
    return d <= 1 || (d != INT_MAX && (size_t)d * 3 <= n);
}

int parse_labels(const char *s, int max, unsigned char *set, int n_set)
{
    memset(set, 0, (size_t)n_set);
    if (strcasecmp(s, "all") == 0) {
        memset(set, 1, (size_t)n_set);
        return 0;
    }
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char item[8];
        long long v;
        if (parse_trimmed(item, sizeof item, p, end) || !parse_all_digits(item, item + strlen(item)) ||
            parse_whole(item, 0, max < n_set - 1 ? max : n_set - 1, &v))
            return -1;
        set[v] = 1;
        if (!comma) return 0;
        p = comma + 1;
    }
}

int parse_names(const char *s, int max_names, int max_len, char *out, size_t cap, int *count,
                char *note, size_t note_len)
{
    enum { NAME_CAP = 64 };
    int n = 0;
    size_t used = 0;
    out[0] = '\0';
    *count = 0;
    if (!*s) return 0;
    if (max_len >= NAME_CAP) max_len = NAME_CAP - 1;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char name[NAME_CAP];
        if (n == max_names) {
            snprintf(note, note_len, "more than %d names", max_names);
            return -1;
        }
        if (parse_trimmed(name, (size_t)max_len + 1, p, end)) {
            snprintf(note, note_len, "the name of label %d is longer than %d characters", n,
                     max_len);
            return -1;
        }
        if (!name[0]) {
            snprintf(note, note_len, "the name of label %d is empty", n);
            return -1;
        }
        /* Earlier names are in out, each followed by ", " or the end. */
        const char *q = out;
        for (int i = 0; i < n; i++) {
            const char *next = strstr(q, ", ");
            size_t len = next ? (size_t)(next - q) : strlen(q);
            if (len == strlen(name) && strncmp(q, name, len) == 0) {
                snprintf(note, note_len, "labels %d and %d are both named '%.40s'", i, n, name);
                return -1;
            }
            q = next ? next + 2 : q + len;
        }
        int w = snprintf(out + used, cap - used, "%s%s", n ? ", " : "", name);
        if (w < 0 || (size_t)w >= cap - used) {
            snprintf(note, note_len, "more than %zu characters written out as 'a, b, ...'",
                     cap - 1);
            return -1;
        }
        used += (size_t)w;
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    *count = n;
    return 0;
}
