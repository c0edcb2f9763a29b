/* test_schedule: the learning rate of every epoch for each [train]
 * schedule, with and without a warm-up, against values worked out by hand
 * (schedule.h's table), and early stopping's decision on made-up test
 * losses: ties are no improvement, patience 0 never stops, the reason
 * names the best epoch. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>

#include "check.h"
#include "schedule.h"

/* cfg with learning rate 0.1, `epochs` epochs, warm-up W and the schedule
 * given as the file would say it. */
static Config recipe(int epochs, int warmup, const char *schedule)
{
    Config c;
    Err err = {{0}};
    config_defaults(&c);
    char set[64];
    snprintf(set, sizeof set, "train.schedule=%s", schedule);
    if (config_set(&c, set, &err) || config_set(&c, "train.learning_rate=0.1", &err))
        fprintf(stderr, "%s\n", err.msg);
    c.epochs = epochs;
    c.warmup = warmup;
    CHECK(config_validate(&c, &err) == 0, "%s", err.msg);
    return c;
}

/* Every epoch's rate against want[0 .. epochs), to 1e-12 relative. */
static void expect_rates(const char *what, const Config *c, const double *want)
{
    for (int e = 1; e <= c->epochs; e++) {
        double lr = schedule_lr(c, e);
        CHECK(fabs(lr - want[e - 1]) <= 1e-12 * want[e - 1], "%s: epoch %d: lr %.17g, want %.17g",
              what, e, lr, want[e - 1]);
    }
}

static void test_rates(void)
{
    Config c = recipe(5, 0, "constant");
    expect_rates("constant", &c, (const double[]){0.1, 0.1, 0.1, 0.1, 0.1});

    c = recipe(7, 4, "constant");
    expect_rates("constant, warmup 4", &c,
                 (const double[]){0.025, 0.05, 0.075, 0.1, 0.1, 0.1, 0.1});

    c = recipe(10, 0, "step:3:0.5");
    expect_rates("step:3:0.5", &c,
                 (const double[]){0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125});

    /* the steps count from the end of the warm-up */
    c = recipe(8, 2, "step:2:0.1");
    expect_rates("step:2:0.1, warmup 2", &c,
                 (const double[]){0.05, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001});

    /* cos(pi/4) = sqrt(2)/2: 0.1 (1 + 0.7071...) / 2, 0.05, 0.1 (1 - 0.7071...) / 2 */
    double r = sqrt(2.0) / 2;
    c = recipe(4, 0, "cosine");
    expect_rates("cosine", &c, (const double[]){0.1, 0.05 * (1 + r), 0.05, 0.05 * (1 - r)});
    /* the same curve over the 4 epochs after a 1-epoch warm-up */
    c = recipe(5, 1, "cosine");
    expect_rates("cosine, warmup 1", &c, (const double[]){0.1, 0.1, 0.05 * (1 + r), 0.05,
                                                          0.05 * (1 - r)});
    /* a single epoch of cosine runs at the base rate */
    c = recipe(3, 2, "cosine");
    expect_rates("cosine, one epoch after warmup 2", &c, (const double[]){0.05, 0.1, 0.1});
    /* a long run never reaches 0 nor goes up */
    c = recipe(1000, 10, "cosine");
    double prev = INFINITY;
    int monotone = 1;
    for (int e = 11; e <= 1000; e++) {
        double lr = schedule_lr(&c, e);
        if (!(lr > 0 && lr <= prev)) monotone = 0;
        prev = lr;
    }
    /* the last epoch: 0.1 (1 + cos(pi 989/990)) / 2 = 0.1 (pi/990)^2 / 4 = 2.5e-7 */
    CHECK(monotone && prev > 2.5e-7 && prev < 2.6e-7, "cosine decays towards 0, last %g", prev);
}

static void test_stop(void)
{
    ScheduleStop s;
    const double losses[] = {5, 4, 3, 3.5, 3.2, 3, 2.9};
    CHECK(!schedule_stop(2, losses, 0, &s) && s.best_epoch == 0, "no epochs, no stop");
    CHECK(!schedule_stop(2, losses, 3, &s) && s.best_epoch == 3 && s.since == 0,
          "improving: best %d since %d", s.best_epoch, s.since);
    CHECK(!schedule_stop(2, losses, 4, &s) && s.since == 1, "one epoch without improvement");
    CHECK(schedule_stop(2, losses, 5, &s) && s.best_epoch == 3 && s.best == 3 && s.since == 2,
          "patience 2: stops after epoch 5");
    CHECK(!schedule_stop(3, losses, 5, &s), "patience 3: goes on");
    /* a tie with the best is no improvement */
    CHECK(schedule_stop(3, losses, 6, &s) && s.best_epoch == 3 && s.since == 3,
          "epoch 6 equals epoch 3's loss: best stays epoch 3 (%d)", s.best_epoch);
    CHECK(!schedule_stop(4, losses, 7, &s) && s.best_epoch == 7 && s.since == 0,
          "epoch 7 improves");
    CHECK(!schedule_stop(0, losses, 6, &s) && s.since == 3, "patience 0 never stops");
    CHECK(schedule_stop(1, (const double[]){1, 1}, 2, &s) && s.best_epoch == 1, "patience 1");
    char why[200];
    schedule_stop(2, losses, 5, &s);
    schedule_stop_reason(&s, 2, why, sizeof why);
    CHECK(strcmp(why, "test loss not below 3 (epoch 3) for 2 epochs ([train] patience = 2)") == 0,
          "%s", why);
}

int main(void)
{
    test_rates();
    test_stop();
    return check_done("test_schedule");
}
