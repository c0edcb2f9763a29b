/* test_heartbeat: heartbeat.json written and read back, the interval's
 * pacing, the staleness rule at its edges (the allowance, the clock-skew
 * bound both ways, a long phase), and every damaged file read as stale with
 * its reason. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "heartbeat.h"
#include "proc.h"

/* heartbeat.json in dir with the given text. */
static void put(const char *dir, const char *text)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, HEARTBEAT_FILE);
    test_spit_text(path, text);
}

/* A beat written by hand: time t (seconds since the epoch), interval and
 * allowance. */
static void put_beat(const char *dir, double t, int interval, int allowance)
{
    char text[512];
    snprintf(text, sizeof text,
             "{\n  \"time_ms\": %lld,\n  \"interval\": %d,\n  \"allowance\": %d,\n"
             "  \"phase\": \"training\"\n}\n",
             (long long)(t * 1000.0), interval, allowance);
    put(dir, text);
}

/* What heartbeat_judge says of dir at now: 0 fresh, 1 stale, why in why. */
static int judge(const char *dir, double now, char *why, size_t len)
{
    double age;
    return heartbeat_judge(dir, now, &age, why, len);
}

static void test_write_read(const char *root)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/write", root);
    mkdir(dir, 0777);
    Heartbeat hb;
    heartbeat_init(&hb, dir, 7);
    CHECK(hb.interval == 7 && hb.beats == 0 && hb.last == 0, "init: %d %ld", hb.interval, hb.beats);
    Err err = {{0}};
    double before = heartbeat_clock();
    CHECK(heartbeat_write(&hb, "training", 0, &err) == 0, "%s", err.msg);
    double after = heartbeat_clock();
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, HEARTBEAT_FILE);
    size_t len = 0;
    char *text = test_slurp(path, &len);
    CHECK(text != NULL, "no %s", path);
    double t = 0, iv = 0, al = 0;
    CHECK(text && heartbeat_parse(text, len, &t, &iv, &al, &err) == 0, "%s", err.msg);
    /* milliseconds in the file */
    CHECK(t >= floor(before * 1000) / 1000 && t <= after, "time %.3f not in [%.3f, %.3f]", t,
          before, after);
    CHECK(iv == 7 && al == HEARTBEAT_MULTIPLE * 7, "interval %g allowance %g", iv, al);
    ProcId me;
    proc_self(&me);
    char want[400];
    snprintf(want, sizeof want, "\"pid\": %ld", me.pid);
    CHECK(text && strstr(text, want) && strstr(text, "\"phase\": \"training\"") &&
              strstr(text, me.host),
          "host, pid and phase for people: %s", text ? text : "");
    free(text);
    CHECK(test_count(dir, ".tmp.") == 0, "a temporary file was left");
    CHECK(hb.beats == 1 && hb.seconds > 0 && hb.last > 0, "beats %ld seconds %g", hb.beats,
          hb.seconds);
    char why[600];
    CHECK(judge(dir, heartbeat_clock(), why, sizeof why) == 0, "a beat just written: %s", why);

    /* a long phase (the warm-up): at least HEARTBEAT_LONG_PHASE; a longer
     * interval's own allowance when that is more */
    CHECK(heartbeat_write(&hb, "warm-up", 1, &err) == 0, "%s", err.msg);
    text = test_slurp(path, &len);
    CHECK(text && heartbeat_parse(text, len, &t, &iv, &al, &err) == 0 &&
              al == HEARTBEAT_LONG_PHASE && strstr(text, "\"phase\": \"warm-up\""),
          "long phase: allowance %g (%s)", al, err.msg);
    free(text);
    Heartbeat slow;
    heartbeat_init(&slow, dir, 200);
    CHECK(heartbeat_write(&slow, "warm-up", 1, &err) == 0, "%s", err.msg);
    text = test_slurp(path, &len);
    CHECK(text && heartbeat_parse(text, len, &t, &iv, &al, &err) == 0 &&
              al == HEARTBEAT_MULTIPLE * 200,
          "long phase of a 200 s interval: allowance %g", al);
    free(text);

    /* heartbeat_tick: a beat only once the interval has passed */
    Heartbeat tick;
    heartbeat_init(&tick, dir, 5);
    CHECK(heartbeat_tick(&tick, &err) == 0 && tick.beats == 1, "the first tick beats: %ld",
          tick.beats);
    for (int i = 0; i < 100; i++) heartbeat_tick(&tick, &err);
    CHECK(tick.beats == 1, "ticks within the interval wrote %ld beats", tick.beats);
    tick.last -= 5.0; /* as if 5 s had passed */
    CHECK(heartbeat_tick(&tick, &err) == 0 && tick.beats == 2, "a tick after the interval: %ld",
          tick.beats);

    /* a folder that is not there: one line naming the file */
    Heartbeat none;
    char missing[4300];
    snprintf(missing, sizeof missing, "%s/nowhere", root);
    heartbeat_init(&none, missing, 1);
    CHECK(heartbeat_write(&none, "training", 0, &err) == -1, "a beat into a missing folder");
    CHECK_CONTAINS(err.msg, "nowhere/heartbeat.json.tmp.");
    CHECK(!strchr(err.msg, '\n'), "one line: %s", err.msg);

    /* a write that stops short (a full disk; here a file-size limit) fails
     * with the file's name and leaves the last whole beat in place */
    text = test_slurp(path, &len);
    pid_t kid = fork();
    if (kid == 0) {
        struct rlimit rl = {.rlim_cur = 20, .rlim_max = RLIM_INFINITY};
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        Err e = {{0}};
        Heartbeat k;
        heartbeat_init(&k, dir, 1);
        int rc = heartbeat_write(&k, "training", 0, &e);
        _exit(rc == -1 && strstr(e.msg, "heartbeat.json: write failed: File too large") ? 0 : 1);
    }
    int status = 0;
    waitpid(kid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a short write must fail, naming the file");
    size_t len2 = 0;
    char *text2 = test_slurp(path, &len2);
    CHECK(text && text2 && len == len2 && memcmp(text, text2, len) == 0,
          "the beat before a failed write must stay whole");
    CHECK(test_count(dir, ".tmp.") == 0, "a failed write left its temporary file");
    free(text);
    free(text2);
}

