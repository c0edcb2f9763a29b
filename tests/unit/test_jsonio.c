/* test_jsonio: what clae adds to jansson (jsonio.h) on its own: a parse
 * failure as one line "line:col: what" whatever bytes the text holds, the
 * typed member getters and their messages naming the member, a long string
 * cut at a character boundary, null where allowed, bytes that are not UTF-8
 * read and written as U+FFFD, and the writer's layout: one top-level member
 * per line, escapes, NaN as null, numbers that read back as written.
 * (run.json as a whole is test_runfolder's, test_runs' and fuzz_runjson's.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "jsonio.h"

typedef struct {
    char name[64], note[16];
    double x, y;
    int n, inner_k;
    int has_inner;
} Doc;

/* Reads text as a document of Doc's members; returns 0, or -1 with the
 * message in err. */
static int read_doc(const char *text, size_t len, Doc *d, Err *err)
{
    memset(d, 0, sizeof *d);
    d->inner_k = -1;
    err->msg[0] = '\0';
    json_t *doc = jsonio_parse(text, len, err);
    if (!doc) return -1;
    JsonObj top = jsonio_top(doc), inner;
    int rc = jsonio_str(&top, "name", d->name, sizeof d->name, 0, err) ||
                     jsonio_str(&top, "note", d->note, sizeof d->note, 1, err) ||
                     jsonio_num(&top, "x", &d->x, 1, err) ||
                     jsonio_count(&top, "y", &d->y, err) || jsonio_int(&top, "n", &d->n, err) ||
                     jsonio_obj(&top, "inner", 1, &inner, err) ||
                     jsonio_int(&inner, "k", &d->inner_k, err)
                 ? -1
                 : 0;
    d->has_inner = inner.obj != NULL;
    json_decref(doc);
    return rc;
}

static int read_str(const char *text, Doc *d, Err *err)
{
    return read_doc(text, strlen(text), d, err);
}

