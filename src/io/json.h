/* json: the JSON clae reads and writes (run.json).
 *
 * Owns: a strict reader of JSON text held in memory (RFC 8259's grammar:
 * numbers as JSON writes them, every string escape decoded, \uXXXX with
 * surrogate pairs as UTF-8, nesting bounded by JSON_MAX_DEPTH), read
 * field by field through a callback so that a caller keeps only the keys it
 * knows and skips the rest; the first failure is kept as one line,
 * "line:col: what", whatever bytes the text holds. And the two writing
 * helpers: a string with the escapes JSON needs, a number (NaN and
 * infinities as null). Host only. */
#ifndef CLAE_JSON_H
#define CLAE_JSON_H

#include <stddef.h>
#include <stdio.h>

/* jansson (libjansson, which safetensors.c uses) exports json_null,
 * json_object and json_string too: linked under those names, these would
 * take the place of jansson's. They keep their names in the source and
 * link as clae_json_*. */
#define json_null clae_json_null
#define json_object clae_json_object
#define json_string clae_json_string

/* Nesting that json_skip goes through in unknown values; deeper is garbage,
 * and the bound keeps the recursion off the end of the stack. */
#define JSON_MAX_DEPTH 32

typedef struct {
    const char *start, *p, *end; /* the text and the read position in it */
    char why[256];               /* the first failure, "line:col: what" */
} Json;

/* Starts reading len bytes of text (not copied: it must outlive j). */
void json_init(Json *j, const char *text, size_t len);

/* Records "line:col: what" (line and column of the read position) as the
 * failure unless one is recorded already (the first one explains);
 * control characters in what become '?', so that the message stays one
 * line. Returns -1. */
int json_fail(Json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The next byte after white space (not consumed), or -1 at the end. */
int json_peek(Json *j);

/* Consumes c after optional white space; 0 if it was there, else -1 (no
 * failure recorded). */
int json_eat(Json *j, char c);

/* 1 (and the null consumed) when the next value is null, else 0. */
int json_null(Json *j);

/* A string at the read position into out (cap bytes, cut to fit at a
 * character boundary; out NULL skips it), every escape decoded. */
int json_string(Json *j, char *out, size_t cap);

/* A number in JSON's grammar (no hex, inf, nan or leading zeros). */
int json_number(Json *j, double *v);

/* Any value, read and thrown away; depth is the nesting so far. */
int json_skip(Json *j, int depth);

/* The value of member `key` (named in failures): a string, or null ("")
 * where null_ok; a number, or null (NaN) where null_ok; a whole number
 * -1e9..1e9; a whole number 0..2^53, exact in a double (a pid, a tick
 * count). */
int json_get_str(Json *j, const char *key, char *out, size_t cap, int null_ok);
int json_get_num(Json *j, const char *key, double *out, int null_ok);
int json_get_int(Json *j, const char *key, int *out);
int json_get_count(Json *j, const char *key, double *out);

/* Reads the object at the read position, calling field(j, key, ctx) for
 * each member with the read position at its value, which field must
 * consume (json_skip what it does not know). Keys longer than 63 bytes are
 * cut, and then match none. `what` names the object in failures. */
int json_object(Json *j, const char *what, int (*field)(Json *, const char *key, void *ctx),
                void *ctx);

/* 0 when nothing but white space is left, else a failure ("text after the
 * closing '}'"). */
int json_end(Json *j);

/* s as a JSON string with the escapes JSON requires (NULL as ""). */
void json_write_str(FILE *f, const char *s);

/* v as "%.9g", or null when it is not finite: JSON has no NaN. */
void json_write_num(FILE *f, double v);

#endif
