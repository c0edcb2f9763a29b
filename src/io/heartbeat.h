/* heartbeat: a running run's proof of life that any host sharing its
 * results root can read.
 *
 * Owns: the run folder's heartbeat.json (its one writer and reader) and the
 * rule that says when a heartbeat is too old. A run renews the file from its
 * training loop's sync points every [output] heartbeat seconds, atomically
 * (temporary name, then rename), so a reader on any node sees one whole
 * beat. A reader that cannot check the run's process itself (another host:
 * proc.h) judges it by the beat: stale when the beat is older than the
 * allowance the beat states (HEARTBEAT_MULTIPLE intervals; at least
 * HEARTBEAT_LONG_PHASE for a phase without sync points) plus
 * HEARTBEAT_SKEW seconds for the clocks of two hosts that disagree. A file
 * that is missing, cut, or not one clae wrote makes the run stale too, with
 * the reason: a run that cannot prove it is alive is never taken for one
 * that is. Host only. */
#ifndef CLAE_HEARTBEAT_H
#define CLAE_HEARTBEAT_H

#include <stddef.h>

#include "util.h"

#define HEARTBEAT_FILE "heartbeat.json"

/* A beat is due every interval; a reader allows HEARTBEAT_MULTIPLE of them
 * (a beat written late because 8 steps or an epoch's outputs took long, and
 * one more) before the run is stale. */
#define HEARTBEAT_MULTIPLE 3

/* Seconds by which the clocks of the writing and the reading host may
 * disagree (either way): added to every allowance, so that a live run on a
 * host whose clock is behind is not taken for dead. NTP or chrony keep a
 * cluster within milliseconds. */
#define HEARTBEAT_SKEW 10

/* The least allowance of a beat written before a phase with no sync points
 * inside (the warm-up, which compiles the kernels, and the run's final
 * outputs): seconds. */
#define HEARTBEAT_LONG_PHASE 300

/* The writer's side: one per run, in the run's process. */
typedef struct {
    char path[4200];  /* <run folder>/heartbeat.json */
    int interval;     /* seconds between beats, >= 1 ([output] heartbeat) */
    double last;      /* util_now() of the last beat written; 0 before the first */
    long beats;       /* beats written by this process */
    double seconds;   /* wall time spent writing them (the heartbeat's cost) */
    char host[256];   /* this process's host and pid, written for people who */
    long pid;         /* open the file (readers judge by the time alone) */
} Heartbeat;

/* hb for the run folder dir, beating every interval seconds; writes nothing. */
void heartbeat_init(Heartbeat *hb, const char *dir, int interval);

/* Writes a beat now: the wall-clock time, the interval, the allowance
 * (HEARTBEAT_MULTIPLE intervals, or at least HEARTBEAT_LONG_PHASE when
 * long_phase) and the phase's name ("training", "warm-up", ...), atomically.
 * Returns 0, or -1 with err naming the file. */
int heartbeat_write(Heartbeat *hb, const char *phase, int long_phase, Err *err);

/* At a sync point of the training loop: writes a beat ("training") when
 * the interval has passed since the last one, else nothing (one clock
 * read). Returns 0, or -1 with err. */
int heartbeat_tick(Heartbeat *hb, Err *err);

/* The reader's side: what dir/heartbeat.json says at wall-clock time now
 * (seconds since the epoch). Returns 0 when the beat is fresh, 1 when the
 * run is stale, with why (len bytes) saying so in words that start with the
 * file's name: how old the beat is against its allowance, or what is wrong
 * with the file (missing, not JSON with its line:col, a member missing or of
 * the wrong type, an interval or allowance out of range, a time further in
 * the future than HEARTBEAT_SKEW). *age (may be NULL) gets the beat's
 * age in seconds, NaN when the file could not be read; negative when the
 * writer's clock is ahead. */
int heartbeat_judge(const char *dir, double now, double *age, char *why, size_t len);

/* Parses len bytes of heartbeat.json text: the beat's time (seconds since
 * the epoch), interval and allowance. Returns 0, or -1 with err saying what
 * is wrong ("heartbeat.json:LINE:COL: ..." for text that is not JSON). */
int heartbeat_parse(const char *text, size_t len, double *time, double *interval,
                    double *allowance, Err *err);

/* The wall clock in seconds since the epoch, to the microsecond. */
double heartbeat_clock(void);

#endif
