/* selftest: checks the chosen device against the host (ref.h): every
 * kernel, CLBlast SGEMM in all four transpose combinations, and a
 * finite-difference gradient check of a tiny network for every parameter
 * tensor, each activation and both losses. Prints one line per check. */
#ifndef CLAE_SELFTEST_H
#define CLAE_SELFTEST_H

#include <stdio.h>

#include "clctx.h"
#include "kernels.h"
#include "util.h"

/* Runs every check, printing "ok"/"FAIL" lines to out. Returns the number
 * of failed checks, or -1 if a check could not run at all (err says why). */
int selftest_run(ClCtx *ctx, Kernels *k, FILE *out, Err *err);

#endif
