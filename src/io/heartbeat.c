/* heartbeat: see heartbeat.h. */
#define _POSIX_C_SOURCE 200809L
#include "heartbeat.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "jsonio.h"
#include "proc.h"

/* A heartbeat.json is about 200 bytes; anything much larger is not one. */
#define HEARTBEAT_MAX 4096
/* The largest interval [output] heartbeat takes (config.c), and so the
 * largest allowance a beat can state. */
#define INTERVAL_MAX 86400

double heartbeat_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void heartbeat_init(Heartbeat *hb, const char *dir, int interval)
{
    memset(hb, 0, sizeof *hb);
    snprintf(hb->path, sizeof hb->path, "%s/%s", dir, HEARTBEAT_FILE);
    hb->interval = interval < 1 ? 1 : interval;
    ProcId me;
    proc_self(&me);
    util_copy(hb->host, sizeof hb->host, me.host);
    hb->pid = me.pid;
}

int heartbeat_write(Heartbeat *hb, const char *phase, int long_phase, Err *err)
{
    double t0 = util_now(), now = heartbeat_clock();
    long long allowance = (long long)HEARTBEAT_MULTIPLE * hb->interval;
    if (long_phase && allowance < HEARTBEAT_LONG_PHASE) allowance = HEARTBEAT_LONG_PHASE;
    char iso[64];
    time_t sec = (time_t)now;
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int failed = 0;
    json_t *o = json_object();
    if (!o) return err_set(err, "%s: out of memory", hb->path);
    /* milliseconds as a whole number: "%.9g" would round seconds since 1970 to tens */
    jsonio_put(o, "time_ms", jsonio_integer((long long)(now * 1000.0)), &failed);
    jsonio_put(o, "time", jsonio_string(iso), &failed);
    jsonio_put(o, "interval", jsonio_integer(hb->interval), &failed);
    jsonio_put(o, "allowance", jsonio_integer(allowance), &failed);
    jsonio_put(o, "phase", jsonio_string(phase), &failed);
    jsonio_put(o, "host", jsonio_string(hb->host), &failed);
    jsonio_put(o, "pid", jsonio_integer(hb->pid), &failed);
    char tmp[4300];
    FILE *f = failed ? NULL : util_atomic_open(hb->path, tmp, sizeof tmp, err);
    if (failed) err_set(err, "%s: out of memory", hb->path);
    int rc = -1;
    if (f) {
        if (jsonio_write(f, o)) {
            util_atomic_abort(f, tmp);
            err_set(err, "%s: out of memory", hb->path);
        } else {
            rc = util_atomic_commit(f, tmp, hb->path, err);
        }
    }
    json_decref(o);
    if (rc == 0) {
        hb->beats++;
        hb->last = util_now();
        hb->seconds += hb->last - t0;
    }
    return rc;
}

int heartbeat_tick(Heartbeat *hb, Err *err)
{
    if (hb->last > 0 && util_now() - hb->last < hb->interval) return 0;
    return heartbeat_write(hb, "training", 0, err);
}

int heartbeat_parse(const char *text, size_t len, double *time, double *interval,
                    double *allowance, Err *err)
{
    Err e = {{0}};
    json_t *doc = jsonio_parse(text, len, &e);
    if (!doc) return err_set(err, "%s:%s", HEARTBEAT_FILE, e.msg);
    JsonObj top = jsonio_top(doc);
    double ms = NAN, iv = NAN, al = NAN;
    int rc = 0;
    const char *missing = !jsonio_has(&top, "time_ms")     ? "time_ms"
                          : !jsonio_has(&top, "interval")  ? "interval"
                          : !jsonio_has(&top, "allowance") ? "allowance"
                                                           : NULL;
    if (missing)
        rc = err_set(err, "%s: no \"%s\"", HEARTBEAT_FILE, missing);
    else if (jsonio_count(&top, "time_ms", &ms, &e) || jsonio_count(&top, "interval", &iv, &e) ||
             jsonio_count(&top, "allowance", &al, &e))
        rc = err_set(err, "%s: %s", HEARTBEAT_FILE, e.msg);
    else if (iv < 1 || iv > INTERVAL_MAX)
        rc = err_set(err, "%s: \"interval\": %.0f is not 1..%d seconds", HEARTBEAT_FILE, iv,
                     INTERVAL_MAX);
    else if (al < iv || al > (double)HEARTBEAT_MULTIPLE * INTERVAL_MAX)
        rc = err_set(err, "%s: \"allowance\": %.0f is not %.0f..%.0f seconds", HEARTBEAT_FILE,
                     al, iv, (double)HEARTBEAT_MULTIPLE * INTERVAL_MAX);
    json_decref(doc);
    if (rc) return -1;
    *time = ms / 1000.0;
    *interval = iv;
    *allowance = al;
    return 0;
}

int heartbeat_judge(const char *dir, double now, double *age, char *why, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, HEARTBEAT_FILE);
    if (age) *age = NAN;
    why[0] = '\0';
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) util_fmt(why, len, "%s is missing", HEARTBEAT_FILE);
        else util_fmt(why, len, "%s is unreadable: %s", HEARTBEAT_FILE, strerror(errno));
        return 1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > HEARTBEAT_MAX) {
        util_fmt(why, len, "%s is damaged (%s)", HEARTBEAT_FILE,
                 !S_ISREG(st.st_mode) ? "not a file" : "over 4096 bytes");
        return 1;
    }
    Err e = {{0}};
    size_t n;
    char *text = util_read_file(path, &n, &e);
    if (!text) {
        util_fmt(why, len, "%s is unreadable (%s)", HEARTBEAT_FILE, e.msg);
        return 1;
    }
    double t, interval, allowance;
    int rc = heartbeat_parse(text, n, &t, &interval, &allowance, &e);
    free(text);
    if (rc) {
        util_fmt(why, len, "%s is damaged (%s)", HEARTBEAT_FILE, e.msg);
        return 1;
    }
    double a = now - t;
    if (age) *age = a;
    if (a < -HEARTBEAT_SKEW) {
        util_fmt(why, len, "%s is %.0f s in the future: the clocks of this host and the "
                           "run's differ by more than the %d s clae allows", HEARTBEAT_FILE,
                 -a, HEARTBEAT_SKEW);
        return 1;
    }
    if (a > allowance + HEARTBEAT_SKEW) {
        util_fmt(why, len, "%s is %.0f s old (renewed every %.0f s; stale after %.0f s + %d s "
                           "for clock skew)", HEARTBEAT_FILE, a, interval, allowance,
                 HEARTBEAT_SKEW);
        return 1;
    }
    return 0;
}
