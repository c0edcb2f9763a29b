/* test_tuning: the tuning file (io/tuning) and which tuning a device gets
 * (engine/clbtune's host-only parts: class, identity checks, device limits,
 * auto/none/PATH resolution). No device is needed: DeviceId is filled in by
 * hand. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "clbtune.h"
#include "tuning.h"

static char root[64];

/* A complete, valid file for the device below, with `extra` lines appended
 * at the end (inside the last section, [Padtranspose]) and `replace`
 * substituted for `find` when given. */
static const char GOOD[] =
    "; a comment\n"
    "# another\n"
    "[device]\n"
    "platform = Portable Computing Language\n"
    "device = pthread-skylake-avx512-AMD EPYC ; not a comment here\n"
    "driver = 3.1+debian\n"
    "clblast = " CLAE_CLBLAST_VERSION "\n"
    "\n"
    "[clae]\n"
    "layout = col ; the swapped form\n"
    "[GemmRoutine]\n"
    "XGEMM_MIN_INDIRECT_SIZE = 0\n"
    "[Xgemm]\n"
    "GEMMK = 0\nKREG = 1\nKWG = 32\nKWI = 2\nMDIMA = 8\nMDIMC = 8\nMWG = 64\nNDIMB = 8\n"
    "NDIMC = 8\nNWG = 64\nSA = 0\nSB = 0\nSTRM = 0\nSTRN = 0\nVWM = 8\nVWN = 8\n"
    "[XgemmDirect]\n"
    "KWID = 2\nMDIMAD = 8\nMDIMCD = 8\nNDIMBD = 8\nNDIMCD = 8\nPADA = 1\nPADB = 1\nVWMD = 1\n"
    "VWND = 1\nWGD = 16\n"
    "[Copy]\nCOPY_DIMX = 16\nCOPY_DIMY = 16\nCOPY_VW = 4\nCOPY_WPT = 2\n"
    "[Pad]\nPAD_DIMX = 32\nPAD_DIMY = 8\nPAD_WPTX = 2\nPAD_WPTY = 1\n"
    "[Transpose]\nTRA_DIM = 8\nTRA_PAD = 0\nTRA_SHUFFLE = 1\nTRA_WPT = 4\n"
    "[Padtranspose]\nPADTRA_PAD = 0\nPADTRA_TILE = 8\nPADTRA_WPT = 4\n";

/* GOOD with the first occurrence of find replaced by repl. */
static char *edited(const char *find, const char *repl)
{
    static char buf[8192];
    const char *at = strstr(GOOD, find);
    if (!at) {
        fprintf(stderr, "test bug: '%s' not in GOOD\n", find);
        exit(2);
    }
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - GOOD), GOOD, repl, at + strlen(find));
    return buf;
}

/* Parses text; expects failure whose message holds each of the fragments. */
static void expect_bad(const char *text, const char *frag1, const char *frag2)
{
    Tuning t;
    Err err = {{0}};
    int rc = tuning_parse(&t, text, strlen(text), "f.ini", &err);
    CHECK(rc != 0, "accepted a bad file (wanted '%s')", frag1);
    if (rc == 0) return;
    CHECK_CONTAINS(err.msg, "f.ini");
    CHECK_CONTAINS(err.msg, frag1);
    if (frag2) CHECK_CONTAINS(err.msg, frag2);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
}

static void device(DeviceId *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->platform, sizeof id->platform, "Portable Computing Language");
    snprintf(id->device, sizeof id->device, "pthread-skylake-avx512-AMD EPYC");
    snprintf(id->driver, sizeof id->driver, "3.1+debian");
    snprintf(id->clblast, sizeof id->clblast, "%s", CLAE_CLBLAST_VERSION);
    snprintf(id->device_class, sizeof id->device_class, "pocl-cpu-avx512");
    id->max_work_group = 4096;
    id->max_item[0] = id->max_item[1] = id->max_item[2] = 4096;
    id->local_mem = 1 << 20;
}