static void check_reading(void)
{
    Doc d;
    Err err;
    const char *good =
        "{\"skip\": {\"a\": [1, {\"b\": [true, false, null]}, -2.5e-3], \"c\": \"\\\"\"},\n"
        " \"name\": \"caf\\u00e9 \\ud83d\\ude00 \\t\\/\", \"x\": -1.5E+2, \"y\": 123456789,\n"
        " \"n\": -7, \"note\": null, \"inner\": {\"k\": 3.0, \"z\": []}, \"last\": []}\r\n";
    CHECK(read_str(good, &d, &err) == 0, "%s", err.msg);
    CHECK(strcmp(d.name, "caf\xc3\xa9 \xf0\x9f\x98\x80 \t/") == 0, "name '%s'", d.name);
    CHECK(d.x == -150 && d.y == 123456789 && d.n == -7 && d.inner_k == 3, "%g %g %d %d", d.x,
          d.y, d.n, d.inner_k);
    CHECK(d.note[0] == '\0' && d.has_inner, "note '%s'", d.note);
    /* absent members leave the fields alone; null where allowed */
    CHECK(read_str("{}", &d, &err) == 0 && d.x == 0 && d.inner_k == -1 && !d.has_inner,
          "empty object: %s", err.msg);
    CHECK(read_str("{\"x\": null, \"inner\": null}", &d, &err) == 0 && isnan(d.x) &&
              !d.has_inner,
          "null number and object: %s", err.msg);
    /* numbers read back exactly as written, integers and reals alike */
    CHECK(read_str("{\"x\": 0.0412345678, \"y\": 9007199254740992}", &d, &err) == 0 &&
              d.x == 0.0412345678 && d.y == 9007199254740992.0,
          "%.17g %.17g", d.x, d.y);

    /* a long string is cut at a character boundary, not inside a UTF-8 sequence */
    char text[200] = "{\"note\": \"";
    for (int i = 0; i < 20; i++) strcat(text, "\xc3\xa9");
    strcat(text, "\"}");
    CHECK(read_str(text, &d, &err) == 0, "%s", err.msg);
    CHECK(strlen(d.note) == 14, "cut to %zu bytes", strlen(d.note));

    /* bytes that are not UTF-8 (clae before jansson wrote them as they came)
     * read as U+FFFD, and the columns after them still count characters */
    CHECK(read_str("{\"name\": \"a\xff" "b\xc3\"}", &d, &err) == 0 &&
              strcmp(d.name, "a\xef\xbf\xbd" "b\xef\xbf\xbd") == 0,
          "'%s': %s", d.name, err.msg);
    CHECK(read_str("{\"name\": \"\xe9\xe9\", x}", &d, &err) == -1 &&
              strncmp(err.msg, "1:16: ", 6) == 0,
          "column after two stray bytes: %s", err.msg);

    /* bad documents: each fails with its message, on one line */
    static const struct {
        const char *text, *why;
    } bad[] = {
        /* jansson's syntax errors, with line:col */
        {"{\"x\": 0x10}", "1:8: "},
        {"{\"x\": 01}", "1:7: invalid token near '0'"},
        {"{\"x\": 1.}", "1:8: "},
        {"{\"x\": NaN}", "1:9: invalid token near 'NaN'"},
        {"{\"x\": 1e400}", "real number overflow"},
        {"{\"y\": 99999999999999999999}", "too big integer"},
        {"{\"name\": \"\\ud800\"}", "invalid Unicode '\\uD800'"},
        {"{\"name\": \"\\udc00\"}", "invalid Unicode '\\uDC00'"},
        {"{\"name\": \"\\u0000\"}", "\\u0000 in a string"},
        {"{\"name\": \"\\x\"}", "invalid escape"},
        {"{\"name\": \"a\\\n\"}", "2:0: invalid escape near '\"a\\?'"}, /* the newline as '?' */
        {"{\"name\": \"a\tb\"}", "control character 0x9"},
        {"{\"name\": \"a", "premature end of input"},
        {"{\"a\": 1,}", "string or '}' expected"},
        {"{\"a\" 1}", "':' expected"},
        {"{\"a\": tru}", "invalid token"},
        {"{}\n  x", "2:3: end of file expected"},
        {"", "'[' or '{' expected"},
        {"\n\n  [1]", "3:3: expected an object"},
        {"\"text\"", "'[' or '{' expected"},
        /* clae's field checks, naming the member */
        {"{\"name\": 3}", "\"name\": expected a string"},
        {"{\"note\": 3}", "\"note\": expected a string or null"},
        {"{\"n\": 1.5}", "\"n\": expected a whole number"},
        {"{\"n\": 2e9}", "\"n\": expected a whole number"},
        {"{\"n\": \"3\"}", "\"n\": expected a whole number"},
        {"{\"y\": -1}", "\"y\": expected a whole number >= 0"},
        {"{\"y\": 9007199254740993}", "\"y\": expected a whole number >= 0"},
        {"{\"x\": \"1\"}", "\"x\": expected a number or null"},
        {"{\"inner\": []}", "\"inner\": expected an object or null"},
        {"{\"inner\": {\"k\": null}}", "\"inner.k\": expected a whole number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(read_str(bad[i].text, &d, &err) == -1, "accepted: %s", bad[i].text);
        CHECK(strstr(err.msg, bad[i].why) != NULL, "%s: '%s', want '%s'", bad[i].text, err.msg,
              bad[i].why);
        CHECK(strchr(err.msg, '\n') == NULL, "two lines: %s", err.msg);
    }
    /* a NUL byte in the text, and nesting past jansson's bound: refused */
    CHECK(read_doc("{\"a\": 1}\0", 9, &d, &err) == -1 && strstr(err.msg, "1:9: "), "NUL: %s",
          err.msg);
    size_t depth = JSON_PARSER_MAX_DEPTH + 10;
    char *deep = malloc(depth + 16);
    strcpy(deep, "{\"skip\": ");
    memset(deep + 9, '[', depth);
    deep[9 + depth] = '\0';
    CHECK(read_str(deep, &d, &err) == -1 && strstr(err.msg, "maximum parsing depth reached"),
          "%s", err.msg);
    free(deep);

    /* jsonio_fail: the member's place and a key's control characters as '?' */
    JsonObj o = {.obj = NULL};
    snprintf(o.name, sizeof o.name, "results[2]");
    CHECK(jsonio_fail(&o, "A\nB", &err, "bad %d", 7) == -1 &&
              strcmp(err.msg, "\"results[2].A?B\": bad 7") == 0,
          "%s", err.msg);
}

/* obj as jsonio_write writes it, malloc'd. */
static char *written(const json_t *obj)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(jsonio_write(f, obj) == 0, "jsonio_write failed");
    fclose(f);
    return text;
}

