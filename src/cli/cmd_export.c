/* cmd_export: `clae export RUN`, a trained run's parameters as a
 * .safetensors file for PyTorch, or (--torch) the Python code of the
 * PyTorch model they load into. No device: the run is read on the host. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "export.h"

static const char USAGE[] =
    "usage: clae export RUN_DIR -o FILE.safetensors [--force] [--device SPEC] [--cl-dir DIR]\n"
    "       clae export RUN_DIR --torch [-o FILE.py] [--force] [--device SPEC] [--cl-dir DIR]\n"
    "\n"
    "  RUN_DIR              a run folder with config.ini and model.ckpt (checkpoint formats\n"
    "                       1 to 3)\n"
    "  -o FILE.safetensors  write the trained parameters there, atomically, as safetensors:\n"
    "                       float32 tensors named and laid out as PyTorch's\n"
    "                       model.state_dict() of the model --torch defines (encoder.0.weight,\n"
    "                       encoder.0.bias, ...), the run's config in the header's\n"
    "                       __metadata__\n"
    "  --torch              print Python code instead (to stdout, or -o FILE.py) that defines\n"
    "                       `model`, an nn.Module with .encoder and .decoder (nn.Sequential of\n"
    "                       PyTorch's own layers), .encode(x) (the codes, as clae encode\n"
    "                       writes them) and forward(x), the reconstruction; then\n"
    "                       model.load_state_dict(safetensors.torch.load_file(FILE),\n"
    "                       strict=True) loads the parameters\n"
    "  --force              replace -o when it exists (default: refused)\n"
    "  --device, --cl-dir   accepted as for clae encode (--device is checked); export opens\n"
    "                       no device\n"
    "\n"
    "forward(x) takes (N, C, H, W) for a network whose first layer is a conv, else (N, D):\n"
    "clae's items, C x H x W values in C, H, W order, scaled as in training.\n";

static void usage(void)
{
    fputs(USAGE, stdout);
}

/* 1 when path ends in ext (".py"). */
static int ends_with(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n >= e && strcmp(path + n - e, ext) == 0;
}

/* The --torch code into out (atomically) or to stdout. */
static int write_torch(const char *run_dir, const Ckpt *c, const ConfigNet *net, const char *out,
                       Err *err)
{
    if (out) {
        char tmp[4300];
        FILE *f = util_atomic_open(out, tmp, sizeof tmp, err);
        if (!f) return -1;
        export_torch(run_dir, c, net, f);
        return util_atomic_commit(f, tmp, out, err);
    }
    export_torch(run_dir, c, net, stdout);
    if (fflush(stdout) || ferror(stdout))
        return err_set(err, "writing to stdout failed: %s", strerror(errno));
    return 0;
}

int cmd_export(int argc, char **argv, const char *cmdline)
{
    (void)cmdline;
    const char *cmd = "export", *pos[1], *out = NULL, *device = NULL, *cl_dir = NULL;
    int n_pos = 0, force = 0, torch = 0;
    const CliOpt opts[] = {
        CLI_RUN_OPTS(&device, &cl_dir, &out),
        {"--force", CLI_FLAG, &force, NULL, 0, 0, 0},
        {"--torch", CLI_FLAG, &torch, NULL, 0, 0, 0},
    };
    CliSpec spec = {cmd, usage, opts, CLI_COUNT(opts), pos, 1, &n_pos, 0};
    int rc = cli_parse(&spec, argc, argv);
    if (rc >= 0) return rc;
    (void)cl_dir; /* no kernels to find */
    if (n_pos < 1) return cli_usage_error(cmd, "%s", "missing RUN_DIR");
    if (!torch && !out)
        return cli_usage_error(cmd, "%s", "missing -o FILE.safetensors (or --torch for the "
                                          "Python code of the model)");
    if (!torch && ends_with(out, ".py"))
        return cli_usage_error(cmd, "-o %s: a .safetensors file is binary; --torch writes the "
                                    "Python code", out);
    if (torch && out && ends_with(out, ".safetensors"))
        return cli_usage_error(cmd, "-o %s: --torch writes Python code, not the parameters; "
                                    "export them without --torch", out);
    Err err = {{0}};
    Config *cfg = util_malloc(sizeof *cfg, &err);
    if (!cfg) {
        fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
        return EXIT_RUN_FAILED;
    }
    Ckpt c;
    memset(&c, 0, sizeof c);
    ConfigNet net;
    rc = EXIT_USAGE;
    if (device) {
        /* Checked like everywhere else, though export opens no device. */
        config_defaults(cfg);
        if (config_set_device(cfg, device, "--device", &err)) goto out;
    }
    struct stat st;
    if (out && !force && stat(out, &st) == 0 && !S_ISDIR(st.st_mode)) {
        err_set(&err, "%s: exists; --force replaces it", out);
        goto out;
    }
    if (infer_load(pos[0], NULL, cfg, &c, &net, &err)) goto out;
    if (out && cli_check_output(cmd, out)) {
        err.msg[0] = '\0'; /* printed */
        goto out;
    }
    rc = EXIT_RUN_FAILED;
    if (torch) {
        if (write_torch(pos[0], &c, &net, out, &err)) goto out;
        if (out) printf("wrote %s\n", out);
    } else {
        int n_tensors = 0, w = export_safetensors(pos[0], cfg, &c, &net, out, &n_tensors, &err);
        if (w) {
            if (w == -2) rc = EXIT_USAGE;
            goto out;
        }
        printf("wrote %s (%d tensors, %zu parameters)\n", out, n_tensors, net.n_params);
    }
    rc = EXIT_OK;
out:
    if (rc != EXIT_OK && err.msg[0]) fprintf(stderr, "clae %s: %s\n", cmd, err.msg);
    ckpt_free(&c);
    free(cfg);
    return rc;
}