static void test_parse_good(void)
{
    Tuning t;
    Err err = {{0}};
    CHECK(tuning_parse(&t, GOOD, strlen(GOOD), "good.ini", &err) == 0, "%s", err.msg);
    CHECK(strcmp(t.platform, "Portable Computing Language") == 0, "%s", t.platform);
    /* [device] values are whole lines: a ';' there is part of the name. */
    CHECK(strcmp(t.device, "pthread-skylake-avx512-AMD EPYC ; not a comment here") == 0, "%s",
          t.device);
    CHECK(strcmp(t.driver, "3.1+debian") == 0, "%s", t.driver);
    CHECK(strcmp(t.clblast, CLAE_CLBLAST_VERSION) == 0, "%s", t.clblast);
    CHECK(t.layout == GEMM_COL_MAJOR, "layout %d", t.layout);
    for (int k = 0; k < TK_COUNT; k++) CHECK(t.has[k], "kernel %d has a section", k);
    CHECK(t.value[TK_XGEMM][6] == 64 && !strcmp(tuning_kernel(TK_XGEMM)->params[6], "MWG"),
          "MWG = %zu", t.value[TK_XGEMM][6]);
    CHECK(t.value[TK_XGEMM][15] == 8, "VWN = %zu", t.value[TK_XGEMM][15]);
    CHECK(t.value[TK_GEMM_ROUTINE][0] == 0, "threshold %zu", t.value[TK_GEMM_ROUTINE][0]);
    CHECK(t.value[TK_PADTRANSPOSE][1] == 8, "PADTRA_TILE %zu", t.value[TK_PADTRANSPOSE][1]);

    /* Round trip through the writer: same values, same hash. */
    char path[4200];
    snprintf(path, sizeof path, "%s/round.ini", root);
    const char *kc[TK_COUNT] = {NULL};
    kc[TK_XGEMM] = "tuned\nfor a test";
    t.device[0] = '\0';
    snprintf(t.device, sizeof t.device, "pthread-skylake-avx512-AMD EPYC");
    CHECK(tuning_write(&t, path, "line one\nline two", kc, &err) == 0, "%s", err.msg);
    Tuning back;
    CHECK(tuning_read(&back, path, &err) == 0, "%s", err.msg);
    CHECK(memcmp(back.value, t.value, sizeof t.value) == 0, "values survive the round trip");
    CHECK(memcmp(back.has, t.has, sizeof t.has) == 0, "sections survive");
    CHECK(back.layout == t.layout && !strcmp(back.device, t.device), "layout and device");
    CHECK(tuning_hash(&back) == tuning_hash(&t), "hash stable");
    char *text = util_read_file(path, NULL, &err);
    CHECK(text && strstr(text, "; line one\n; line two\n") == text, "header comment first");
    CHECK(text && strstr(text, "; tuned\n; for a test\n[Xgemm]\n"), "kernel comment");
    free(text);

    /* The hash follows the parameters and the layout, not [device]. */
    Tuning other = t;
    snprintf(other.device, sizeof other.device, "elsewhere");
    CHECK(tuning_hash(&other) == tuning_hash(&t), "[device] does not change the hash");
    other.value[TK_XGEMM][15] = 4;
    CHECK(tuning_hash(&other) != tuning_hash(&t), "a parameter changes the hash");
    other = t;
    other.layout = GEMM_ROW_MAJOR;
    CHECK(tuning_hash(&other) != tuning_hash(&t), "the layout changes the hash");

    /* Sections are optional: a kernel without one keeps CLBlast's own. */
    const char *only_device = "[device]\nclass = pocl-cpu-avx2\nclblast = 1.5.3\n";
    CHECK(tuning_parse(&t, only_device, strlen(only_device), "o.ini", &err) == 0, "%s", err.msg);
    CHECK(!t.has[TK_XGEMM] && t.layout == GEMM_ROW_MAJOR && !strcmp(t.device_class, "pocl-cpu-avx2"),
          "no kernels, row layout, class");
    /* No trailing newline, CRLF line ends. */
    const char *crlf = "[device]\r\nclass = c\r\nclblast = 1\r\n[clae]\r\nlayout = row";
    CHECK(tuning_parse(&t, crlf, strlen(crlf), "crlf.ini", &err) == 0, "%s", err.msg);
}

