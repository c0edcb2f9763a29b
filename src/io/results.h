/* results: the run folder and everything written into it.
 *
 * Owns: creating <root>/<YYYYmmdd-HHMMSS>-<name>/ with an exclusive mkdir
 * (adding -2, -3, ... when taken, so that runs started in the same second
 * never share a folder), and writing config.ini, loss.csv, latent.csv,
 * recon-epoch-NNN.png and run.json. Whole files are written to a temporary
 * name and renamed; loss.csv grows one whole row per epoch, and run.json
 * says whether the run is still going, completed or failed. */
#ifndef CLAE_RESULTS_H
#define CLAE_RESULTS_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "proc.h"
#include "util.h"

typedef struct {
    char dir[4096];  /* the run folder */
    int loss_fd;     /* loss.csv, open for appending while the run goes on (-1 when
                        not); owned */
} Run;

/* Creates root (and parents) if needed, then the run folder for a run
 * named `name` started at `start`. */
int results_create(Run *run, const char *root, const char *name, time_t start, Err *err);

/* config.ini: the resolved configuration. */
int results_write_config(Run *run, const Config *cfg, Err *err);

/* loss.csv: header `epoch,train_loss,test_loss,seconds,images_per_second`,
 * then one row per epoch, each appended whole or not at all (a failed write,
 * such as a full disk, is cut back), so the file only ever holds whole rows. */
int results_loss_open(Run *run, Err *err);
int results_loss_row(Run *run, int epoch, double train, double test, double seconds, double ips,
                     Err *err);

/* The losses so far, for loss.svg and the run page. */
typedef struct {
    int n, cap;
    int *epoch;            /* (n) */
    double *train, *test;  /* (n) */
} LossHistory;

/* Adds one epoch's row; frees nothing. */
int results_history_add(LossHistory *h, int epoch, double train, double test, Err *err);
void results_history_free(LossHistory *h);

/* For --resume: keeps the header and rows 1..keep of run->dir/loss.csv
 * (rewritten atomically; rows of epochs after the checkpoint go), puts
 * them into h, and opens the file for appending. A loss.csv without those
 * rows is an error naming the file and the first missing epoch. */
int results_loss_resume(Run *run, int keep, LossHistory *h, Err *err);

/* loss.csv as a reader sees it (the run page, while the run may still be
 * writing): rows of epoch,train_loss,test_loss[,seconds,images_per_second]. */
typedef struct {
    int n, skipped;        /* rows read; lines that were not rows */
    int *epoch;            /* (n) */
    double *train, *test;  /* (n) each; NaN where a field is empty */
    double *seconds, *ips; /* (n) each; NaN where empty or absent */
} LossRows;

/* Parses len bytes of loss.csv text into l (owned; results_loss_free). A
 * line without its newline is left out: during a run it may be a row still
 * being written. Lines that are not rows (bar the header) are counted in
 * l->skipped, never fatal; the only error is running out of memory. */
int results_loss_parse(const char *text, size_t len, LossRows *l, Err *err);
void results_loss_free(LossRows *l);

/* latent.csv: `index,label,z1,...,zK`, one row per image; z is (n, k). */
int results_write_latent(Run *run, const float *z, const unsigned char *labels, int n, int k,
                         Err *err);

/* A pixel value in [0,1] as a gray byte: clamp(v, 0, 1) * 255 rounded, NaN
 * to 0. Every clae picture of images converts this way. */
unsigned char results_pixel(float v);

/* recon-epoch-NNN.png: originals (count, rows*cols, values in [0,1]) in the
 * top row, their reconstructions below, each image scaled up x2. */
int results_write_recon(Run *run, int epoch, const float *orig, const float *recon, int count,
                        int rows, int cols, Err *err);

typedef struct {
    const char *status;        /* running, completed, failed, diverged, interrupted */
    time_t start, end;         /* end 0 while running */
    const char *platform, *device, *device_version, *driver_version;
    int platform_index, device_index; /* the P:D of `clae devices` and --device */
    const char *clblast_version;
    const char *kernel_dir, *kernel_dir_source;
    const char *tuning_source;  /* CLBlast tuning: "none", "cache", "shipped" or "file" */
    const char *tuning_path;    /* the file applied, "" for none */
    const char *tuning_hash;    /* its parameters' hash (16 hex digits), "" for none */
    const char *tuning_note;    /* why this one */
    const char *config_name;
    int epochs_done, epochs;
    double final_train_loss, final_test_loss; /* NaN when none yet */
    double seconds, images_per_second;
    long train_images, test_images;
    const char *command_line;
    const char *overrides;     /* "section.key=value ..." given on top of the file, or NULL */
    const char *sweep_name;    /* the sweep file's stem when run by `clae sweep`, else NULL */
    int sweep_index, sweep_count; /* this job's index and the sweep's job count */
    const char *error;         /* NULL or the message of a failed run */
    const char *start_text;    /* when set, written as start_time instead of `start` (a
                                  resumed run keeps its first start) */
    int resumes;               /* times this run was resumed */
    time_t resumed_at;         /* the last resume, 0 if none */
    int resumed_from_epoch, resumed_from_step; /* where the checkpoint stood */
    const ProcId *process;     /* the process doing the run (host, pid, start, boot), so
                                  that a reader can tell a live run from one whose
                                  process was killed; NULL writes null */
    const char *kernel_cache;  /* POCL_CACHE_DIR in effect (kcache.h), or NULL */
} RunInfo;

/* ISO 8601 local time with offset ("2026-11-25T06:32:31+0000") as run.json
 * writes it; "" for t == 0. */
void results_iso_time(char *buf, size_t len, time_t t);

/* run.json, rewritten atomically at each change of state. */
int results_write_json(Run *run, const RunInfo *info, Err *err);

/* Closes loss.csv; the folder stays. */
void results_close(Run *run);

#endif
