/* runfolder: one run's folder and the files in it, written by the run and
 * read by everything that looks at runs afterwards.
 *
 * Owns: creating <root>/<YYYYmmdd-HHMMSS>-<name>/ with an exclusive mkdir
 * (adding -2, -3, ... when taken, so that runs started in the same second
 * never share a folder), and the formats of its files, each read and
 * written here only: config.ini (config.h's text), loss.csv (one whole row
 * appended per epoch; the one parser the run page and --resume share),
 * latent.csv (the one writer, for runs and `clae encode`, and its reader),
 * recon-epoch-NNN.png and denoise.png (png.h's tiles), and run.json, written from a
 * RunRecord and read back into one. The run's status is a RunStatus with
 * one name table; a run.json that says running but whose process is gone
 * reads as stale. Whole files are written to a temporary name and renamed;
 * loss.csv grows one whole row per epoch. Host only. */
#ifndef CLAE_RUNFOLDER_H
#define CLAE_RUNFOLDER_H

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "proc.h"
#include "util.h"

/* What became of a run, or of a job that was to make one. run.json holds
 * the first five; a reader adds stale and not a run; batches add the
 * outcomes of jobs that have no run of their own. */
typedef enum {
    RUN_RUNNING,
    RUN_COMPLETED,
    RUN_FAILED,
    RUN_DIVERGED,
    RUN_INTERRUPTED,
    RUN_STALE,        /* run.json says running, but its process is gone */
    RUN_NOT_A_RUN,    /* no run.json, or one clae did not write */
    RUN_OTHER,        /* a status word clae does not write (a hand-edited run.json) */
    RUN_SKIPPED,      /* a batch job done before (--skip-done) */
    RUN_NOT_RUN,      /* a batch job never started (--fail-fast, Ctrl-C) */
    RUN_CONFIG_ERROR, /* a job whose config failed before a folder was made */
    RUN_KILLED,       /* a job whose process died of a signal */
    RUN_STATUS_COUNT
} RunStatus;

/* The status as files and tables write it: "running", "completed", ...,
 * "not a run", "config error"; a static string. */
const char *runfolder_status_name(RunStatus s);

/* A run as run.json records it. The run's process fills one and writes it
 * (runfolder_write_json) at every change of state, and appends it to
 * runs.csv (runs.h) when it completes; readers get one from
 * runfolder_read. */
typedef struct {
    char folder[4096];       /* the run folder's path (root/id) */
    char id[256];            /* its last component: YYYYmmdd-HHMMSS-name[-N] */
    char name[256];          /* the config's [output] name */
    RunStatus status;
    char status_word[32];    /* RUN_OTHER: the word run.json has */
    char start[64], end[64]; /* ISO 8601 local time with offset; end "" while running */
    int epochs_done, epochs;
    double train_loss, test_loss;      /* final losses; NaN when none yet */
    double images_per_second, seconds; /* NaN when none */
    long train_images, test_images;
    int input_values;        /* values per item (the model's input); 0 when unknown */
    int image_rows, image_cols; /* the items' image shape; 0 x 0 when they are not images
                                   (or unknown: a run.json of an earlier version) */
    int image_channels;      /* 1 (gray), 3 (RGB) or 4 (RGBA); 0 when not images. A
                                run.json without it (an earlier version) reads as 1 for
                                images, else 0 */
    char device_index[32];   /* "P:D", the indices of `clae devices` and --device */
    char device_name[256];
    char sweep[256];         /* the sweep file's stem for a sweep job, else "" */
    int sweep_index;         /* this job's index in the sweep, -1 if none */
    int sweep_count;         /* the sweep's job count (written, not read back) */
    char overrides[2048];    /* "section.key=value ..." given on top of the file, "" if none */
    char error[1024];        /* why the run failed; why a folder is not a run; what to
                                do about a stale run; "" otherwise */
    int resumes;             /* times the run was resumed (clae train --resume) */
    char resumed_at[64];     /* when it was resumed last, "" if never (not read back) */
    int resumed_from_epoch, resumed_from_step; /* where that checkpoint stood */
    ProcId process;          /* the process doing the run (host, pid, start, boot), so
                                that a reader can tell a live run from a killed one;
                                pid 0 when unknown (written as null) */
    int heartbeat;           /* seconds between renewals of heartbeat.json ([output]
                                heartbeat), 0 in a run.json of a clae without it */
    int alive;               /* a reader's verdict on a running run: 1 its process lives
                                (this host) or its heartbeat is fresh (another host), 0
                                stale, -1 cannot tell (another host, no heartbeat) */
    double heartbeat_age;    /* seconds since the beat a reader judged; NaN when none */
    char kernel_cache[1024]; /* the POCL_CACHE_DIR it ran with (kcache.h), "" if none */
    char early_stop[256];    /* why early stopping ([train] patience) ended the run before
                                [train] epochs, "" if it did not */
    int best_epoch;          /* early stopping: the epoch of the best test loss, 0 if none */
    double best_test_loss;   /* early stopping: that loss; NaN if none */
    char data_mode[400];     /* how the data sets were held on the device and why:
                                "resident: ..." or "streamed: ..." (trainer.h); "" when
                                unknown (a run.json of an earlier version) */
    double data_device_bytes, data_budget; /* what the data took on the device, and
                                              [data] device_memory in bytes; NaN when
                                              unknown */
    /* Where the run ran, as only its own process knows it: written to
     * run.json, not read back (NULL in a record that runfolder_read
     * filled). Borrowed strings. */
    const char *platform, *device_version, *driver_version, *clblast_version;
    const char *kernel_dir, *kernel_dir_source;
    const char *tuning_source;  /* CLBlast tuning: "none", "cache", "shipped" or "file";
                                   NULL writes no "tuning" */
    const char *tuning_path, *tuning_hash, *tuning_note;
    const char *command_line;
    /* The resolved config, every key, as config.ini records it: written to
     * run.json as "config": {"section.key": "value", ...} so that one file
     * says what a run was (jq '.config["model.kind"]'); NULL writes null.
     * Not read back: config.ini is the config's own file. Borrowed. */
    const Config *config;
} RunRecord;