static void test_parse_bad(void)
{
    expect_bad(edited("[Xgemm]", "[xgemm]"), "f.ini:13:", "did you mean [Xgemm]");
    expect_bad(edited("[Copy]", "[Kopy]"), "unknown section [Kopy]", "Padtranspose");
    expect_bad(edited("VWM = 8", "VWX = 8"), "unknown parameter 'VWX' in [Xgemm]", "VWM");
    expect_bad(edited("KWID = 2", "KWID = 2\nKWID = 2"), "[XgemmDirect] KWID is set twice", NULL);
    expect_bad(edited("[Pad]", "[Copy]\n[Pad]"), "[Copy] appears twice", NULL);
    /* A section misses a parameter: the section's line and the parameter. */
    expect_bad(edited("STRN = 0\n", ""), "f.ini:13: [Xgemm] misses parameter STRN", NULL);
    expect_bad(edited("VWM = 8", "VWM = eight"), "[Xgemm] VWM = 'eight'", "whole number");
    expect_bad(edited("VWM = 8", "VWM = -8"), "VWM = '-8'", NULL);
    expect_bad(edited("VWM = 8", "VWM = 99999999999"), "VWM = '99999999999'", NULL);
    expect_bad(edited("VWM = 8", "VWM ="), "VWM = ''", NULL);
    /* Values CLBlast's kernels cannot run, at the offending line. */
    expect_bad(edited("MWG = 64", "MWG = 48"), "f.ini:20: [Xgemm] MWG = 48",
               "multiple of MDIMC x VWM = 64");
    expect_bad(edited("VWN = 8", "VWN = 3"), "[Xgemm] VWN = 3", "vector width");
    expect_bad(edited("SA = 0", "SA = 2"), "[Xgemm] SA = 2", "0 or 1");
    expect_bad(edited("KWG = 32", "KWG = 12"), "[Xgemm] KWG = 12", NULL);
    expect_bad(edited("GEMMK = 0", "GEMMK = 1"), "[Xgemm] KREG = 1", "multiple of VWN = 8");
    expect_bad(edited("GEMMK = 0\nKREG = 1", "GEMMK = 1\nKREG = 8"), "[Xgemm] KWG = 32",
               "must be 1 with GEMMK = 1");
    expect_bad(edited("KREG = 1", "KREG = 2"), "[Xgemm] KREG = 2", "GEMMK = 0");
    expect_bad(edited("WGD = 16", "WGD = 12"), "[XgemmDirect] WGD = 12", "multiple");
    expect_bad(edited("TRA_DIM = 8", "TRA_DIM = 0"), "[Transpose] TRA_DIM = 0", "at least 1");
    expect_bad(edited("layout = col ; the swapped form", "layout = diagonal"),
               "[clae] layout = 'diagonal'", "row or col");
    expect_bad(edited("layout = col ; the swapped form", "shape = col"), "unknown key 'shape' in [clae]",
               NULL);
    expect_bad(edited("driver = 3.1+debian", "drivers = 3.1"), "unknown key 'drivers' in [device]",
               NULL);
    expect_bad(edited("clblast = " CLAE_CLBLAST_VERSION "\n", ""), "[device] clblast is missing", NULL);
    expect_bad(edited("[device]\n", "[clae]\n"), "f.ini:4: unknown key 'platform' in [clae]", NULL);
    expect_bad(edited("[Pad]", "[clae]\n[Pad]"), "[clae] appears twice", NULL);
    expect_bad("[Xgemm]\n", "no [device] section", NULL);
    expect_bad("[device]\nclblast = 1.5.3\n", "needs platform and device", NULL);
    expect_bad("GEMMK = 0\n", "f.ini:1:", "before any [section]");
    expect_bad("[device\n", "f.ini:1:", "[name]");
    expect_bad("[device]\njust words\n", "f.ini:2:", "not a 'key = value' line");
    expect_bad("[device]\n= 3\n", "f.ini:2:", "key is missing");
    expect_bad("[device]\nplatform = a\x01" "b\n", "control character", NULL);
    const char nul[] = "[device]\nplatform = a\0b\n";
    Tuning t;
    Err err = {{0}};
    CHECK(tuning_parse(&t, nul, sizeof nul - 1, "f.ini", &err) != 0 && strstr(err.msg, "NUL"),
          "NUL byte: %s", err.msg);
    CHECK(tuning_read(&t, "/nonexistent/t.ini", &err) != 0 && strstr(err.msg, "/nonexistent/t.ini"),
          "missing file: %s", err.msg);
}

