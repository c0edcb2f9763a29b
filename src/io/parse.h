/* parse: the small value parsers every text format of clae shares (the
 * config's keys and the layer grammar first of all).
 *
 * Owns: trimming, strict whole numbers and doubles (nothing before or
 * after the number; no overflow), the "did you mean" distance between a
 * typed name and a known one. Each parser returns 0 and fills *out, or -1
 * and leaves *out alone; what the caller accepts is the caller's to say.
 * Host only. */
#ifndef CLAE_PARSE_H
#define CLAE_PARSE_H

#include <stddef.h>

/* Copies [begin, end) without surrounding whitespace into dst (cap bytes).
 * Returns -1 if it does not fit. */
int parse_trimmed(char *dst, size_t cap, const char *begin, const char *end);

/* 1 when [s, end) is one or more decimal digits. */
int parse_all_digits(const char *s, const char *end);

/* A whole number in [lo, hi], with nothing before or after it (strtoll
 * alone allows leading blanks and trailing junk). */
int parse_whole(const char *s, double lo, double hi, long long *out);

/* A finite double with nothing before or after it; a denormal is fine, a
 * value that overflowed or vanished to 0 (1e-400) is not. */
int parse_double(const char *s, double *out);

/* "all", or a comma list "1, 5,6" of whole numbers 0..max (blanks around
 * items allowed) into set (n_set >= max + 1 flags): set[v] = 1 for each
 * listed v, every flag for "all". */
int parse_labels(const char *s, int max, unsigned char *set, int n_set);

/* "T-shirt/top, Trouser": up to max_names names, each trimmed, 1..max_len
 * characters (max_len < 64), no two the same, written back into out (cap
 * bytes) joined by ", "; *count gets how many. "" is no names. On failure
 * note says which name is wrong. */
int parse_names(const char *s, int max_names, int max_len, char *out, size_t cap, int *count,
                char *note, size_t note_len);

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps, so
 * "trian" is one edit from "train"), case-insensitive; INT_MAX when either
 * name is 64 characters or longer. */
int parse_edit_distance(const char *a, const char *b);

/* A typo of known, not a different word: one edit, or up to a third of the
 * length. */
int parse_is_close(const char *typed, const char *known);

#endif
