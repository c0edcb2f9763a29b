/* tunepool: see tunepool.h. */
#define _POSIX_C_SOURCE 200809L
#include "tunepool.h"

#include <clblast_c.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clbtune.h"
#include "clctx.h"

int tunepool_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    return n > TUNEPOOL_MAX ? TUNEPOOL_MAX : (int)n;
}

/* Whole messages over a stream socket; EINTR (the tuner's Ctrl-C handler)
 * is retried, so an interrupted wait finishes its batch. MSG_NOSIGNAL: a
 * dead peer is an error return, not a SIGPIPE. */
static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = recv(fd, p, len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* Builds t's programs on ctx: every product once, as the tuner's check
 * will run them, so that every kernel at every work-group size compiles. */
static int build_one(ClCtx *ctx, Gemm *g, const Tuning *t, const GemmShape *sh, int n, cl_mem a,
                     cl_mem b, cl_mem c, Err *err)
{
    if (clbtune_apply(ctx->device, t, err)) return -1;
    ctx->gemm_layout = t->layout;
    if (gemm_alloc(g, err)) return -1;
    for (int i = 0; i < n; i++) {
        const GemmShape *s = &sh[i];
        if (gemm_run(g, "build", s->ta, s->tb, s->M, s->N, s->K, 1.0f, a, 0, s->ta ? s->M : s->K,
                     b, 0, s->tb ? s->K : s->N, 0.0f, c, 0, s->N, err))
            return -1;
    }
    CL_CHECK(clFinish(ctx->queue));
    return 0;
fail:
    return -1;
}

/* A child's life: its own context, then one candidate per message until
 * the tuner closes the socket. */
static void worker(int fd, const Config *cfg, const GemmShape *sh, int n)
{
    /* Ctrl-C is the tuner's to handle: it ends the search after the batch
     * in flight, and closing the socket ends this process. */
    signal(SIGINT, SIG_IGN);
    Err setup_err = {{0}};
    ClCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    Gemm g;
    memset(&g, 0, sizeof g);
    cl_mem a = NULL, b = NULL, c = NULL;
    size_t max_a = 1, max_b = 1, max_c = 1;
    for (int i = 0; i < n; i++) {
        if (sh[i].M * sh[i].K > max_a) max_a = sh[i].M * sh[i].K;
        if (sh[i].K * sh[i].N > max_b) max_b = sh[i].K * sh[i].N;
        if (sh[i].M * sh[i].N > max_c) max_c = sh[i].M * sh[i].N;
    }
    int ready = clctx_create(&ctx, cfg, 0, &setup_err) == 0;
    if (ready) {
        /* The inputs' values do not matter: nothing here is checked (the
         * tuner checks every product against the host itself). */
        ready = (a = clctx_buffer(&ctx, max_a * sizeof(float), NULL, &setup_err)) &&
                (b = clctx_buffer(&ctx, max_b * sizeof(float), NULL, &setup_err)) &&
                (c = clctx_buffer(&ctx, max_c * sizeof(float), NULL, &setup_err));
        gemm_init(&g, &ctx);
        for (int i = 0; ready && i < n; i++)
            ready = gemm_reserve(&g, sh[i].ta, sh[i].tb, sh[i].M, sh[i].N, sh[i].K,
                                 &setup_err) == 0;
    }
    Tuning t;
    while (recv_all(fd, &t, sizeof t) == 0) {
        TuneBuild r;
        memset(&r, 0, sizeof r);
        Err e = {{0}};
        if (!ready) {
            util_fmt(r.why, sizeof r.why, "%s", setup_err.msg);
        } else if (build_one(&ctx, &g, &t, sh, n, a, b, c, &e)) {
            util_fmt(r.why, sizeof r.why, "%s", e.msg);
            (void)clFinish(ctx.queue);
        } else {
            r.ok = 1;
        }
        /* The built programs live on in the driver's cache, not here. */
        CLBlastClearCache();
        if (send_all(fd, &r, sizeof r)) break;
    }
    if (ctx.queue) (void)clFinish(ctx.queue);
    gemm_destroy(&g);
    if (a) clReleaseMemObject(a);
    if (b) clReleaseMemObject(b);
    if (c) clReleaseMemObject(c);
    clctx_destroy(&ctx);
    close(fd);
}

int tunepool_start(TunePool *p, int n, const Config *cfg, const GemmShape *shapes, int n_shapes,
                   Err *err)
{
    memset(p, 0, sizeof *p);
    if (n > TUNEPOOL_MAX) n = TUNEPOOL_MAX;
    /* The child inherits stdio's buffers: empty them so nothing prints twice. */
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < n; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
            err_set(err, "socketpair for a compile process: %s", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            err_set(err, "fork of a compile process: %s", strerror(errno));
            close(sv[0]);
            close(sv[1]);
            break;
        }
        if (pid == 0) {
            close(sv[0]);
            for (int j = 0; j < p->n; j++) close(p->w[j].fd); /* its siblings' sockets */
            worker(sv[1], cfg, shapes, n_shapes);
            _exit(0); /* not exit: the tuner's atexit handlers and stdio are not the child's */
        }
        close(sv[1]);
        p->w[p->n].pid = pid;
        p->w[p->n].fd = sv[0];
        p->n++;
    }
    return p->n > 0 ? 0 : -1;
}

