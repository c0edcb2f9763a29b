/* trainer: the training state on the device and its step.
 *
 * Owns: a Trainer (the model, the optimizer, this epoch's order and the
 * per-step loss sums, all on the device; the data sets either resident on
 * the device, uploaded once as the file holds them (bytes for uint8
 * sources, floats for float32), or streamed: see below), the choice
 * between the two ([data] device_memory), the training step (gather,
 * forward, loss, backward, update: no host round trip, no I/O), the
 * epoch's shuffle and pacing, the test evaluation, and the state a
 * checkpoint holds.
 *
 * Streamed data stay on the host (a mapped .npy file, data.h): the batch of
 * each step is gathered on the host in the epoch's order into one of
 * TRAINER_HOST_SLOTS pinned staging buffers and uploaded with a non-blocking
 * write into one of TRAINER_STAGES device buffers, while the device runs
 * the step before (double buffering); the test set goes through
 * the same buffers a batch at a time. The rows reach the network through
 * the same conversion as resident ones (cl/data.cl), so a streamed run's
 * losses are the resident run's, bit for bit. What a run does around it (its folder, its
 * files, signals, the console) is run/train.h's; `clae bench` drives the
 * same Trainer. */
#ifndef CLAE_TRAINER_H
#define CLAE_TRAINER_H

#include "ckpt.h"
#include "config.h"
#include "device.h"
#include "data.h"
#include "model.h"
#include "optim.h"
#include "prof.h"
#include "rng.h"
#include "util.h"

/* Training steps between the points where the epoch loop lets the device
 * catch up (and so notices SIGINT/SIGTERM): see trainer_pace. */
#define TRAINER_SYNC_STEPS 8

/* [data] device_memory = auto: the data sets may take 1 / TRAINER_AUTO_SHARE
 * of the device's global memory (the rest is the model's, CLBlast's and the
 * driver's), and each set must fit one buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)
 * whatever the budget. */
#define TRAINER_AUTO_SHARE 2

/* Streamed data: device buffers a batch is uploaded into, so that batch
 * i + 1 is uploaded while the device runs step i (double buffering). */
#define TRAINER_STAGES 2

/* Streamed data: pinned host buffers a batch is gathered into. A slot is
 * refilled once its upload has run, so this many let the host queue as far
 * ahead as trainer_pace lets it. Measured, `clae bench` of the seed
 * experiment on PoCL (AMD EPYC, avx2 + avx512f, 2 cores), one run each:
 * with 2 host slots the host waited on the device every step and streaming
 * ran at 80 % of resident at batch 50 (5,563 against 6,915 images/s), 99 %
 * at 256; with these, 104 % and 112 % (noise: the gather differs, not the
 * work). A multiple of TRAINER_STAGES. */
#define TRAINER_HOST_SLOTS (2 * TRAINER_SYNC_STEPS)

typedef struct {
    Config cfg;
    Dataset train, test;      /* on the host, as held (data.h): streamed batches come from
                                 here; test labels and pixels feed the outputs */
    Device dev;               /* context, queue, kernels */
    Model model;
    Optim optim;
    Prof prof;
    Rng rng;                  /* seeded from [train] seed: init, then shuffles */
    Rng rng_epoch;            /* rng before the shuffle of the epoch in progress */
    int in_epoch;             /* an epoch is in progress (shuffled, not yet finished) */
    int epochs_done;          /* epochs completed */
    int steps_done;           /* steps done in the epoch in progress */
    int streamed;             /* 1: the data sets stay on the host, batches are streamed */
    char data_mode[400];      /* which of the two, and why: one line for the console,
                                 run.json and the run page */
    size_t data_bytes;        /* the two sets as held (data_row_bytes each item) */
    size_t data_budget;       /* [data] device_memory in bytes, auto resolved */
    size_t data_device_bytes; /* what the data take on the device: both sets, or the
                                 staging buffers */
    cl_mem train_x;           /* resident: (n_train, dim) training set as held (uchar or
                                 float); NULL when streamed */
    cl_mem test_x;            /* resident: (n_test, dim) test set as held; NULL when
                                 streamed */
    cl_mem stage[TRAINER_STAGES];     /* streamed: (batch_size, dim) as held, on the device */
    cl_mem stage_pin[TRAINER_HOST_SLOTS]; /* streamed: pinned host memory (ALLOC_HOST_PTR) */
    void *stage_host[TRAINER_HOST_SLOTS]; /* streamed: stage_pin mapped, (batch_size, dim):
                                             the host gathers a batch here */
    cl_event stage_sent[TRAINER_HOST_SLOTS]; /* the upload from stage_host[s] (NULL: none
                                                pending): s is refilled once it is done */
    int *stage_rows;          /* streamed: (batch_size) the rows of a test batch */
    int staged_step;          /* streamed: the training step whose batch is already
                                 uploaded (batch k goes through host slot k %
                                 TRAINER_HOST_SLOTS and stage k % TRAINER_STAGES), -1 none */
    cl_mem perm;              /* (n_train) int: this epoch's order; NULL when streamed */
    cl_mem step_sums;         /* (steps_per_epoch) summed reconstruction loss of each step */
    cl_mem eval_sums;         /* (eval_batches) summed reconstruction loss of each test batch */
    cl_mem step_kl;           /* vae: (steps_per_epoch) summed KL term of each step; else NULL */
    cl_mem eval_kl;           /* vae: (eval_batches) summed KL term of each test batch */
    cl_mem noisy;             /* (batch_size, dim) the batch corrupted by [train] noise, which
                                 the network sees (model.x stays the clean target); NULL
                                 without noise */
    int *host_perm;           /* (n_train) */
    int steps_per_epoch;
    int eval_batches;
    int config_error;         /* set when setup failed on the config (exit 2) */
} Trainer;

