/* fuzz_tuning: a CLBlast tuning file, as [device] tuning = PATH and auto read
 * it (tuning_read, then clbtune_check against the device).
 *
 * Input: the bytes of the file (also read as a JSON file of CLBlast's
 * tuners, as clae tune --import reads them: jansson's parse, then clae's
 * member checks in tuning.c and jsonio.h).
 *
 * Promises checked: a refused file gets one line naming the file; an
 * accepted one passes every kernel's rules (tuning_check_kernel), checks
 * against a device with one line either way, and writes back (tuning_write)
 * to a file that reads back to the same parameters, layout, [device] values
 * and hash. */
#include "fuzz.h"

#include "clbtune.h"
#include "tuning.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200], back_path[4200];
    Tuning t;
    Err err = {{0}};
    /* The same bytes as a file of CLBlast's tuners (clae tune --import):
     * one-line errors, and whatever it imports keeps CLBlast's rules. */
    fuzz_write("t.json", data, size, path, sizeof path);
    tuning_init(&t);
    TuningImport what;
    if (tuning_import_json(&t, path, &what, &err) == 0) {
        if (what.kernel >= 0)
            FUZZ_ASSERT(t.has[what.kernel] &&
                            tuning_check_kernel(what.kernel, t.value[what.kernel], NULL, &err) == 0,
                        "imported a set that breaks a rule: %s", err.msg);
    } else {
        FUZZ_ASSERT(strchr(err.msg, '\n') == NULL && strstr(err.msg, path), "import: %s", err.msg);
    }
    fuzz_write("t.ini", data, size, path, sizeof path);
    if (tuning_read(&t, path, &err) != 0) {
        FUZZ_ASSERT(strstr(err.msg, path) == err.msg, "error does not start with the file: %s",
                    err.msg);
        FUZZ_ASSERT(strchr(err.msg, '\n') == NULL, "two-line error: %s", err.msg);
        return 0;
    }
    for (int k = 0; k < TK_COUNT; k++)
        if (t.has[k])
            FUZZ_ASSERT(tuning_check_kernel(k, t.value[k], NULL, &err) == 0,
                        "accepted [%s] that breaks a rule: %s", tuning_kernel(k)->name, err.msg);

    DeviceId id;
    memset(&id, 0, sizeof id);
    snprintf(id.platform, sizeof id.platform, "Portable Computing Language");
    snprintf(id.device, sizeof id.device, "pthread-skylake-avx512-AMD EPYC");
    snprintf(id.clblast, sizeof id.clblast, "1.5.3");
    snprintf(id.device_class, sizeof id.device_class, "pocl-cpu-avx512");
    id.max_work_group = 1024;
    id.max_item[0] = id.max_item[1] = id.max_item[2] = 1024;
    id.local_mem = 65536;
    if (clbtune_check(&t, &id, path, &err) != 0)
        FUZZ_ASSERT(strchr(err.msg, '\n') == NULL && strstr(err.msg, path), "check: %s", err.msg);

    fuzz_path(back_path, sizeof back_path, "back.ini");
    FUZZ_ASSERT(tuning_write(&t, back_path, "fuzz\nround trip", NULL, &err) == 0, "write: %s",
                err.msg);
    Tuning u;
    FUZZ_ASSERT(tuning_read(&u, back_path, &err) == 0, "written file refused: %s", err.msg);
    FUZZ_ASSERT(memcmp(t.has, u.has, sizeof t.has) == 0 && t.layout == u.layout,
                "sections or layout changed");
    for (int k = 0; k < TK_COUNT; k++)
        if (t.has[k])
            FUZZ_ASSERT(memcmp(t.value[k], u.value[k], sizeof t.value[k]) == 0, "[%s] changed",
                        tuning_kernel(k)->name);
    FUZZ_ASSERT(!strcmp(t.platform, u.platform) && !strcmp(t.device, u.device) &&
                    !strcmp(t.driver, u.driver) && !strcmp(t.clblast, u.clblast) &&
                    !strcmp(t.device_class, u.device_class),
                "[device] changed: '%s' -> '%s'", t.device, u.device);
    FUZZ_ASSERT(tuning_hash(&t) == tuning_hash(&u), "hash changed");
    return 0;
}
