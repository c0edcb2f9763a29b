/* proc: see proc.h. */
#define _POSIX_C_SOURCE 200809L
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Field 22 (starttime) of /proc/PID/stat into *start and field 3 (state)
 * into *state; -1 when unreadable. The command name (field 2) is in
 * parentheses and may hold spaces or ')', so fields count from the last ')'. */
static int stat_fields(long pid, unsigned long long *start, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2]) return -1;
    *state = p[2];
    for (int field = 3; field <= 22; field++) { /* to the blank before field 22 */
        p = strchr(p + 1, ' ');
        if (!p) return -1;
    }
    *start = strtoull(p + 1, NULL, 10);
    return 0;
}

static void boot_id(char *out, size_t len)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f) return;
    if (fgets(out, (int)len, f)) out[strcspn(out, "\r\n")] = '\0';
    else out[0] = '\0';
    fclose(f);
}

void proc_self(ProcId *p)
{
    memset(p, 0, sizeof *p);
    if (gethostname(p->host, sizeof p->host) != 0) p->host[0] = '\0';
    p->host[sizeof p->host - 1] = '\0';
    p->pid = (long)getpid();
    char state;
    if (stat_fields(p->pid, &p->start, &state) != 0) p->start = 0;
    boot_id(p->boot_id, sizeof p->boot_id);
}

int proc_alive(const ProcId *p)
{
    if (p->pid <= 0 || !p->host[0]) return -1;
    ProcId me;
    proc_self(&me);
    if (strcmp(p->host, me.host) != 0) return -1;
    /* the same host name after a reboot: every process of before is gone */
    if (p->boot_id[0] && me.boot_id[0] && strcmp(p->boot_id, me.boot_id) != 0) return 0;
    if (kill((pid_t)p->pid, 0) != 0 && errno == ESRCH) return 0;
    /* The pid exists (EPERM: someone else's). A zombie (killed, not yet
     * reaped by its parent) is gone for our purposes; a different start
     * time means the pid was reused. */
    unsigned long long start;
    char state;
    if (stat_fields(p->pid, &start, &state) == 0) {
        if (state == 'Z' || state == 'X') return 0;
        if (p->start && start != p->start) return 0;
    }
    return 1;
}
