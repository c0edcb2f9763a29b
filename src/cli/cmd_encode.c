/* cmd_encode: `clae encode RUN IMAGES`, a trained run's latent codes of the
 * items of an IDX or .npy file, as latent.csv writes them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "runfolder.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae encode RUN_DIR IMAGES [--labels LABELS] [-o FILE.csv] [--device SPEC]\n"
    "                   [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  IMAGES               an IDX file of 8-bit images, gzip or plain (such as\n"
    "                       t10k-images-idx3-ubyte.gz), or a .npy file as [data] format = npy\n"
    "                       takes (uint8 or float32, (N, D) or (N, H, W)); the values per item\n"
    "                       must be the model's input size; uint8 is scaled by 1/255 as in\n"
    "                       training\n"
    "  --labels LABELS      an IDX or .npy label file with one label (0-255) per item, for the\n"
    "                       label column (default: the column is empty)\n"
    "  -o FILE.csv          write the CSV there, atomically (default: stdout)\n"
    "  --device SPEC        as for clae train; over the run's [device] keys and CLAE_DEVICE\n"
    "  --cl-dir DIR         kernel folder, as for clae train\n"
    "\n"
    "Prints index,label,z1,...,zK: one row per image in file order, index from 0, the codes\n"
    "as latent.csv has them (%%.7g). Images go through the encoder %d at a time.\n";

static void usage(void)
{
    printf(USAGE, INFER_MAX_BATCH);
}

/* The codes of the images of x (n, D) on stdout or into out (atomically). */
static int write_codes(const char *out, const float *z, const unsigned char *labels, int n, int k,
                       Err *err)
{
    if (out) {
        char tmp[4300];
        FILE *f = util_atomic_open(out, tmp, sizeof tmp, err);
        if (!f) return -1;
        runfolder_latent_csv(f, z, labels, n, k);
        return util_atomic_commit(f, tmp, out, err);
    }
    runfolder_latent_csv(stdout, z, labels, n, k);
    if (fflush(stdout) || ferror(stdout))
        return err_set(err, "writing to stdout failed: %s", strerror(errno));
    return 0;
}

int cmd_encode(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *cmd = "encode", *pos[2], *out = NULL, *device = NULL, *cl_dir = NULL;
    const char *labels = NULL;
    int n_pos = 0;
    const CliOpt opts[] = {
        CLI_RUN_OPTS(&device, &cl_dir, &out),
        {"--labels", CLI_STR, &labels, "a value", 0, 0, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), pos, 2, &n_pos, 1};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (n_pos < 2)
        return cli_usage_error(cmd, "%s", n_pos == 0 ? "missing RUN_DIR"
                                                     : "missing IMAGES (an IDX image file)");
    KCache kc = {.fd = -1};
    Infer *in = cli_open_run(cmd, pos[0], device, cl_dir, &kc, &rc);
    if (!in) return rc;
    Err err = {{0}};
    Dataset d = {0};
    float *z = NULL;
    Model *m = &in->model;
    int D = m->dims[0], K = m->dims[m->latent];
    rc = EXIT_USAGE;
    /* The same reading and scaling as training's (data.h), so codes match; a
     * 4-D array in the run's own [data] layout, as its training read them. */
    if (data_read_files(&d, pos[1], labels, in->cfg.data_layout, &err)) goto out;
    /* A network with maps takes one shape of image; a dense one any items
     * of as many values. */
    Shape3 in_shape = data_item_shape(&d);
    int maps = m->layer[0].kind != LAYER_DENSE;
    if (d.dim != D || (maps && (in_shape.c != m->input.c || in_shape.h != m->input.h ||
                                in_shape.w != m->input.w))) {
        char shape[64], want[64] = "items that are not images";
        data_shape_str(&d, shape, sizeof shape);
        if (maps) snprintf(want, sizeof want, "%dx%dx%d images", m->input.c, m->input.h,
                           m->input.w);
        else if (m->image_rows && m->image_channels > 1)
            snprintf(want, sizeof want, "%dx%dx%d images", m->image_channels, m->image_rows,
                     m->image_cols);
        else if (m->image_rows)
            snprintf(want, sizeof want, "%dx%d images", m->image_rows, m->image_cols);
        err_set(&err, "%s: %s, but the model of %s takes %d inputs (%s)", pos[1], shape, pos[0],
                D, want);
        goto out;
    }
    rc = EXIT_RUN_FAILED;
    if (!(z = util_malloc((size_t)d.n * (size_t)K * sizeof *z, &err))) goto out;
    if (infer_encode(m, d.x, d.n, z, &err) || write_codes(out, z, d.y, d.n, K, &err)) goto out;
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(z);
    dataset_free(&d);
    cli_close_run(in, &kc);
    return rc;
}