/* The rule: stale after the allowance plus HEARTBEAT_SKEW, either clock
 * ahead by up to HEARTBEAT_SKEW allowed. */
static void test_judge(const char *root)
{
    char dir[4200], why[600];
    snprintf(dir, sizeof dir, "%s/judge", root);
    mkdir(dir, 0777);
    double now = heartbeat_clock(), age = 0;
    const int I = 2, A = HEARTBEAT_MULTIPLE * I;
    put_beat(dir, now, I, A);
    CHECK(heartbeat_judge(dir, now, &age, why, sizeof why) == 0 && fabs(age) < 0.01,
          "fresh: %s (age %g)", why, age);
    /* just inside and just past the allowance plus the skew bound */
    put_beat(dir, now - (A + HEARTBEAT_SKEW - 0.5), I, A);
    CHECK(judge(dir, now, why, sizeof why) == 0, "inside the allowance: %s", why);
    put_beat(dir, now - (A + HEARTBEAT_SKEW + 0.5), I, A);
    CHECK(heartbeat_judge(dir, now, &age, why, sizeof why) == 1, "past the allowance: fresh");
    CHECK(fabs(age - (A + HEARTBEAT_SKEW + 0.5)) < 0.01, "age %g", age);
    char want[200];
    snprintf(want, sizeof want, "heartbeat.json is 17 s old (renewed every 2 s; stale after 6 s "
                                "+ %d s for clock skew)", HEARTBEAT_SKEW);
    if (HEARTBEAT_MULTIPLE == 3 && HEARTBEAT_SKEW == 10) CHECK_CONTAINS(why, want);
    else CHECK_CONTAINS(why, "s old (renewed every 2 s");
    /* the writer's clock ahead: a beat from the future within the bound is
     * fresh; beyond it the clocks break the documented bound: stale, said so */
    put_beat(dir, now + HEARTBEAT_SKEW - 0.5, I, A);
    CHECK(judge(dir, now, why, sizeof why) == 0, "a beat %g s ahead: %s", HEARTBEAT_SKEW - 0.5, why);
    put_beat(dir, now + HEARTBEAT_SKEW + 5, I, A);
    CHECK(judge(dir, now, why, sizeof why) == 1, "a beat beyond the skew bound ahead is fresh");
    CHECK_CONTAINS(why, "s in the future: the clocks of this host and the run's differ by more");
    /* the allowance the beat states, not the interval, decides (a long phase) */
    put_beat(dir, now - 200, 1, HEARTBEAT_LONG_PHASE);
    CHECK(judge(dir, now, why, sizeof why) == 0, "200 s into a long phase: %s", why);
    put_beat(dir, now - (HEARTBEAT_LONG_PHASE + HEARTBEAT_SKEW + 1), 1, HEARTBEAT_LONG_PHASE);
    CHECK(judge(dir, now, why, sizeof why) == 1, "past a long phase's allowance is fresh");
}

