/* jsonio: see jsonio.h. */
#define _POSIX_C_SOURCE 200809L
#include "jsonio.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The length of the UTF-8 character at s (n > 0 bytes left) by the rules
 * jansson checks (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF), or 0 when s does not start one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp;
    size_t len;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* s (len bytes) with every byte that starts no UTF-8 character replaced by
 * U+FFFD: a malloc'd, NUL-terminated copy with its length in *out_len, or
 * NULL when s is UTF-8 already (*oom 0) or memory ran out (*oom 1). jansson
 * takes nothing but UTF-8, in a file or a string to write, and clae before
 * it wrote paths and messages byte for byte: one stray byte must not make a
 * whole run.json unreadable. */
static char *utf8_repair(const char *s, size_t len, size_t *out_len, int *oom)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t bad = 0;
    *oom = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(u + i, len - i);
        if (n == 0) bad++, n = 1;
        i += n;
    }
    if (bad == 0) return NULL;
    char *out = malloc(len + 2 * bad + 1); /* each bad byte becomes 3 */
    if (!out) {
        *oom = 1;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_len(u + i, len - i);
        if (n == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Control characters (a byte quoted from the file, a key's \n) as '?': a
 * message stays one line. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

/* ---- reading --------------------------------------------------------------- */

json_t *jsonio_parse(const char *text, size_t len, Err *err)
{
    size_t fixed_len = 0;
    int oom;
    char *fixed = utf8_repair(text, len, &fixed_len, &oom);
    if (oom) {
        err_set(err, "out of memory");
        return NULL;
    }
    json_error_t e;
    /* flags 0: an object or array at the top, nothing after it, no \u0000 */
    json_t *doc = fixed ? json_loadb(fixed, fixed_len, 0, &e) : json_loadb(text, len, 0, &e);
    free(fixed);
    if (!doc) {
        char what[sizeof e.text];
        if (json_error_code(&e) == json_error_null_character)
            snprintf(what, sizeof what, "\\u0000 in a string"); /* jansson names its flag */
        else
            snprintf(what, sizeof what, "%s", e.text);
        one_line(what);
        err_set(err, "%d:%d: %s", e.line, e.column, what);
        return NULL;
    }
    if (!json_is_object(doc)) {
        /* the top-level value starts after the white space, which is ASCII */
        int line = 1, col = 1;
        for (size_t i = 0; i < len && text[i] && strchr(" \t\r\n", text[i]); i++) {
            if (text[i] == '\n') line++, col = 1;
            else col++;
        }
        json_decref(doc);
        err_set(err, "%d:%d: expected an object", line, col);
        return NULL;
    }
    return doc;
}

JsonObj jsonio_top(const json_t *doc)
{
    JsonObj o = {.obj = doc};
    return o;
}

int jsonio_fail(const JsonObj *o, const char *key, Err *err, const char *fmt, ...)
{
    char what[512], name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!key) util_fmt(name, sizeof name, "%s", o->name);
    else if (o->name[0]) util_fmt(name, sizeof name, "%s.%s", o->name, key);
    else util_fmt(name, sizeof name, "%s", key);
    one_line(name);
    one_line(what);
    return err_set(err, "\"%s\": %s", name, what);
}

int jsonio_has(const JsonObj *o, const char *key)
{
    return o->obj && json_object_get(o->obj, key) != NULL;
}

/* The value of member key, NULL when absent. */
static const json_t *member(const JsonObj *o, const char *key)
{
    return o->obj ? json_object_get(o->obj, key) : NULL;
}

int jsonio_obj(const JsonObj *o, const char *key, int null_ok, JsonObj *out, Err *err)
{
    const json_t *v = member(o, key);
    out->obj = NULL;
    /* a place too long for the field is cut: it only names the object */
    if (o->name[0]) util_fmt(out->name, sizeof out->name, "%s.%s", o->name, key);
    else util_fmt(out->name, sizeof out->name, "%s", key);
    if (!v || (null_ok && json_is_null(v))) return 0;
    if (!json_is_object(v))
        return jsonio_fail(o, key, err, "expected an object%s", null_ok ? " or null" : "");
    out->obj = v;
    return 0;
}

void jsonio_copy(char *out, size_t cap, const char *s, size_t len)
{
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--; /* not mid-character */
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

int jsonio_str(const JsonObj *o, const char *key, char *out, size_t cap, int null_ok, Err *err)
{
    const json_t *v = member(o, key);
    if (!v) return 0;
    if (null_ok && json_is_null(v)) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return jsonio_fail(o, key, err, "expected a string%s", null_ok ? " or null" : "");
    jsonio_copy(out, cap, json_string_value(v), json_string_length(v));
    return 0;
}

int jsonio_num(const JsonObj *o, const char *key, double *out, int null_ok, Err *err)
{
    const json_t *v = member(o, key);
    if (!v) return 0;
    if (null_ok && json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v))
        return jsonio_fail(o, key, err, "expected a number%s", null_ok ? " or null" : "");
    *out = json_number_value(v);
    return 0;
}

/* A whole number lo..hi (bounds exact as a double and as a json_int_t)
 * into *out: an integer, or a real such as 3.0, which clae's writers never
 * produce but a hand edit may. */
static int whole(const json_t *v, double lo, double hi, double *out)
{
    if (json_is_integer(v)) {
        /* compared as integers: 2^53 + 1 is no double */
        json_int_t i = json_integer_value(v);
        if (i < (json_int_t)lo || i > (json_int_t)hi) return -1;
        *out = (double)i;
        return 0;
    }
    if (!json_is_real(v)) return -1;
    double d = json_real_value(v);
    if (d != floor(d) || d < lo || d > hi) return -1;
    *out = d;
    return 0;
}

int jsonio_int(const JsonObj *o, const char *key, int *out, Err *err)
{
    const json_t *v = member(o, key);
    double d;
    if (!v) return 0;
    if (whole(v, -1e9, 1e9, &d)) return jsonio_fail(o, key, err, "expected a whole number");
    *out = (int)d;
    return 0;
}

int jsonio_count(const JsonObj *o, const char *key, double *out, Err *err)
{
    const json_t *v = member(o, key);
    if (!v) return 0;
    if (whole(v, 0, 9007199254740992.0, out))
        return jsonio_fail(o, key, err, "expected a whole number >= 0");
    return 0;
}

/* ---- writing --------------------------------------------------------------- */

json_t *jsonio_string(const char *s)
{
    if (!s) s = "";
    size_t len = strlen(s), fixed_len = 0;
    int oom;
    char *fixed = utf8_repair(s, len, &fixed_len, &oom);
    if (oom) return NULL;
    json_t *v = fixed ? json_stringn(fixed, fixed_len) : json_stringn(s, len);
    free(fixed);
    return v;
}

json_t *jsonio_string_or_null(const char *s)
{
    return s && s[0] ? jsonio_string(s) : json_null();
}

json_t *jsonio_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null(); /* JSON has no NaN */
}

json_t *jsonio_integer(long long v)
{
    return json_integer((json_int_t)v);
}

void jsonio_put(json_t *obj, const char *key, json_t *value, int *failed)
{
    /* a NULL value fails the set too (and jansson drops value either way) */
    if (json_object_set_new(obj, key, value)) *failed = 1;
}

int jsonio_write(FILE *f, const json_t *obj)
{
    /* %.9g, as clae always wrote its numbers: a loss reads back as the
     * value written, and the file as before. Members in the order set. */
    const size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9);
    const char *key, *sep = "\n  ";
    json_t *value;
    fputc('{', f);
    /* jansson indents every level or none; run.json has always had its top
     * level one member per line and the rest inline, which grep, sed and a
     * reader's eye rely on: each member is dumped as a one-member object
     * without its braces (JSON_EMBED). */
    json_object_foreach((json_t *)obj, key, value) {
        json_t *one = json_object();
        if (!one || json_object_set(one, key, value)) {
            json_decref(one);
            return -1;
        }
        fputs(sep, f);
        int rc = json_dumpf(one, f, flags | JSON_EMBED);
        json_decref(one);
        if (rc) return -1;
        sep = ",\n  ";
    }
    fputs(json_object_size(obj) ? "\n}\n" : "}\n", f);
    return 0;
}
