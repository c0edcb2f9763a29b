/* fuzz_config: the experiment file, sweep files and --set / --device strings,
 * as `clae train` and `clae sweep` read them.
 *
 * Input: an INI file, optionally followed by a line "%%" and then one option
 * per line: "@SPEC" is a --device SPEC, anything else a --set string. The
 * file goes through config_load, the options through config_set_device and
 * config_set, then config_validate; the same file through sweep_load (with
 * the --set strings as its options) and its first and last jobs.
 *
 * Promises checked: a config that loads and validates writes out
 * (config_write) as a file that loads and validates again and writes out
 * the same text (the resolved config.ini of a run reproduces it); a sweep
 * that loads has 1..SWEEP_MAX_JOBS jobs, each of which resolves. */
#include "fuzz.h"

#include "config.h"
#include "sweep.h"

#define MAX_OPTIONS 16

/* config_write of cfg, without the "# read from:" line (its path differs). */
static char *written(Config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    FUZZ_ASSERT(f != NULL, "open_memstream");
    cfg->source_path[0] = '\0';
    config_write(cfg, f);
    fclose(f);
    return text;
}

static void round_trip(Config *cfg)
{
    char *a = written(cfg), path[4200];
    fuzz_write("round.ini", (const uint8_t *)a, strlen(a), path, sizeof path);
    Config *again = malloc(sizeof *again);
    Err err = {{0}};
    FUZZ_ASSERT(config_load(again, path, &err) == 0, "the written config does not load: %s\n%s",
                err.msg, a);
    FUZZ_ASSERT(config_validate(again, &err) == 0,
                "the written config does not validate: %s\n%s", err.msg, a);
    char *b = written(again);
    FUZZ_ASSERT(strcmp(a, b) == 0, "config_write is not stable:\n%s\n----\n%s", a, b);
    free(a);
    free(b);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the file, and the option lines after "\n%%\n" */
    size_t ini_len = size;
    char *opts = NULL;
    for (size_t i = 0; i + 4 <= size; i++)
        if (memcmp(data + i, "\n%%\n", 4) == 0) {
            ini_len = i + 1;
            opts = malloc(size - (i + 4) + 1);
            memcpy(opts, data + i + 4, size - (i + 4));
            opts[size - (i + 4)] = '\0';
            break;
        }
    const char *sets[MAX_OPTIONS], *devices[MAX_OPTIONS];
    int n_sets = 0, n_devices = 0;
    for (char *line = opts; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (line[0] == '@' && n_devices < MAX_OPTIONS) devices[n_devices++] = line + 1;
        else if (line[0] != '@' && n_sets < MAX_OPTIONS) sets[n_sets++] = line;
        line = nl ? nl + 1 : NULL;
    }

    char path[4200];
    fuzz_write("exp.ini", data, ini_len, path, sizeof path);
    Config *cfg = malloc(sizeof *cfg);
    Err err = {{0}};
    int ok = config_load(cfg, path, &err) == 0;
    for (int i = 0; ok && i < n_devices; i++)
        ok = config_set_device(cfg, devices[i], "--device", &err) == 0;
    for (int i = 0; ok && i < n_sets; i++) ok = config_set(cfg, sets[i], &err) == 0;
    if (ok && config_validate(cfg, &err) == 0) round_trip(cfg);
    FUZZ_ASSERT(ok || strchr(err.msg, '\n') == NULL, "a message of more than one line: %s",
                err.msg);

    Sweep *sw = malloc(sizeof *sw);
    SweepOptions o = {.device = n_devices ? devices[0] : NULL, .sets = sets, .n_sets = n_sets};
    if (sweep_load(sw, path, &o, &err) == 0) {
        FUZZ_ASSERT(sw->n_jobs >= 1 && sw->n_jobs <= SWEEP_MAX_JOBS, "%d jobs", sw->n_jobs);
        char ov[2048];
        FUZZ_ASSERT(sweep_job(sw, 0, &o, cfg, ov, sizeof ov, &err) == 0, "job 0: %s", err.msg);
        FUZZ_ASSERT(sweep_job(sw, sw->n_jobs - 1, &o, cfg, ov, sizeof ov, &err) == 0,
                    "job %d: %s", sw->n_jobs - 1, err.msg);
        FUZZ_ASSERT(sweep_job(sw, sw->n_jobs, &o, cfg, ov, sizeof ov, &err) != 0,
                    "job %d of %d resolved", sw->n_jobs, sw->n_jobs);
    }
    free(sw);
    free(cfg);
    free(opts);
    return 0;
}