static void test_class(void)
{
    char c[64];
    unsetenv("POCL_LLVM_CPU_NAME");
    const char *pocl = "Portable Computing Language";
    clbtune_class(pocl, "pthread-skylake-avx512-AMD EPYC", CL_DEVICE_TYPE_CPU, c, sizeof c);
    CHECK(!strcmp(c, "pocl-cpu-avx512"), "%s", c);
    clbtune_class(pocl, "pthread-znver3-AMD EPYC 7B13", CL_DEVICE_TYPE_CPU, c, sizeof c);
    CHECK(!strcmp(c, "pocl-cpu-avx2"), "%s", c);
    clbtune_class(pocl, "cpu-haswell-Intel(R) Xeon(R)", CL_DEVICE_TYPE_CPU, c, sizeof c);
    CHECK(!strcmp(c, "pocl-cpu-avx2"), "%s", c);
    clbtune_class(pocl, "pthread-znver4-AMD Ryzen", CL_DEVICE_TYPE_CPU, c, sizeof c);
    CHECK(!strcmp(c, "pocl-cpu-avx512"), "%s", c);
    clbtune_class(pocl, "pthread-x86-64-QEMU", CL_DEVICE_TYPE_CPU, c, sizeof c);
    CHECK(!strcmp(c, "pocl-cpu-generic"), "%s", c);
    clbtune_class("NVIDIA CUDA", "NVIDIA H200", CL_DEVICE_TYPE_GPU, c, sizeof c);
    CHECK(c[0] == '\0', "not PoCL: no class (%s)", c);
    clbtune_class(pocl, "cuda-sm90", CL_DEVICE_TYPE_GPU, c, sizeof c);
    CHECK(c[0] == '\0', "PoCL's GPU device: no class (%s)", c);
    /* PoCL compiles for POCL_LLVM_CPU_NAME when set: that is the class. */
    setenv("POCL_LLVM_CPU_NAME", "haswell", 1);
    clbtune_class(pocl, "pthread-skylake-avx512-AMD EPYC", CL_DEVICE_TYPE_CPU, c, sizeof c);
    CHECK(!strcmp(c, "pocl-cpu-avx2"), "%s", c);
    unsetenv("POCL_LLVM_CPU_NAME");
}

static void test_check(void)
{
    DeviceId id;
    device(&id);
    Tuning t;
    Err err = {{0}};
    const char *good = edited("device = pthread-skylake-avx512-AMD EPYC ; not a comment here",
                              "device = pthread-skylake-avx512-AMD EPYC");
    CHECK(tuning_parse(&t, good, strlen(good), "g.ini", &err) == 0, "%s", err.msg);
    CHECK(clbtune_check(&t, &id, "g.ini", &err) == 0, "%s", err.msg);

    Tuning u = t;
    snprintf(u.device, sizeof u.device, "pthread-znver3-AMD EPYC 7B13");
    CHECK(clbtune_check(&u, &id, "g.ini", &err) != 0, "another device accepted");
    CHECK_CONTAINS(err.msg, "g.ini: [device] device = pthread-znver3-AMD EPYC 7B13");
    CHECK_CONTAINS(err.msg, "not for pthread-skylake-avx512-AMD EPYC");
    u = t;
    snprintf(u.clblast, sizeof u.clblast, "0.9.0");
    CHECK(clbtune_check(&u, &id, "g.ini", &err) != 0, "another CLBlast accepted");
    CHECK_CONTAINS(err.msg, "[device] clblast = 0.9.0");

    /* Class files: the class or a narrower one runs here; a wider one does not. */
    u = t;
    u.platform[0] = u.device[0] = '\0';
    snprintf(u.device_class, sizeof u.device_class, "pocl-cpu-avx2");
    CHECK(clbtune_check(&u, &id, "c.ini", &err) == 0, "avx2 file on avx512: %s", err.msg);
    DeviceId narrow = id;
    snprintf(narrow.device_class, sizeof narrow.device_class, "pocl-cpu-generic");
    CHECK(clbtune_check(&u, &narrow, "c.ini", &err) != 0, "avx2 file on a generic CPU accepted");
    CHECK_CONTAINS(err.msg, "[device] class = pocl-cpu-avx2");

    /* The device's limits. */
    DeviceId small = id;
    small.max_work_group = 32;
    CHECK(clbtune_check(&t, &small, "g.ini", &err) != 0, "64 work-items on a 32 device");
    CHECK_CONTAINS(err.msg, "[Xgemm] MDIMC x NDIMC gives work-groups of 8 x 8");
    u = t;
    u.value[TK_XGEMM][10] = u.value[TK_XGEMM][11] = 1; /* SA, SB: 2 x 32 x 64 floats */
    small = id;
    small.local_mem = 8192;
    CHECK(clbtune_check(&u, &small, "g.ini", &err) != 0, "16 KiB of local memory in 8 KiB");
    CHECK_CONTAINS(err.msg, "need 16384 bytes of local memory; this device has 8192");
}