/* r for folder with nothing known yet: zero counts, NaN numbers, no sweep,
 * status not a run, id the folder's last component. */
void runfolder_record_init(RunRecord *r, const char *folder);

/* The status as shown: runfolder_status_name, or for RUN_OTHER the word
 * run.json has. */
const char *runfolder_status_text(const RunRecord *r);

/* The device as runs.csv and the pages show it: "P:D name" (either alone
 * when the other is unknown). */
void runfolder_device_label(const RunRecord *r, char *buf, size_t len);

/* ISO 8601 local time with offset ("2026-11-25T06:32:31+0000") as run.json
 * writes it; "" for t == 0. */
void runfolder_iso_time(char *buf, size_t len, time_t t);

/* Writes r->folder/run.json from r (atomically): the run's status, times,
 * device, tuning, counts, losses, command line, overrides, sweep, resumes,
 * process and kernel cache, the data on the device ("device_data": the
 * mode, resident or streamed, why, its bytes and the budget; null when
 * unknown), early stopping ("early_stop": null, or the
 * reason, best epoch and best test loss), and the error of a run that did
 * not complete. */
int runfolder_write_json(const RunRecord *r, Err *err);

/* Reads folder/run.json into r. Returns 0, or -1 with r->status
 * RUN_NOT_A_RUN and the reason in err and r->error (no run.json, over 1 MiB,
 * "run.json:LINE:COL: what" for text that is not JSON, "run.json: \"member\":
 * what" for a member of another type, no status or name). Members it does
 * not know are skipped. A run that says running but whose process no
 * longer exists on this host becomes RUN_STALE, with r->error saying so and
 * giving the command that continues it (clae train --resume FOLDER, or a
 * fresh start when it has no model.ckpt). A running run of another host
 * (whose process cannot be asked) is judged by its heartbeat.json
 * (heartbeat.h): stale when the beat is too old, or the file missing or
 * damaged, with the reason; a run.json without "heartbeat" (an earlier
 * clae) stays running (r->alive -1). */
int runfolder_read(const char *folder, RunRecord *r, Err *err);

/* ---- the run's own writing ---------------------------------------------- */

typedef struct {
    char dir[4096];  /* the run folder */
    int loss_fd;     /* loss.csv, open for appending while the run goes on (-1 when
                        not); owned */
} RunFolder;

/* Creates root (and parents) if needed, then the run folder for a run
 * named `name` started at `start`. */
int runfolder_create(RunFolder *rf, const char *root, const char *name, time_t start, Err *err);

/* An existing run folder (--resume), with no file open yet. */
int runfolder_open(RunFolder *rf, const char *dir, Err *err);

/* config.ini: the resolved configuration. */
int runfolder_write_config(RunFolder *rf, const Config *cfg, Err *err);

/* One epoch's row of loss.csv. The losses, time and speed are written as
 * numbers (a diverged epoch's nan or inf included); the learning rate and
 * the VAE terms are written empty when NaN. */
typedef struct {
    int epoch;
    double train, test;      /* the loss minimised: mean over the epoch's steps, and over the
                                test set after the epoch */
    double seconds, ips;     /* the epoch's time and training images/s */
    double lr;               /* the learning rate in effect during the epoch */
    double train_recon, train_kl, test_recon, test_kl; /* a VAE's two terms (train = recon +
                                kl_weight x kl); NaN for an autoencoder */
} LossRow;
#define LOSS_COLUMNS 10