int tunepool_alive(const TunePool *p)
{
    int a = 0;
    for (int i = 0; i < p->n; i++) a += p->w[i].fd >= 0;
    return a;
}

/* A worker that failed to answer: reaped, and why said in words. */
static void bury(TuneWorker *w, char *why, size_t len)
{
    close(w->fd);
    w->fd = -1;
    int st = 0;
    pid_t r;
    while ((r = waitpid(w->pid, &st, 0)) < 0 && errno == EINTR) {}
    if (r == w->pid && WIFSIGNALED(st))
        snprintf(why, len, "the compile process died of signal %d (%s)", WTERMSIG(st),
                 strsignal(WTERMSIG(st)));
    else
        snprintf(why, len, "the compile process exited without an answer");
    w->pid = 0;
}

void tunepool_build(TunePool *p, const Tuning *t, int n, TuneBuild *out)
{
    /* Each live worker takes the next candidate as soon as it is free, so
     * a slow compile holds one core while the other goes on. */
    int job[TUNEPOOL_MAX]; /* the candidate each worker builds, -1 when idle or gone */
    int next = 0, busy = 0;
    for (int i = 0; i < n; i++) memset(&out[i], 0, sizeof out[i]);
    for (int w = 0; w < p->n; w++) job[w] = -1;
    for (;;) {
        for (int w = 0; w < p->n && next < n; w++) {
            if (p->w[w].fd < 0 || job[w] >= 0) continue;
            if (send_all(p->w[w].fd, &t[next], sizeof t[next])) {
                bury(&p->w[w], out[next].why, sizeof out[next].why);
                next++;
                continue;
            }
            job[w] = next++;
            busy++;
        }
        if (busy == 0) break;
        struct pollfd pf[TUNEPOOL_MAX];
        int who[TUNEPOOL_MAX], np = 0;
        for (int w = 0; w < p->n; w++)
            if (job[w] >= 0) {
                pf[np].fd = p->w[w].fd;
                pf[np].events = POLLIN;
                pf[np].revents = 0;
                who[np++] = w;
            }
        int r = poll(pf, (nfds_t)np, -1);
        if (r < 0 && errno == EINTR) continue;
        for (int i = 0; i < np; i++) {
            if (r > 0 && !pf[i].revents) continue;
            int w = who[i], c = job[w];
            if (recv_all(p->w[w].fd, &out[c], sizeof out[c])) {
                memset(&out[c], 0, sizeof out[c]);
                bury(&p->w[w], out[c].why, sizeof out[c].why);
            }
            out[c].why[sizeof out[c].why - 1] = '\0';
            job[w] = -1;
            busy--;
        }
        if (tunepool_alive(p) == 0)
            for (; next < n; next++) util_fmt(out[next].why, sizeof out[next].why, "%s",
                                              "no compile process left");
    }
}

void tunepool_stop(TunePool *p)
{
    for (int i = 0; i < p->n; i++) {
        if (p->w[i].fd < 0) continue;
        close(p->w[i].fd); /* the child reads end of file and exits */
        p->w[i].fd = -1;
        while (waitpid(p->w[i].pid, NULL, 0) < 0 && errno == EINTR) {}
        p->w[i].pid = 0;
    }
    p->n = 0;
}
