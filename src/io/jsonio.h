/* jsonio: the JSON clae reads and writes (run.json, CLBlast's tuner files),
 * through jansson, with clae's messages and layout on top.
 *
 * jansson parses (RFC 8259, strict: no comments, no trailing commas, no NaN,
 * \u0000 refused, nesting bounded by JSON_PARSER_MAX_DEPTH) and encodes
 * (every escape JSON needs, numbers in 9 significant digits). What this
 * module adds is what clae promises about its files: a parse failure is
 * one line, "line:col: what", whatever bytes the text holds; bytes that are
 * not UTF-8 (clae before jansson wrote strings as it got them) read and
 * write as U+FFFD instead of making the whole file unreadable; a member of
 * the wrong type is refused naming it ("process.pid": expected a whole
 * number >= 0); a long string is cut at a character boundary to fit its
 * field; NaN is written as null; and a written object has one top-level
 * member per line, nested values on that line, as run.json always had.
 * Host only. */
#ifndef CLAE_JSONIO_H
#define CLAE_JSONIO_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* ---- reading --------------------------------------------------------------- */

/* Parses len bytes of JSON text (need not be NUL-terminated) whose top
 * level must be an object. Returns a new reference (json_decref), or NULL
 * with err "line:col: what" (column in characters, as jansson counts them;
 * control characters quoted from the text become '?', so the message is
 * one line), or "expected an object" for another top-level value. */
json_t *jsonio_parse(const char *text, size_t len, Err *err);

/* An object being read, and how messages name it. */
typedef struct {
    const json_t *obj; /* borrowed from its document; NULL: absent, or null */
    char name[128];    /* its place in messages: "" at the top, "process",
                          "results[2].parameters" */
} JsonObj;

/* The top-level object of a document that jsonio_parse returned. */
JsonObj jsonio_top(const json_t *doc);

/* Member key of o, each refused with err "\"name.key\": expected ..." when
 * of another type, and left untouched when absent:
 *   jsonio_obj    an object into *out (out->obj NULL when absent, or null
 *                 where null_ok);
 *   jsonio_str    a string into out (cap bytes, cut at a character
 *                 boundary), or null ("") where null_ok;
 *   jsonio_num    a number, or null (NaN) where null_ok;
 *   jsonio_int    a whole number -1e9..1e9;
 *   jsonio_count  a whole number 0..2^53 (exact in a double: a pid, a tick
 *                 count).
 * Return 0, or -1 with err set. */
int jsonio_obj(const JsonObj *o, const char *key, int null_ok, JsonObj *out, Err *err);
int jsonio_str(const JsonObj *o, const char *key, char *out, size_t cap, int null_ok, Err *err);
int jsonio_num(const JsonObj *o, const char *key, double *out, int null_ok, Err *err);
int jsonio_int(const JsonObj *o, const char *key, int *out, Err *err);
int jsonio_count(const JsonObj *o, const char *key, double *out, Err *err);

/* 1 when o has member key (of any value, null too), else 0. */
int jsonio_has(const JsonObj *o, const char *key);

/* err = "\"name.key\": " then fmt (key NULL: the object itself); control
 * characters of a key quoted from the file become '?'. Returns -1. */
int jsonio_fail(const JsonObj *o, const char *key, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* s (len bytes, NUL-terminated) copied into out (cap > 0 bytes), cut at a
 * UTF-8 character boundary when it does not fit. */
void jsonio_copy(char *out, size_t cap, const char *s, size_t len);

/* ---- writing --------------------------------------------------------------- */

/* New values for a document being built (NULL only when out of memory):
 * s as a string (NULL as ""; bytes that are not UTF-8 as U+FFFD), or as
 * null when s is NULL or ""; v as a number, or null when it is not finite
 * (JSON has no NaN); a whole number. */
json_t *jsonio_string(const char *s);
json_t *jsonio_string_or_null(const char *s);
json_t *jsonio_number(double v);
json_t *jsonio_integer(long long v);

/* obj[key] = value, taking value's reference (also on failure). A NULL
 * value (its maker ran out of memory) or a failed set makes *failed 1, so
 * that a caller that sets many members checks once, at the end. */
void jsonio_put(json_t *obj, const char *key, json_t *value, int *failed);

/* Writes obj to f: "{", each member on a line of its own indented by two
 * spaces with its value on that line ({"a": 1, "b": [2]}), "}" and a
 * newline; members in the order they were set, numbers in "%.9g" as clae
 * always wrote them (so a loss reads back as the value written; jansson
 * adds ".0" to a whole real and drops an exponent's '+' and leading zeros:
 * 12.0, 1.5e-5). Returns 0, or -1 when jansson failed (out of memory);
 * write errors stay in f for the caller's check (util_atomic_commit). */
int jsonio_write(FILE *f, const json_t *obj);

#endif
