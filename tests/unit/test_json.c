/* test_json: the JSON reader and writers (json.h) on their own: members
 * read through the callback, unknown values of every kind skipped, every
 * escape decoded, numbers in JSON's grammar only, null where allowed, each
 * failure one line with its line:col, and what the writers write read back
 * the same. (run.json as a whole is test_runs' and fuzz_runjson's.) */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "json.h"

typedef struct {
    char name[64], note[16];
    double x, y;
    int n;
    int members;
} Doc;

static int field(Json *j, const char *key, void *ctx)
{
    Doc *d = ctx;
    d->members++;
    if (strcmp(key, "name") == 0) return json_get_str(j, key, d->name, sizeof d->name, 0);
    if (strcmp(key, "note") == 0) return json_get_str(j, key, d->note, sizeof d->note, 1);
    if (strcmp(key, "x") == 0) return json_get_num(j, key, &d->x, 1);
    if (strcmp(key, "y") == 0) return json_get_count(j, key, &d->y);
    if (strcmp(key, "n") == 0) return json_get_int(j, key, &d->n);
    return json_skip(j, 1);
}

/* Reads text as one object into d; returns 0 or -1 with j->why kept in why. */
static int read_doc(const char *text, Doc *d, char *why, size_t len)
{
    memset(d, 0, sizeof *d);
    Json j;
    json_init(&j, text, strlen(text));
    int rc = json_object(&j, "doc", field, d);
    if (rc == 0) rc = json_end(&j);
    snprintf(why, len, "%s", j.why);
    return rc;
}

static void check_reading(void)
{
    Doc d;
    char why[256];
    const char *good =
        "{\"skip\": {\"a\": [1, {\"b\": [true, false, null]}, -2.5e-3], \"c\": \"\\\"\"},\n"
        " \"name\": \"caf\\u00e9 \\ud83d\\ude00 \\t\\/\", \"x\": -1.5E+2, \"y\": 123456789,\n"
        " \"n\": -7, \"note\": null, \"last\": []}\r\n";
    CHECK(read_doc(good, &d, why, sizeof why) == 0, "%s", why);
    CHECK(strcmp(d.name, "caf\xc3\xa9 \xf0\x9f\x98\x80 \t/") == 0, "name '%s'", d.name);
    CHECK(d.x == -150 && d.y == 123456789 && d.n == -7, "%g %g %d", d.x, d.y, d.n);
    CHECK(d.note[0] == '\0' && d.members == 7, "note '%s', %d members", d.note, d.members);
    CHECK(read_doc("{}", &d, why, sizeof why) == 0 && d.members == 0, "empty object: %s", why);
    CHECK(read_doc("{\"x\": null}", &d, why, sizeof why) == 0 && isnan(d.x), "null number");

    /* a long string is cut at a character boundary, not inside a UTF-8 sequence */
    char text[200] = "{\"note\": \"";
    for (int i = 0; i < 20; i++) strcat(text, "\xc3\xa9");
    strcat(text, "\"}");
    CHECK(read_doc(text, &d, why, sizeof why) == 0, "%s", why);
    CHECK(strlen(d.note) == 14, "cut to %zu bytes", strlen(d.note));

    /* bad documents: each fails with line:col and stays one line */
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"{\"name\": 3}", "1:10: \"name\": expected a string"},
        {"{\"n\": 1.5}", "\"n\": expected a whole number"},
        {"{\"y\": -1}", "\"y\": expected a whole number >= 0"},
        {"{\"x\": 0x10}", "expected ',' or '}'"},
        {"{\"x\": 01}", "expected ',' or '}'"},
        {"{\"x\": 1.}", "expected digits after '.'"},
        {"{\"x\": 1e}", "expected digits in the exponent"},
        {"{\"x\": NaN}", "\"x\": expected a number or null"},
        {"{\"name\": \"\\ud800\"}", "high surrogate \\uD800 without its low half"},
        {"{\"name\": \"\\udc00\"}", "lone low surrogate"},
        {"{\"name\": \"\\u0000\"}", "\\u0000 in a string"},
        {"{\"name\": \"\\x\"}", "bad escape '\\x' in a string"},
        {"{\"name\": \"a\\\n\"}", "bad escape '\\' then byte 0x0a in a string"},
        {"{\"name\": \"a\tb\"}", "control character 0x09 in a string"},
        {"{\"name\": \"a", "unterminated string"},
        {"{\"a\": 1,}", "expected a string"},
        {"{\"a\" 1}", "expected ':' after \"a\""},
        {"{\"a\": tru}", "expected true"},
        {"[1]", "doc: expected an object"},
        {"{}\n  x", "2:3: text after the closing '}'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(read_doc(bad[i].text, &d, why, sizeof why) == -1, "accepted: %s", bad[i].text);
        CHECK(strstr(why, bad[i].why) != NULL, "%s: '%s', want '%s'", bad[i].text, why,
              bad[i].why);
        CHECK(strchr(why, '\n') == NULL, "two lines: %s", why);
    }
    /* nesting past JSON_MAX_DEPTH in a skipped value is refused, not recursed into */
    char deep[400] = "{\"skip\": ";
    for (int i = 0; i < JSON_MAX_DEPTH + 2; i++) strcat(deep, "[");
    CHECK(read_doc(deep, &d, why, sizeof why) == -1 && strstr(why, "nested too deeply"), "%s",
          why);
}

static void check_writing(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    const char *s = "quote \" backslash \\ tab\t newline\n bell\a caf\xc3\xa9";
    fputs("{\"name\": ", f);
    json_write_str(f, s);
    fputs(", \"x\": ", f);
    json_write_num(f, 0.1);
    fputs(", \"note\": ", f);
    json_write_str(f, NULL);
    fputs(", \"nan\": ", f);
    json_write_num(f, NAN);
    fputs(", \"inf\": ", f);
    json_write_num(f, -INFINITY);
    fputs("}", f);
    fclose(f);
    CHECK_CONTAINS(text, "\"quote \\\" backslash \\\\ tab\\t newline\\n bell\\u0007 caf\xc3\xa9\"");
    CHECK_CONTAINS(text, "\"x\": 0.1,");
    CHECK_CONTAINS(text, "\"note\": \"\"");
    CHECK_CONTAINS(text, "\"nan\": null, \"inf\": null}");
    Doc d;
    char why[256];
    CHECK(read_doc(text, &d, why, sizeof why) == 0, "%s: %s", why, text);
    CHECK(strcmp(d.name, s) == 0 && d.x == 0.1, "read back '%s' %g", d.name, d.x);
    free(text);
}

int main(void)
{
    check_reading();
    check_writing();
    return check_done("test_json");
}
