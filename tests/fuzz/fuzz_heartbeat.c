/* fuzz_heartbeat: a run folder's heartbeat.json, as a reader on another
 * host judges a running run by it (heartbeat_judge, through runfolder_read).
 *
 * Input: the bytes of heartbeat.json.
 *
 * Promises checked: heartbeat_parse either refuses the bytes with one line
 * that names heartbeat.json, or gives a finite time >= 0, an interval of
 * 1..86400 s and an allowance of at least the interval; heartbeat_judge
 * says stale (1) or fresh (0), never anything else, with one line that
 * names the file when stale; a file the parser refuses is always stale; a
 * fresh beat is within its allowance plus the skew bound either way. */
#include "fuzz.h"

#include <math.h>
#include <sys/stat.h>

#include "heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[4200], path[4300];
    fuzz_path(dir, sizeof dir, "run");
    mkdir(dir, 0777);
    fuzz_write("run/" HEARTBEAT_FILE, data, size, path, sizeof path);
    Err err = {{0}};
    double t = NAN, interval = NAN, allowance = NAN;
    int parsed = heartbeat_parse((const char *)data, size, &t, &interval, &allowance, &err);
    FUZZ_ASSERT(parsed == 0 || parsed == -1, "parse returned %d", parsed);
    if (parsed)
        FUZZ_ASSERT(!strchr(err.msg, '\n') && strstr(err.msg, HEARTBEAT_FILE),
                    "message: %s", err.msg);
    else
        FUZZ_ASSERT(isfinite(t) && t >= 0 && interval >= 1 && interval <= 86400 &&
                        allowance >= interval,
                    "time %g interval %g allowance %g", t, interval, allowance);
    char why[600];
    double now = heartbeat_clock(), age = NAN;
    int stale = heartbeat_judge(dir, now, &age, why, sizeof why);
    FUZZ_ASSERT(stale == 0 || stale == 1, "judge returned %d", stale);
    FUZZ_ASSERT(!stale || (strstr(why, HEARTBEAT_FILE) && !strchr(why, '\n')), "why: %s", why);
    /* the file holds the bytes the parser saw, unless it is over the size
     * the reader takes at all */
    if (parsed) FUZZ_ASSERT(stale == 1, "a refused file judged fresh");
    if (!stale)
        FUZZ_ASSERT(age >= -HEARTBEAT_SKEW && age <= allowance + HEARTBEAT_SKEW,
                    "fresh at age %g (allowance %g)", age, allowance);
    return 0;
}
