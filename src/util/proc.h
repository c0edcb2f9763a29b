/* proc: which process on which machine a run belongs to, and whether that
 * process still exists.
 *
 * Owns: this process's identity as run.json records it (host name, pid, the
 * start time the kernel gives the process, the boot it started in) and the
 * check, from another process, of whether a recorded identity is still a
 * live process. The start time and boot id make a reused pid, or a pid from
 * before a reboot, count as gone. Linux /proc where there is one; without
 * it only the pid is judged. */
#ifndef CLAE_PROC_H
#define CLAE_PROC_H

typedef struct {
    char host[256];          /* gethostname(); "" when unknown */
    long pid;                /* 0 when unknown */
    unsigned long long start; /* clock ticks after boot at which it started
                                 (/proc/PID/stat field 22); 0 when unknown */
    char boot_id[40];        /* /proc/sys/kernel/random/boot_id; "" when unknown */
} ProcId;

/* Fills p with this process's identity. Never fails: what cannot be found
 * stays empty (or 0). */
void proc_self(ProcId *p);

/* Whether the process p names is alive: 1 yes, 0 no (gone, or its pid now
 * belongs to another process, or it was from an earlier boot), -1 cannot
 * tell (another host, or no pid recorded). */
int proc_alive(const ProcId *p);

#endif
