/* fuzz_latentcsv: a run's latent.csv, as `clae generate` reads it
 * (runfolder_read_latent, then the range and grid of the manifold picture:
 * infer_mean, infer_bounds, infer_grid_codes) and `clae plot` draws it
 * (plot_latent_svg, labels and all).
 *
 * Input: one byte, then the bytes of latent.csv. The byte picks the model's
 * latent size K = 1 + byte % 4 and the grid 2 + (byte / 4) % 6.
 *
 * Promises checked: every code read is finite; the bounds are finite with
 * lo <= hi; every grid point is finite and inside the bounds; the plot is
 * drawn. */
#include "fuzz.h"

#include <math.h>

#include "infer.h"
#include "plot.h"
#include "runfolder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int k = 1 + data[0] % 4, grid = 2 + (data[0] / 4) % 6;
    char path[4200];
    fuzz_write("latent.csv", data + 1, size - 1, path, sizeof path);
    float *z = NULL;
    int n = 0;
    Err err = {{0}};
    unsigned char *labels = NULL;
    if (runfolder_read_latent(path, &k, &z, &labels, &n, &err) != 0) {
        FUZZ_ASSERT(z == NULL && labels == NULL && strchr(err.msg, '\n') == NULL, "failed read: %s",
                    err.msg);
        return 0;
    }
    PlotLatent pl = {.n = n, .k = k, .z = z, .labels = labels, .title = "fuzz"};
    char *svg = plot_latent_svg(&pl, &err);
    FUZZ_ASSERT(svg != NULL, "plot: %s", err.msg);
    free(svg);
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++) FUZZ_ASSERT(isfinite(z[i]), "z[%zu] = %g", i, z[i]);
    if (n > 0) {
        float mean[4], lo[2] = {0, 0}, hi[2] = {0, 0};
        infer_mean(z, n, k, mean);
        for (int j = 0; j < k && j < 2; j++) {
            FUZZ_ASSERT(infer_bounds(z, n, k, j, &lo[j], &hi[j], &err) == 0, "%s", err.msg);
            FUZZ_ASSERT(isfinite(lo[j]) && isfinite(hi[j]) && lo[j] <= hi[j], "bounds %g..%g",
                        lo[j], hi[j]);
        }
        size_t cells = (size_t)grid * (size_t)(k == 1 ? 1 : grid);
        float *g = malloc(cells * (size_t)k * sizeof *g);
        infer_grid_codes(grid, k, lo, hi, mean, g);
        for (size_t c = 0; c < cells; c++)
            for (int j = 0; j < k && j < 2; j++) {
                float v = g[c * (size_t)k + (size_t)j];
                FUZZ_ASSERT(isfinite(v) && v >= lo[j] && v <= hi[j], "cell %zu z%d = %g outside %g..%g",
                            c, j + 1, v, lo[j], hi[j]);
            }
        free(g);
    }
    free(z);
    free(labels);
    return 0;
}