static void test_resolve(void)
{
    DeviceId id;
    device(&id);
    char cache[4200], ship[4200], path[4300];
    snprintf(cache, sizeof cache, "%s/cache", root);
    snprintf(ship, sizeof ship, "%s/ship", root);
    mkdir(ship, 0777);
    setenv("XDG_CACHE_HOME", cache, 1);
    setenv("CLAE_TUNING_DIR", ship, 1);
    Tuning t;
    TuningUse use;
    Err err = {{0}};

    CHECK(clbtune_resolve("none", &id, &t, &use, &err) == 0 && !strcmp(use.source, "none") &&
              !t.has[TK_XGEMM],
          "none: %s", use.source);
    CHECK(clbtune_resolve("auto", &id, &t, &use, &err) == 0 && !strcmp(use.source, "none") &&
              strstr(use.note, "clae tune"),
          "auto with nothing: %s (%s)", use.source, use.note);

    /* A shipped file of the class below: taken, and said so. */
    char avx2[8192];
    snprintf(avx2, sizeof avx2, "%s", edited("platform = Portable Computing Language\n"
                                             "device = pthread-skylake-avx512-AMD EPYC ; not a "
                                             "comment here\ndriver = 3.1+debian\n",
                                             "class = pocl-cpu-avx2\n"));
    snprintf(path, sizeof path, "%s/pocl-cpu-avx2.ini", ship);
    test_spit_text(path, avx2);
    CHECK(clbtune_resolve("auto", &id, &t, &use, &err) == 0 && !strcmp(use.source, "shipped") &&
              strstr(use.path, "pocl-cpu-avx2.ini") && t.has[TK_XGEMM] && strlen(use.hash) == 16,
          "auto with an avx2 file: %s %s", use.source, use.path);
    CHECK_CONTAINS(use.note, "closest class below");
    /* The device's own class wins over the one below. */
    char avx512[8192];
    snprintf(avx512, sizeof avx512, "%s", avx2);
    char *cls = strstr(avx512, "pocl-cpu-avx2");
    memcpy(cls, "pocl-cpu-avx5", 13);
    memmove(cls + 15, cls + 13, strlen(cls + 13) + 1);
    memcpy(cls + 13, "12", 2);
    snprintf(path, sizeof path, "%s/pocl-cpu-avx512.ini", ship);
    test_spit_text(path, avx512);
    CHECK(clbtune_resolve("auto", &id, &t, &use, &err) == 0 && strstr(use.path, "pocl-cpu-avx512.ini"),
          "auto with both: %s", use.path);
    CHECK_CONTAINS(use.note, "this device's class");
    /* A shipped file for another CLBlast version is passed over. */
    test_spit_text(path, edited("clblast = " CLAE_CLBLAST_VERSION, "clblast = 0.1.0\nclass = pocl-cpu-avx512"));
    CHECK(clbtune_resolve("auto", &id, &t, &use, &err) == 0 && strstr(use.path, "pocl-cpu-avx2.ini"),
          "old-CLBlast avx512 file skipped: %s", use.path);
    unlink(path);

    /* The device's own file from clae tune comes first. */
    char own[4200];
    CHECK(clbtune_cache_path(&id, own, sizeof own, &err) == 0, "%s", err.msg);
    CHECK(strncmp(own, cache, strlen(cache)) == 0 && strstr(own, "/clae/tuning/pthread-skylake-avx512-AMD-EPYC-"),
          "cache path %s", own);
    DeviceId other = id;
    snprintf(other.driver, sizeof other.driver, "4.0");
    char own2[4200];
    clbtune_cache_path(&other, own2, sizeof own2, &err);
    CHECK(strcmp(own, own2) != 0, "another driver, another file");
    Err e2 = {{0}};
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/clae/tuning", cache);
    CHECK(util_make_dirs(dir, &e2) == 0, "%s", e2.msg);
    test_spit_text(own, edited("device = pthread-skylake-avx512-AMD EPYC ; not a comment here",
                           "device = pthread-skylake-avx512-AMD EPYC"));
    CHECK(clbtune_resolve("auto", &id, &t, &use, &err) == 0 && !strcmp(use.source, "cache") &&
              !strcmp(use.path, own) && !use.warning[0],
          "auto with the device's file: %s %s %s", use.source, use.path, use.warning);
    /* A broken one is a warning, and CLBlast's own parameters: never an error. */
    test_spit_text(own, edited("VWM = 8", "VWM = 3"));
    CHECK(clbtune_resolve("auto", &id, &t, &use, &err) == 0 && !strcmp(use.source, "none") &&
              strstr(use.warning, own) && strstr(use.warning, "VWM = 3") && !t.has[TK_XGEMM],
          "auto with a broken file: %s / %s", use.source, use.warning);
    unlink(own);

    /* PATH: must be right for the device, else -2 naming the file and key. */
    snprintf(path, sizeof path, "%s/given.ini", root);
    test_spit_text(path, edited("VWM = 8", "VWM = 3"));
    CHECK(clbtune_resolve(path, &id, &t, &use, &err) == -2 && strstr(err.msg, path) &&
              strstr(err.msg, "VWM = 3"),
          "bad PATH: %s", err.msg);
    test_spit_text(path, edited("device = pthread-skylake-avx512-AMD EPYC ; not a comment here",
                            "device = some GPU"));
    CHECK(clbtune_resolve(path, &id, &t, &use, &err) == -2 && strstr(err.msg, "some GPU"),
          "PATH for another device: %s", err.msg);
    CHECK(clbtune_resolve("/nonexistent/x.ini", &id, &t, &use, &err) == -2 &&
              strstr(err.msg, "/nonexistent/x.ini"),
          "missing PATH: %s", err.msg);
    test_spit_text(path, edited("device = pthread-skylake-avx512-AMD EPYC ; not a comment here\n"
                            "driver = 3.1+debian",
                            "device = pthread-skylake-avx512-AMD EPYC\ndriver = 2.0"));
    CHECK(clbtune_resolve(path, &id, &t, &use, &err) == 0 && !strcmp(use.source, "file") &&
              strstr(use.warning, "driver 2.0"),
          "PATH from another driver: a warning (%s)", use.warning);
    unsetenv("CLAE_TUNING_DIR");
}