static void check_writing(void)
{
    const char *s = "quote \" backslash \\ tab\t newline\n cr\r bell\a caf\xc3\xa9 /";
    json_t *o = json_object(), *sub = json_object();
    int failed = 0;
    jsonio_put(o, "name", jsonio_string(s), &failed);
    jsonio_put(o, "x", jsonio_number(0.1), &failed);
    jsonio_put(o, "loss", jsonio_number(0.0412345678912), &failed);
    jsonio_put(o, "note", jsonio_string(NULL), &failed);
    jsonio_put(o, "end", jsonio_string_or_null(""), &failed);
    jsonio_put(o, "nan", jsonio_number(NAN), &failed);
    jsonio_put(o, "inf", jsonio_number(-INFINITY), &failed);
    jsonio_put(o, "n", jsonio_integer(-7), &failed);
    jsonio_put(sub, "k", jsonio_integer(3), &failed);
    jsonio_put(sub, "bad", jsonio_string("a\xff" "b"), &failed);
    jsonio_put(o, "inner", sub, &failed);
    CHECK(!failed, "a set failed");
    char *text = written(o);
    /* the layout run.json has always had; jansson's escapes; %.9g */
    CHECK_CONTAINS(text, "{\n  \"name\": \"quote \\\" backslash \\\\ tab\\t newline\\n cr\\r "
                         "bell\\u0007 caf\xc3\xa9 /\",\n  \"x\": 0.1,\n");
    CHECK_CONTAINS(text, "\n  \"loss\": 0.0412345679,\n  \"note\": \"\",\n  \"end\": null,\n");
    CHECK_CONTAINS(text, "\n  \"nan\": null,\n  \"inf\": null,\n  \"n\": -7,\n");
    CHECK_CONTAINS(text, "\n  \"inner\": {\"k\": 3, \"bad\": \"a\xef\xbf\xbd" "b\"}\n}\n");
    Doc d;
    Err err;
    CHECK(read_str(text, &d, &err) == 0, "%s: %s", err.msg, text);
    CHECK(strcmp(d.name, s) == 0 && d.x == 0.1 && d.n == -7 && d.inner_k == 3,
          "read back '%s' %g", d.name, d.x);
    free(text);
    json_decref(o);

    /* an empty object, and a set that fails marks failed */
    o = json_object();
    text = written(o);
    CHECK(strcmp(text, "{}\n") == 0, "'%s'", text);
    free(text);
    jsonio_put(o, "x", NULL, &failed);
    CHECK(failed && json_object_size(o) == 0, "a NULL value is a failed set");
    json_decref(o);

    /* jsonio_copy never cuts inside a character */
    char out[4];
    jsonio_copy(out, sizeof out, "a\xe2\x82\xac", 4);
    CHECK(strcmp(out, "a") == 0, "'%s'", out);
    jsonio_copy(out, sizeof out, "ab\xc3\xa9", 4);
    CHECK(strcmp(out, "ab") == 0, "'%s'", out);
    jsonio_copy(out, sizeof out, "abc", 3);
    CHECK(strcmp(out, "abc") == 0, "'%s'", out);
}

int main(void)
{
    check_reading();
    check_writing();
    return check_done("test_jsonio");
}
