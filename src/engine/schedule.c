/* schedule: see schedule.h. */
#include "schedule.h"

#include <math.h>
#include <stdio.h>

#define PI 3.14159265358979323846

double schedule_lr(const Config *cfg, int epoch)
{
    double base = cfg->learning_rate;
    int W = cfg->warmup;
    if (epoch <= W) return base * epoch / W;
    int k = epoch - W - 1, T = cfg->epochs - W;
    switch (cfg->schedule) {
    case SCHEDULE_CONSTANT: return base;
    case SCHEDULE_STEP: return base * pow(cfg->schedule_gamma, k / cfg->schedule_every);
    case SCHEDULE_COSINE:
        /* T >= 1: config_validate keeps the warm-up shorter than the run */
        return base * 0.5 * (1.0 + cos(PI * k / T));
    }
    return base;
}

int schedule_stop(int patience, const double *test, int n, ScheduleStop *s)
{
    s->best_epoch = 0;
    s->best = NAN;
    for (int i = 0; i < n; i++)
        if (s->best_epoch == 0 || test[i] < s->best) s->best = test[i], s->best_epoch = i + 1;
    s->since = n - s->best_epoch;
    return patience > 0 && n > 0 && s->since >= patience;
}

void schedule_stop_reason(const ScheduleStop *s, int patience, char *buf, size_t len)
{
    snprintf(buf, len, "test loss not below %.6g (epoch %d) for %d epochs ([train] patience = %d)",
             s->best, s->best_epoch, s->since, patience);
}