static void test_import(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/clblast_xgemm_1_32.json", root);
    /* As clblast_tuner_xgemm writes it: metadata strings, then results; the
     * fastest result wins, PRECISION is not a kernel parameter. */
    test_spit_text(path,
               "{\n  \"kernel_family\": \"xgemm_1\",\n  \"precision\": \"32\",\n"
               "  \"best_kernel\": \"Xgemm\",\n  \"device\": \"pthread-x\",\n  \"results\": [\n"
               "    {\"kernel\": \"Xgemm\", \"time\": 2.5, \"parameters\": {\"GEMMK\": 0,\"KREG\": 1,"
               "\"KWG\": 32,\"KWI\": 2,\"MDIMA\": 8,\"MDIMC\": 8,\"MWG\": 32,\"NDIMB\": 8,\"NDIMC\": 8,"
               "\"NWG\": 32,\"PRECISION\": 32,\"SA\": 0,\"SB\": 0,\"STRM\": 0,\"STRN\": 0,\"VWM\": 4,"
               "\"VWN\": 4}},\n"
               "    {\"kernel\": \"Xgemm\", \"time\": 0.75, \"parameters\": {\"GEMMK\": 0,\"KREG\": 1,"
               "\"KWG\": 32,\"KWI\": 2,\"MDIMA\": 8,\"MDIMC\": 8,\"MWG\": 64,\"NDIMB\": 8,\"NDIMC\": 8,"
               "\"NWG\": 64,\"PRECISION\": 32,\"SA\": 0,\"SB\": 0,\"STRM\": 0,\"STRN\": 0,\"VWM\": 8,"
               "\"VWN\": 8}}\n  ]\n}\n");
    Tuning t;
    tuning_init(&t);
    TuningImport what;
    Err err = {{0}};
    CHECK(tuning_import_json(&t, path, &what, &err) == 0, "%s", err.msg);
    CHECK(what.kernel == TK_XGEMM && t.has[TK_XGEMM] && !t.has[TK_PAD] && what.time == 0.75 &&
              !strcmp(what.device, "pthread-x"),
          "kernel %d time %g", what.kernel, what.time);
    CHECK(t.value[TK_XGEMM][6] == 64 && t.value[TK_XGEMM][14] == 8, "the fastest result: MWG %zu",
          t.value[TK_XGEMM][6]);
    /* Only best_parameters (older tuners), another kernel. */
    test_spit_text(path, "{\"kernel_family\": \"pad\", \"precision\": \"32\", \"best_parameters\": "
                     "\"PAD_DIMX=16 PAD_DIMY=8 PAD_WPTX=2 PAD_WPTY=1 PRECISION=32\"}");
    CHECK(tuning_import_json(&t, path, &what, &err) == 0 && what.kernel == TK_PAD &&
              t.value[TK_PAD][0] == 16 && isnan(what.time),
          "best_parameters: %s", err.msg);
    /* Double precision, or a kernel clae's GEMM does not use: nothing. */
    tuning_init(&t);
    test_spit_text(path, "{\"precision\": \"64\", \"best_parameters\": \"PAD_DIMX=16 PAD_DIMY=8 "
                     "PAD_WPTX=2 PAD_WPTY=1\"}");
    CHECK(tuning_import_json(&t, path, &what, &err) == 0 && what.kernel == -1 && !t.has[TK_PAD],
          "precision 64 is skipped");
    test_spit_text(path, "{\"precision\": \"32\", \"best_parameters\": \"WGS1=64 WGS2=64\"}");
    CHECK(tuning_import_json(&t, path, &what, &err) == 0 && what.kernel == -1, "Xdot is skipped");
    /* Bad files: one line naming the file. */
    test_spit_text(path, "{\"precision\": \"32\", \"results\": [ {\"time\": 1, \"parameters\": ");
    CHECK(tuning_import_json(&t, path, &what, &err) != 0 && strstr(err.msg, path) &&
              strstr(err.msg, ": 1:"),
          "cut JSON: %s", err.msg);
    test_spit_text(path, "{\"precision\": \"32\"}");
    CHECK(tuning_import_json(&t, path, &what, &err) != 0 && strstr(err.msg, "not a file of CLBlast"),
          "no results: %s", err.msg);
    test_spit_text(path, "{\"precision\": \"32\", \"best_parameters\": \"GEMMK=0 KREG=1 KWG=32 KWI=2 "
                     "MDIMA=8 MDIMC=8 MWG=48 NDIMB=8 NDIMC=8 NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=4 VWN=4\"}");
    CHECK(tuning_import_json(&t, path, &what, &err) != 0 && strstr(err.msg, "MWG = 48"),
          "a set CLBlast's kernel cannot run: %s", err.msg);
    /* A member of the wrong type is named with its place in the file. */
    test_spit_text(path, "{\"precision\": \"32\", \"results\": [{\"time\": 1, \"parameters\": "
                         "{\"GEMMK\": 0}}, {\"time\": 2, \"parameters\": {\"KWG\": \"16\"}}]}");
    CHECK(tuning_import_json(&t, path, &what, &err) != 0 && strstr(err.msg, path) &&
              strstr(err.msg, ": \"results[1].parameters.KWG\": expected a number"),
          "a parameter that is not a number: %s", err.msg);
    test_spit_text(path, "{\"precision\": \"32\", \"results\": {}}");
    CHECK(tuning_import_json(&t, path, &what, &err) != 0 &&
              strstr(err.msg, ": \"results\": expected an array"),
          "results not an array: %s", err.msg);
    /* A file far larger than any tuner writes is refused before it is read. */
    FILE *big = fopen(path, "w");
    CHECK(big && ftruncate(fileno(big), (8 << 20) + 1) == 0, "a large file");
    if (big) fclose(big);
    CHECK(tuning_import_json(&t, path, &what, &err) != 0 && strstr(err.msg, path) &&
              strstr(err.msg, "more than clae reads from a file of CLBlast's tuners (8 MiB)"),
          "a file of 8 MiB + 1: %s", err.msg);
    unlink(path);
}

