/* json: see json.h. */
#define _POSIX_C_SOURCE 200809L
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void json_init(Json *j, const char *text, size_t len)
{
    memset(j, 0, sizeof *j);
    j->start = j->p = text;
    j->end = text + len;
}

int json_fail(Json *j, const char *fmt, ...)
{
    if (j->why[0]) return -1; /* the first failure is the one that explains */
    int line = 1, col = 1;
    for (const char *q = j->start; q < j->p; q++) {
        if (*q == '\n') line++, col = 1;
        else col++;
    }
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* a key or byte quoted from the file must not break the line */
    for (char *c = what; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    snprintf(j->why, sizeof j->why, "%d:%d: %s", line, col, what);
    return -1;
}

static void json_ws(Json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Consumes c after optional white space; 0 if it was there. */
int json_eat(Json *j, char c)
{
    json_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 0;
    }
    return -1;
}

int json_peek(Json *j)
{
    json_ws(j);
    return j->p < j->end ? (unsigned char)*j->p : -1;
}

static int json_word(Json *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return -1;
    j->p += n;
    return 0;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* Appends n bytes to out (cap bytes, NUL kept) unless they no longer fit: a
 * long value is cut at a character boundary, never inside a UTF-8 sequence. */
static void put(char *out, size_t cap, size_t *len, const char *b, size_t n)
{
    if (!out || *len + n + 1 > cap) {
        if (out) *len = cap; /* full: later, shorter pieces must not follow */
        return;
    }
    memcpy(out + *len, b, n);
    *len += n;
    out[*len] = '\0';
}

/* A string at j->p into out (cap bytes, cut to fit; out NULL skips it), with
 * every JSON escape decoded and \uXXXX (surrogate pairs too) as UTF-8. */
int json_string(Json *j, char *out, size_t cap)
{
    size_t len = 0;
    if (out && cap) out[0] = '\0';
    if (json_eat(j, '"')) return json_fail(j, "expected a string");
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20) return json_fail(j, "control character 0x%02x in a string", c);
        if (c != '\\') {
            /* a UTF-8 sequence goes in whole; other bytes pass one by one */
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if ((size_t)(j->end - j->p) < n) n = 1;
            for (size_t k = 1; k < n; k++)
                if (((unsigned char)j->p[k] & 0xC0) != 0x80) n = 1;
            put(out, cap, &len, j->p, n);
            j->p += n;
            continue;
        }
        if (j->end - j->p < 2) break;
        char e = j->p[1], b[4];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            put(out, cap, &len, &decoded[simple - "\"\\/bfnrt"], 1);
            j->p += 2;
            continue;
        }
        if (e != 'u') {
            /* the message stays one line whatever byte followed */
            if (e > 0x20 && e < 0x7f) return json_fail(j, "bad escape '\\%c' in a string", e);
            return json_fail(j, "bad escape '\\' then byte 0x%02x in a string", (unsigned char)e);
        }
        unsigned cp, lo;
        if (j->end - j->p < 6 || hex4(j->p + 2, &cp))
            return json_fail(j, "\\u needs four hex digits");
        if (cp >= 0xDC00 && cp <= 0xDFFF) return json_fail(j, "lone low surrogate \\u%04X", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (j->end - j->p < 12 || j->p[6] != '\\' || j->p[7] != 'u' || hex4(j->p + 8, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return json_fail(j, "high surrogate \\u%04X without its low half", cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            j->p += 6;
        }
        if (cp == 0) return json_fail(j, "\\u0000 in a string"); /* would cut a C string */
        j->p += 6;
        size_t n;
        if (cp < 0x80) {
            b[0] = (char)cp, n = 1;
        } else if (cp < 0x800) {
            b[0] = (char)(0xC0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        } else if (cp < 0x10000) {
            b[0] = (char)(0xE0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        } else {
            b[0] = (char)(0xF0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
        }
        put(out, cap, &len, b, n);
    }
    return json_fail(j, "unterminated string");
}

/* A number in JSON's own grammar (strtod alone would also take "0x1p3",
 * "inf" and "nan", which no JSON writer produces). */
int json_number(Json *j, double *v)
{
    json_ws(j);
    const char *q = j->p, *e = j->end;
#define DIGITS(q) while ((q) < e && *(q) >= '0' && *(q) <= '9') (q)++
    if (q < e && *q == '-') q++;
    if (q < e && *q == '0') q++;
    else if (q < e && *q >= '1' && *q <= '9') DIGITS(q);
    else return json_fail(j, "expected a number");
    if (q < e && *q == '.') {
        const char *d = ++q;
        DIGITS(q);
        if (q == d) return json_fail(j, "expected digits after '.'");
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < e && (*q == '+' || *q == '-')) q++;
        const char *d = q;
        DIGITS(q);
        if (q == d) return json_fail(j, "expected digits in the exponent");
    }
#undef DIGITS
    char buf[64];
    size_t n = (size_t)(q - j->p);
    if (n >= sizeof buf) return json_fail(j, "number too long");
    memcpy(buf, j->p, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    j->p = q;
    return 0;
}

/* Any value, read and thrown away: keys we do not know stay readable. */
int json_skip(Json *j, int depth)
{
    if (depth > JSON_MAX_DEPTH) return json_fail(j, "nested too deeply");
    int c = json_peek(j);
    double d;
    switch (c) {
    case '"': return json_string(j, NULL, 0);
    case 't': return json_word(j, "true") ? json_fail(j, "expected true") : 0;
    case 'f': return json_word(j, "false") ? json_fail(j, "expected false") : 0;
    case 'n': return json_word(j, "null") ? json_fail(j, "expected null") : 0;
    case '{':
    case '[': {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (!json_eat(j, close)) return 0;
        do {
            if (c == '{') {
                if (json_string(j, NULL, 0)) return -1;
                if (json_eat(j, ':')) return json_fail(j, "expected ':'");
            }
            if (json_skip(j, depth + 1)) return -1;
        } while (!json_eat(j, ','));
        if (json_eat(j, close)) return json_fail(j, "expected ',' or '%c'", close);
        return 0;
    }
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return json_number(j, &d);
        return c < 0 ? json_fail(j, "unexpected end") : json_fail(j, "unexpected character");
    }
}

/* 1 (and the null consumed) when the next value is null. */
int json_null(Json *j)
{
    return json_peek(j) == 'n' && json_word(j, "null") == 0;
}

/* The value of `key`: a string, or null ("") where null_ok. */
int json_get_str(Json *j, const char *key, char *out, size_t cap, int null_ok)
{
    if (null_ok && json_null(j)) {
        out[0] = '\0';
        return 0;
    }
    if (json_peek(j) != '"')
        return json_fail(j, "\"%s\": expected a string%s", key, null_ok ? " or null" : "");
    return json_string(j, out, cap);
}

/* The value of `key`: a number, or null (NaN) where null_ok. */
int json_get_num(Json *j, const char *key, double *out, int null_ok)
{
    if (null_ok && json_null(j)) {
        *out = NAN;
        return 0;
    }
    int c = json_peek(j);
    if (c != '-' && !(c >= '0' && c <= '9'))
        return json_fail(j, "\"%s\": expected a number%s", key, null_ok ? " or null" : "");
    return json_number(j, out);
}

int json_get_int(Json *j, const char *key, int *out)
{
    double v;
    if (json_get_num(j, key, &v, 0)) return -1;
    if (v != floor(v) || v < -1e9 || v > 1e9)
        return json_fail(j, "\"%s\": expected a whole number", key);
    *out = (int)v;
    return 0;
}

/* Calls field(j, key, ctx) for each member of the object at j->p. */
int json_object(Json *j, const char *what, int (*field)(Json *, const char *, void *),
                       void *ctx)
{
    if (json_eat(j, '{')) return json_fail(j, "%s: expected an object", what);
    if (!json_eat(j, '}')) return 0;
    do {
        char key[64]; /* longer keys are cut, and then match none of ours */
        if (json_string(j, key, sizeof key)) return -1;
        if (json_eat(j, ':')) return json_fail(j, "expected ':' after \"%s\"", key);
        if (field(j, key, ctx)) return -1;
    } while (!json_eat(j, ','));
    if (json_eat(j, '}')) return json_fail(j, "%s: expected ',' or '}'", what);
    return 0;
}

/* A whole number 0..2^53 (exact in a double), such as a pid or a tick count. */
int json_get_count(Json *j, const char *key, double *out)
{
    if (json_get_num(j, key, out, 0)) return -1;
    if (*out != floor(*out) || *out < 0 || *out > 9007199254740992.0)
        return json_fail(j, "\"%s\": expected a whole number >= 0", key);
    return 0;
}

int json_end(Json *j)
{
    return json_peek(j) >= 0 ? json_fail(j, "text after the closing '}'") : 0;
}

void json_write_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

void json_write_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.9g", v);
    else fputs("null", f); /* JSON has no NaN */
}
