/* schedule: the training recipe over epochs, a pure function of the
 * config and the epoch (and of the test losses so far).
 *
 * Owns: the learning rate of each epoch ([train] learning_rate, schedule,
 * warmup) and early stopping ([train] patience) on the test losses. Nothing
 * here has state: a resumed run gets its learning rate from the epoch it is
 * in and its early-stopping state from loss.csv's test losses, so it goes on
 * exactly as the uninterrupted run would have. Host only (no OpenCL); the
 * trainer hands the rate to the optimizer at the start of each epoch.
 *
 * The learning rate of epoch e (1-based) of E, base = [train] learning_rate,
 * W = [train] warmup (W < E):
 *   e <= W: base e / W                          (linear ramp, base in epoch W)
 *   e > W, with k = e - W - 1 epochs of the schedule done, T = E - W:
 *     constant:          base
 *     step:EVERY:GAMMA:  base GAMMA^floor(k / EVERY)
 *     cosine:            base (1 + cos(pi k / T)) / 2
 * so cosine starts at base and would reach 0 one epoch after the last (the
 * last epoch runs at base (1 + cos(pi (T-1)/T)) / 2), as PyTorch's
 * CosineAnnealingLR(T_max = T, eta_min = 0) stepped once per epoch. */
#ifndef CLAE_SCHEDULE_H
#define CLAE_SCHEDULE_H

#include <stddef.h>

#include "config.h"

/* The learning rate in effect during epoch `epoch` (1 ..) of cfg's run. */
double schedule_lr(const Config *cfg, int epoch);

/* Early stopping after the epochs whose test losses are test[0 .. n): */
typedef struct {
    int best_epoch;   /* the first epoch with the lowest test loss (1-based), 0 when n = 0 */
    double best;      /* its test loss */
    int since;        /* epochs after best_epoch: n - best_epoch */
} ScheduleStop;

/* Fills *s from the test losses of epochs 1..n and returns 1 when a run
 * with [train] patience = patience (> 0) stops after epoch n: no epoch of
 * the last `patience` had a test loss below the best before them (an
 * improvement is any decrease). 0 with patience 0 (off). */
int schedule_stop(int patience, const double *test, int n, ScheduleStop *s);

/* Why the run stopped, one line: "test loss not below 0.0331 (epoch 12)
 * for 5 epochs ([train] patience = 5)". */
void schedule_stop_reason(const ScheduleStop *s, int patience, char *buf, size_t len);

#endif