/* [routes]: each small product's CLBlast routine, read, written back,
 * hashed, and every malformed line refused with its line and what is
 * accepted. */
static void test_routes(void)
{
    const char *tail = "[Padtranspose]\nPADTRA_PAD = 0\nPADTRA_TILE = 8\nPADTRA_WPT = 4\n";
    char text[8192];
    snprintf(text, sizeof text, "%s", edited(tail, "[Padtranspose]\nPADTRA_PAD = 0\n"
                                                   "PADTRA_TILE = 8\nPADTRA_WPT = 4\n"
                                                   "[routes]\nNT 256x2x300 = gemv\n"
                                                   "TN  2x300x256 = GEMV ; a comment\n"
                                                   "NN 256x300x2 = direct\n"
                                                   "NN 50x300x2 = indirect\n"
                                                   "TT 7x9x11 = clblast\n"));
    Tuning t;
    Err err = {{0}};
    CHECK(tuning_parse(&t, text, strlen(text), "r.ini", &err) == 0, "%s", err.msg);
    CHECK(t.n_routes == 5, "%d routes", t.n_routes);
    CHECK(t.route[0].ta == 0 && t.route[0].tb == 1 && t.route[0].M == 256 && t.route[0].N == 2 &&
              t.route[0].K == 300 && t.route[0].route == ROUTE_GEMV,
          "first route");
    CHECK(t.route[1].ta == 1 && t.route[1].M == 2 && t.route[1].route == ROUTE_GEMV, "GEMV");
    CHECK(tuning_route_of(t.route, t.n_routes, 0, 0, 256, 300, 2) == ROUTE_DIRECT, "direct");
    CHECK(tuning_route_of(t.route, t.n_routes, 0, 0, 50, 300, 2) == ROUTE_INDIRECT, "indirect");
    CHECK(tuning_route_of(t.route, t.n_routes, 1, 0, 50, 300, 2) == ROUTE_CLBLAST,
          "a shape without a line: clblast");
    char path[128];
    snprintf(path, sizeof path, "%s/routes.ini", root);
    CHECK(tuning_write(&t, path, NULL, NULL, &err) == 0, "%s", err.msg);
    Tuning back;
    CHECK(tuning_read(&back, path, &err) == 0, "%s", err.msg);
    CHECK(back.n_routes == 5 && memcmp(back.route, t.route, sizeof t.route) == 0,
          "routes survive the round trip");
    CHECK(tuning_hash(&back) == tuning_hash(&t), "hash stable");
    Tuning other = t;
    other.route[2].route = ROUTE_GEMV == other.route[2].route ? ROUTE_DIRECT : ROUTE_INDIRECT;
    CHECK(tuning_hash(&other) != tuning_hash(&t), "a route changes the hash");
    other = t;
    other.n_routes = 0;
    CHECK(tuning_hash(&other) != tuning_hash(&t), "no routes hash apart");

    const char *bad[][3] = {
        {"NT 256x2x300 = gemm", "[routes] NT 256x2x300 = 'gemm'", "clblast, direct, indirect or gemv"},
        {"NT 256x2 = gemv", "key 'NT 256x2'", "TRANSPOSES MxNxK"},
        {"XT 256x2x300 = gemv", "key 'XT 256x2x300'", NULL},
        {"NT 256x0x300 = gemv", "key 'NT 256x0x300'", "sizes from 1"},
        {"NT 256x2x300x4 = gemv", "key 'NT 256x2x300x4'", NULL},
        {"NN 256x300x2 = gemv", "NN 256x300x2 = gemv: gemv runs products with M or N at most 2",
         NULL},
        {"NT 256x2x300 = gemv\nNT 256x2x300 = direct", "f.ini:",
         "[routes] NT 256x2x300 is set twice (first on line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "[Padtranspose]\nPADTRA_PAD = 0\nPADTRA_TILE = 8\n"
                                    "PADTRA_WPT = 4\n[routes]\n%s\n", bad[i][0]);
        expect_bad(edited(tail, line), bad[i][1], bad[i][2]);
    }
    expect_bad(edited(tail, "[Padtranspose]\nPADTRA_PAD = 0\nPADTRA_TILE = 8\n"
                            "PADTRA_WPT = 4\n[routes]\nNT 1x2x3 = what\n"),
               "f.ini:61:", NULL); /* the line of the route, counted in GOOD */
}

int main(void)
{
    test_tmpdir(root, sizeof root, "tuning");
    test_parse_good();
    test_parse_bad();
    test_routes();
    test_class();
    test_check();
    test_resolve();
    test_import();
    if (test_rmdir(root) != 0) fprintf(stderr, "could not remove %s\n", root);
    return check_done("test_tuning");
}