/* loss.csv: header `epoch,train_loss,test_loss,seconds,images_per_second,
 * learning_rate,train_recon,train_kl,test_recon,test_kl`, then one row per
 * epoch, each appended whole or not at all (a failed write, such as a full
 * disk, is cut back), so the file only ever holds whole rows. */
int runfolder_loss_open(RunFolder *rf, Err *err);
int runfolder_loss_row(RunFolder *rf, const LossRow *row, Err *err);

/* The losses so far, for loss.svg and the run page. */
typedef struct {
    int n, cap;
    int *epoch;            /* (n) */
    double *train, *test;  /* (n) */
    double *train_kl, *test_kl; /* (n); a VAE's KL terms, NaN for an autoencoder */
} LossHistory;

/* Adds one epoch's row; frees nothing. */
int runfolder_history_add(LossHistory *h, int epoch, double train, double test, double train_kl,
                          double test_kl, Err *err);
void runfolder_history_free(LossHistory *h);

/* For --resume: keeps the header and rows 1..keep of rf->dir/loss.csv
 * (rewritten atomically; rows of epochs after the checkpoint go), puts
 * them into h, and opens the file for appending. A loss.csv without those
 * rows is an error naming the file and the first missing epoch. */
int runfolder_loss_resume(RunFolder *rf, int keep, LossHistory *h, Err *err);

/* loss.csv as a reader sees it (the run page, while the run may still be
 * writing): rows of epoch,train_loss,test_loss and up to LOSS_COLUMNS - 3
 * more (files of earlier clae versions have 5 columns). */
typedef struct {
    int n, skipped;        /* rows read; lines that were not rows */
    int *epoch;            /* (n) */
    double *train, *test;  /* (n) each; NaN where a field is empty */
    double *seconds, *ips; /* (n) each; NaN where empty or absent */
    double *lr;            /* (n); NaN where empty or absent */
    double *train_recon, *train_kl, *test_recon, *test_kl; /* (n) each; NaN likewise */
} LossRows;

/* Parses len bytes of loss.csv text into l (owned; runfolder_loss_free). A
 * line without its newline is left out: during a run it may be a row still
 * being written. Lines that are not rows (bar the header) are counted in
 * l->skipped, never fatal; the only error is running out of memory. */
int runfolder_loss_parse(const char *text, size_t len, LossRows *l, Err *err);
void runfolder_loss_free(LossRows *l);

/* latent.csv's text: `index,label,z1,...,zK`, one row per code of z (n, k)
 * in "%.7g", index from 0; the label column empty when labels is NULL.
 * The one writer of the format: a run's latent.csv and `clae encode`. */
void runfolder_latent_csv(FILE *f, const float *z, const unsigned char *labels, int n, int k);

/* rf->dir/latent.csv (runfolder_latent_csv, atomically). */
int runfolder_write_latent(RunFolder *rf, const float *z, const unsigned char *labels, int n,
                           int k, Err *err);

/* Reads a latent.csv into *z (n, k), malloc'd, freed by the caller. *k > 0:
 * the header must have exactly *k z columns; *k == 0: any number, which goes
 * to *k. Every row has k finite numbers. labels (may be NULL): the label
 * column (n), malloc'd, freed by the caller, NULL when every label is empty
 * (unlabelled data); an empty label among others reads as 255. Errors name
 * path:line. */
int runfolder_read_latent(const char *path, int *k, float **z, unsigned char **labels, int *n,
                          Err *err);

/* recon-epoch-NNN.png: originals (count, channels*rows*cols in (C, H, W)
 * order, values in [0,1]) in the top row, their reconstructions below, each
 * image scaled up x2, on a mid-gray frame 2 pixels wide (pngio_write_tiles):
 * a gray PNG for 1 channel, RGB for 3, RGBA for 4. */
int runfolder_write_recon(RunFolder *rf, int epoch, const float *orig, const float *recon,
                          int count, int channels, int rows, int cols, Err *err);

/* denoise.png, for a run with [train] noise: the first `count` test images
 * in the top row, the same corrupted by the training noise in the middle,
 * and the model's reconstructions of the corrupted ones below, each scaled
 * up x2 on the recon grids' frame, in the recon grids' channels. */
int runfolder_write_denoise(RunFolder *rf, const float *clean, const float *noisy,
                            const float *recon, int count, int channels, int rows, int cols,
                            Err *err);

/* Closes loss.csv; the folder stays. */
void runfolder_close(RunFolder *rf);

#endif
