/* cmd_encode: `clae encode RUN IMAGES`, a trained run's latent codes of the
 * items of an IDX or .npy file, as latent.csv writes them, or as a float32
 * .npy array (-o FILE.npy). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "npy.h"
#include "runfolder.h"

/* printf format: the defaults are the constants themselves */
static const char USAGE[] =
    "usage: clae encode RUN_DIR IMAGES [--labels LABELS] [-o FILE.csv | -o FILE.npy]\n"
    "                   [--labels-out FILE.npy] [--device SPEC] [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt\n"
    "  IMAGES               an IDX file of 8-bit images, gzip or plain (such as\n"
    "                       t10k-images-idx3-ubyte.gz), or a .npy file as [data] format = npy\n"
    "                       takes (uint8 or float32, (N, D) or (N, H, W)); the values per item\n"
    "                       must be the model's input size; uint8 is scaled by 1/255 as in\n"
    "                       training\n"
    "  --labels LABELS      an IDX or .npy label file with one label (0-255) per item, for the\n"
    "                       label column (default: the column is empty)\n"
    "  -o FILE.csv          write the CSV there, atomically (default: stdout); an existing\n"
    "                       file is replaced\n"
    "  -o FILE.npy          write the codes as a float32 .npy array of shape (N, K) instead\n"
    "                       (the name's ending decides: .npy, else CSV)\n"
    "  --labels-out FILE.npy  write the labels of --labels (which it needs) as an int64 .npy\n"
    "                       array of shape (N,), atomically\n"
    "  --device SPEC        as for clae train; over the run's [device] keys and CLAE_DEVICE\n"
    "  --cl-dir DIR         kernel folder, as for clae train\n"
    "\n"
    "Prints index,label,z1,...,zK: one row per image in file order, index from 0, the codes\n"
    "as latent.csv has them (%%.7g); a .npy holds them as computed (float32), row i the\n"
    "code of item i. For a variational autoencoder the codes are the means. Images go\n"
    "through the encoder %d at a time.\n";

static void usage(void)
{
    printf(USAGE, INFER_MAX_BATCH);
}

/* 1 when path names a .npy file. */
static int is_npy(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".npy") == 0;
}

/* The labels (n) as an int64 .npy of shape (n,), atomically. */
static int write_labels_npy(const char *path, const unsigned char *labels, int n, Err *err)
{
    int64_t *y = util_malloc(((size_t)n + 1) * sizeof *y, err);
    if (!y) return -1;
    for (int i = 0; i < n; i++) y[i] = labels[i];
    size_t shape[1] = {(size_t)n};
    int rc = npy_write(path, NPY_I64, 1, shape, y, err);
    free(y);
    return rc;
}

/* The codes z (n, k) on stdout or into out (atomically): CSV, or a float32
 * .npy of shape (n, k) when out ends in .npy. */
static int write_codes(const char *out, const float *z, const unsigned char *labels, int n, int k,
                       Err *err)
{
    if (out && is_npy(out)) {
        size_t shape[2] = {(size_t)n, (size_t)k};
        return npy_write(out, NPY_F32, 2, shape, z, err);
    }
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
    const char *labels = NULL, *labels_out = NULL;
    int n_pos = 0;
    const CliOpt opts[] = {
        CLI_RUN_OPTS(&device, &cl_dir, &out),
        {"--labels", CLI_STR, &labels, "a value", 0, 0, 0},
        {"--labels-out", CLI_STR, &labels_out, "a value", 0, 0, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), pos, 2, &n_pos, 1};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    if (n_pos < 2)
        return cli_usage_error(cmd, "%s", n_pos == 0 ? "missing RUN_DIR"
                                                     : "missing IMAGES (an IDX image file)");
    if (labels_out && !labels)
        return cli_usage_error(cmd, "%s", "--labels-out needs --labels (the labels to write)");
    if (labels_out && !is_npy(labels_out))
        return cli_usage_error(cmd, "--labels-out %s: expected a FILE.npy", labels_out);
    if (labels_out && out && strcmp(labels_out, out) == 0)
        return cli_usage_error(cmd, "--labels-out %s: the same file as -o", labels_out);
    /* Outputs that cannot be made are refused before the device is opened. */
    if ((out && cli_check_output(cmd, out)) || (labels_out && cli_check_output(cmd, labels_out)))
        return EXIT_USAGE;
    KCache kc = {.fd = -1};
    Infer *in = cli_open_run(cmd, pos[0], device, cl_dir, &kc, &rc);
    if (!in) return rc;
    Err err = {{0}};
    Dataset d = {0};
    float *z = NULL, *x = NULL;
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
    /* the items as floats, as training's gather makes them of bytes */
    if (!(x = util_malloc((size_t)d.n * (size_t)D * sizeof *x, &err))) goto out;
    data_rows_float(&d, 0, (size_t)d.n, x);
    if (infer_encode(m, x, d.n, z, &err) || write_codes(out, z, d.y, d.n, K, &err)) goto out;
    if (labels_out && write_labels_npy(labels_out, d.y, d.n, &err)) goto out;
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    free(z);
    free(x);
    dataset_free(&d);
    cli_close_run(in, &kc);
    return rc;
}
