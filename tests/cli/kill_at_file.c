/* kill_at_file: SIGKILL a process at the moment it starts writing a file.
 *
 *   kill_at_file ROOT PREFIX N PID
 *
 * Watches ROOT (and every folder that appears in it, such as a new run
 * folder) with inotify. At the N-th file created whose name starts with
 * PREFIX (for example "model.ckpt.tmp." for a checkpoint being written), it
 * waits for the first write into that file and then sends SIGKILL to PID at
 * once: the process dies with the file half written. Prints what it did and
 * the file's size at that moment; exits 0, or 1 when PID ended first or
 * nothing happened within 120 s. The tests use it to kill clae in the
 * middle of writing a checkpoint, which no sleep can aim at. Linux only. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCH 64

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: kill_at_file ROOT PREFIX N PID\n");
        return 2;
    }
    const char *root = argv[1], *prefix = argv[2];
    int nth = atoi(argv[3]);
    pid_t pid = (pid_t)atol(argv[4]);
    int fd = inotify_init1(IN_CLOEXEC);
    if (fd < 0) {
        perror("inotify_init1");
        return 1;
    }
    char dirs[MAX_WATCH][PATH_MAX];
    int wd[MAX_WATCH], nw = 0;
    wd[nw] = inotify_add_watch(fd, root, IN_CREATE | IN_MODIFY);
    if (wd[nw] < 0) {
        perror(root);
        return 1;
    }
    snprintf(dirs[nw++], PATH_MAX, "%s", root);
    int seen = 0, target_wd = -1;
    char target[NAME_MAX + 1] = "";
    time_t until = time(NULL) + 120;
    while (time(NULL) < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) {
            if (kill(pid, 0) != 0 && errno == ESRCH) break;
            continue;
        }
        char buf[64 * 1024] __attribute__((aligned(8)));
        ssize_t len = read(fd, buf, sizeof buf);
        for (char *q = buf; len > 0 && q < buf + len;) {
            struct inotify_event *e = (struct inotify_event *)q;
            q += sizeof *e + e->len;
            int w = 0;
            while (w < nw && wd[w] != e->wd) w++;
            if (w == nw || !e->len) continue;
            if ((e->mask & IN_CREATE) && (e->mask & IN_ISDIR) && w == 0 && nw < MAX_WATCH) {
                /* a new run folder: watch what is created and written in it */
                snprintf(dirs[nw], PATH_MAX, "%s/%s", root, e->name);
                wd[nw] = inotify_add_watch(fd, dirs[nw], IN_CREATE | IN_MODIFY);
                if (wd[nw] >= 0) nw++;
            } else if ((e->mask & IN_CREATE) && !target[0] &&
                       strncmp(e->name, prefix, strlen(prefix)) == 0 && ++seen == nth) {
                snprintf(target, sizeof target, "%s", e->name);
                target_wd = e->wd;
            } else if ((e->mask & IN_MODIFY) && target[0] && e->wd == target_wd &&
                       strcmp(e->name, target) == 0) {
                kill(pid, SIGKILL);
                char path[2 * PATH_MAX];
                struct stat st;
                snprintf(path, sizeof path, "%s/%s", dirs[w], target);
                long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
                printf("killed %ld while %s had %lld bytes\n", (long)pid, path, size);
                return 0;
            }
        }
    }
    fprintf(stderr, "kill_at_file: no write to the %d-th %s* in %s before process %ld ended\n", nth,
            prefix, root, (long)pid);
    return 1;
}