/* Every damaged file: stale, with a reason that names heartbeat.json. */
static void test_damaged(const char *root)
{
    char dir[4200], why[600], path[4300];
    snprintf(dir, sizeof dir, "%s/damaged", root);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/%s", dir, HEARTBEAT_FILE);
    double now = heartbeat_clock(), age = 0;

    CHECK(heartbeat_judge(dir, now, &age, why, sizeof why) == 1 && isnan(age), "missing: fresh");
    CHECK(strcmp(why, "heartbeat.json is missing") == 0, "missing: %s", why);

    char good[512];
    snprintf(good, sizeof good, "{\"time_ms\": %lld, \"interval\": 1, \"allowance\": 3}",
             (long long)(now * 1000));
    struct {
        const char *text, *want;
    } cases[] = {
        {"", "heartbeat.json is damaged (heartbeat.json:1:"},
        {"{\"time_ms\": 17", "heartbeat.json is damaged (heartbeat.json:1:"},
        {"\x01\x02\xff garbage", "heartbeat.json is damaged (heartbeat.json:1:"},
        {"[1, 2]", "heartbeat.json is damaged (heartbeat.json:"},
        {"{}", "heartbeat.json is damaged (heartbeat.json: no \"time_ms\")"},
        {"{\"time_ms\": 1, \"allowance\": 3}", "no \"interval\")"},
        {"{\"time_ms\": 1, \"interval\": 1}", "no \"allowance\")"},
        {"{\"time_ms\": \"now\", \"interval\": 1, \"allowance\": 3}",
         "heartbeat.json: \"time_ms\": expected a whole number >= 0"},
        {"{\"time_ms\": -5, \"interval\": 1, \"allowance\": 3}",
         "\"time_ms\": expected a whole number >= 0"},
        {"{\"time_ms\": 1.5, \"interval\": 1, \"allowance\": 3}",
         "\"time_ms\": expected a whole number >= 0"},
        {"{\"time_ms\": 1, \"interval\": null, \"allowance\": 3}",
         "\"interval\": expected a whole number >= 0"},
        {"{\"time_ms\": 1, \"interval\": 0, \"allowance\": 3}",
         "\"interval\": 0 is not 1..86400 seconds"},
        {"{\"time_ms\": 1, \"interval\": 86401, \"allowance\": 999999}",
         "\"interval\": 86401 is not 1..86400 seconds"},
        {"{\"time_ms\": 1, \"interval\": 5, \"allowance\": 4}",
         "\"allowance\": 4 is not 5..259200 seconds"},
        {"{\"time_ms\": 1, \"interval\": 5, \"allowance\": 300000}",
         "\"allowance\": 300000 is not 5..259200 seconds"},
        /* a time long past (a clock at 0, a zeroed file): old, not fresh */
        {"{\"time_ms\": 0, \"interval\": 1, \"allowance\": 3}", "heartbeat.json is "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put(dir, cases[i].text);
        int rc = judge(dir, now, why, sizeof why);
        CHECK(rc == 1, "case %zu (%s) reads fresh", i, cases[i].text);
        CHECK_CONTAINS(why, cases[i].want);
        CHECK(!strchr(why, '\n'), "one line: %s", why);
    }
    /* NUL bytes inside, and a file cut at every length: stale, never fresh */
    size_t n = strlen(good);
    for (size_t cut = 0; cut < n; cut++) {
        test_spit(path, good, cut);
        if (judge(dir, now, why, sizeof why) != 1) CHECK(0, "cut at %zu reads fresh", cut);
    }
    char nul[600];
    memcpy(nul, good, n);
    nul[5] = '\0';
    test_spit(path, nul, n);
    CHECK(judge(dir, now, why, sizeof why) == 1, "a NUL byte inside reads fresh");
    test_spit(path, good, n);
    CHECK(judge(dir, now, why, sizeof why) == 0, "the uncut file is fresh: %s", why);
    /* too large, and not a file */
    char big[5000];
    memset(big, ' ', sizeof big);
    memcpy(big, good, n);
    test_spit(path, big, sizeof big);
    CHECK(judge(dir, now, why, sizeof why) == 1, "a 5000-byte file reads fresh");
    CHECK_CONTAINS(why, "heartbeat.json is damaged (over 4096 bytes)");
    remove(path);
    mkdir(path, 0777);
    CHECK(judge(dir, now, why, sizeof why) == 1, "a folder reads fresh");
    CHECK_CONTAINS(why, "heartbeat.json is damaged (not a file)");
    rmdir(path);
}

int main(void)
{
    char root[256];
    test_tmpdir(root, sizeof root, "heartbeat");
    test_write_read(root);
    test_judge(root);
    test_damaged(root);
    test_rmdir(root);
    return check_done("test_heartbeat");
}