/* Loads the data, checks the batch against it, opens the device (device.h;
 * cl_dir as --cl-dir, NULL for the documented search), chooses resident or
 * streamed data ([data] device_memory; a budget below TRAINER_STAGES
 * batches is a config error naming the least that works) and uploads both
 * sets or makes the staging buffers, creates and initialises the model and
 * optimizer. On failure t is cleaned up and t->config_error tells whether
 * the config was at fault. */
int trainer_setup(Trainer *t, const Config *cfg, const char *cl_dir, Err *err);
void trainer_destroy(Trainer *t);

/* Starts an epoch (in_epoch = 1, steps_done = 0): sets the optimizer's
 * learning rate to the epoch's (schedule.h), draws this epoch's order on
 * the host from the identity, so that it depends on the rng state alone (a
 * checkpoint holds that state), and uploads it (n_train ints). */
int trainer_shuffle(Trainer *t, Err *err);

/* One optimisation step on batch `step` of the current order: gather,
 * corrupt (with [train] noise: the input only, drawn from Philox with the
 * optimizer's step count, so that resume redraws it), forward, loss
 * against the clean batch, backward, update, all queued on the device. */
int trainer_step(Trainer *t, int step, Err *err);

/* Keeps the host at most 2 * TRAINER_SYNC_STEPS steps ahead of the device
 * (call after each step; *mark starts NULL and holds the marker waited for
 * next). Training and bench both run this way. */
int trainer_pace(Trainer *t, int step, cl_event *mark, Err *err);

/* Runs `steps` training steps from position *pos (counted from an epoch's
 * first step, wrapping into the next epoch with its shuffle), paced as
 * training runs them; *pos advances and *images grows by the images they
 * took. Nothing waits for the device at the end. What `clae bench` times,
 * and `clae tune`'s finals. */
int trainer_run_steps(Trainer *t, int steps, long *pos, long *images, Err *err);

/* Ends the epoch in progress (after its last step and its losses). */
void trainer_finish_epoch(Trainer *t);

/* Writes model.ckpt (ckpt.h) of the state now: parameters, optimizer
 * state, epochs and steps done, the rng state the epoch in progress (or the
 * next one) shuffles from, and that epoch's per-step loss sums so far. */
int trainer_save(Trainer *t, const char *path, Err *err);

/* Puts a checkpoint's state into a set-up trainer (after trainer_warmup,
 * which overwrites step sums): checks its shape against the model and the
 * config's optimizer (path names it in errors), and its step count against
 * this config's steps per epoch. */
int trainer_load(Trainer *t, const Ckpt *c, const char *path, Err *err);

/* Runs one forward/backward at each batch size the run will use, without
 * updating anything, and waits: compiles every kernel variant (PoCL
 * compiles on first use), so that epoch timings exclude it. */
int trainer_warmup(Trainer *t, Err *err);

/* An epoch's or a test set's loss: total = recon + kl_weight kl, the loss
 * minimised; for a vae its reconstruction term recon (the mean per pixel)
 * and KL term kl (per image, divided by the pixels per image D; model.h),
 * both NaN for an ae. */
typedef struct {
    double total, recon, kl;
} TrainerLoss;

/* Mean training loss of the epoch just run (reads the per-step sums). */
int trainer_train_losses(Trainer *t, TrainerLoss *loss, Err *err);
int trainer_train_loss(Trainer *t, double *loss, Err *err); /* its total */

/* Mean loss over the whole test set, with z = mu for a vae. */
int trainer_test_losses(Trainer *t, TrainerLoss *loss, Err *err);
int trainer_test_loss(Trainer *t, double *loss, Err *err); /* its total */

/* Forwards n rows of the test set from `first` and copies layer `layer`'s
 * output, (n, dims[layer]), into out. */
int trainer_test_outputs(Trainer *t, int first, int n, int layer, float *out, Err *err);

/* For the denoising picture: the first n test rows corrupted by [train]
 * noise (the Philox stream of the optimizer's step count now: the noise
 * the next step would draw) into noisy (n, dim), and the model's outputs
 * for them into recon (n, dim). Needs [train] noise. */
int trainer_test_denoise(Trainer *t, int n, float *noisy, float *recon, Err *err);

#endif
