/* test_plot: the pictures read back and measured against numbers worked out
 * here. SVGs are checked for well-formed tags, then their polylines, markers,
 * ticks and legend are parsed: the tick labels with their pixel positions
 * give the data-to-pixel mapping independently of plot.c, and the points and
 * centroids must land where that mapping puts the data and the class means
 * computed here. PNGs are decoded with png_read and probed at those pixels.
 * Tolerances: 0.5 px for anything measured from the SVG text (coordinates
 * are written with 1 or 2 decimals); exact colours in the PNG (no blending). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plot.h"
#include "png.h"

/* ---- reading SVG back ------------------------------------------------------ */

/* 1 if every tag closes in order, the root is <svg>, attribute values are
 * quoted and every '&' starts a known entity; else 0 with the reason on
 * stderr. Enough XML to catch what string building gets wrong. */
static int xml_ok(const char *s)
{
    const char *stack[64];
    size_t stack_len[64];
    int depth = 0, roots = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '&') {
            static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            int ok = 0;
            for (int i = 0; i < 5; i++) ok |= strncmp(p, ents[i], strlen(ents[i])) == 0;
            if (!ok) return fprintf(stderr, "bare '&' at %.20s\n", p), 0;
        }
        if (*p != '<') continue;
        if (p[1] == '/') {
            const char *name = p + 2;
            size_t n = strcspn(name, ">");
            if (depth == 0 || n != stack_len[depth - 1] || strncmp(name, stack[depth - 1], n) != 0)
                return fprintf(stderr, "unexpected close tag %.20s\n", p), 0;
            depth--;
            p = name + n;
            continue;
        }
        const char *name = p + 1;
        size_t n = strcspn(name, " \t\n/>");
        if (n == 0) return fprintf(stderr, "bad tag at %.20s\n", p), 0;
        const char *q = name + n;
        char quote = 0;
        for (; *q && (quote || *q != '>'); q++) {
            if (quote && *q == quote) quote = 0;
            else if (!quote && (*q == '"' || *q == '\'')) quote = *q;
            else if (!quote && *q == '<') return fprintf(stderr, "'<' inside tag %.20s\n", p), 0;
            else if (!quote && *q == '=' && q[1] != '"' && q[1] != '\'')
                return fprintf(stderr, "unquoted attribute in %.30s\n", p), 0;
        }
        if (!*q) return fprintf(stderr, "unterminated tag %.20s\n", p), 0;
        if (depth == 0) {
            roots++;
            if (strncmp(name, "svg", n) != 0 || n != 3) return fprintf(stderr, "root is not svg\n"), 0;
        }
        if (q[-1] != '/') {
            if (depth == 64) return fprintf(stderr, "too deep\n"), 0;
            stack[depth] = name;
            stack_len[depth++] = n;
        }
        p = q;
    }
    if (depth != 0 || roots != 1) return fprintf(stderr, "depth %d, %d roots at the end\n", depth, roots), 0;
    return 1;
}

static int starts_ends_svg(const char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) n--;
    return strncmp(s, "<svg", 4) == 0 && n >= 6 && strncmp(s + n - 6, "</svg>", 6) == 0;
}

static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* Counts `needle` between `start` and the next "</g>" after it. */
static int count_in_group(const char *s, const char *start, const char *needle)
{
    const char *g = strstr(s, start);
    if (!g) return -1;
    const char *end = strstr(g, "</g>");
    int n = 0;
    for (const char *p = strstr(g, needle); p && p < end; p = strstr(p + 1, needle)) n++;
    return n;
}

typedef struct {
    int n;
    double px[64];  /* pixel position along the axis */
    double val[64]; /* the label read as a number */
    char text[64][32];
} TickRead;

/* Labelled ticks of one axis: <g class="xtick" transform="translate(X,0)">
 * ... <text ...>LABEL</text>; axis 'x' or 'y'. */
static void read_ticks(const char *svg, char axis, TickRead *t)
{
    char key[64];
    snprintf(key, sizeof key, "<g class=\"%ctick\" transform=\"translate(", axis);
    t->n = 0;
    for (const char *p = strstr(svg, key); p && t->n < 64; p = strstr(p + 1, key)) {
        char *q;
        double a = strtod(p + strlen(key), &q);
        double b = strtod(q + 1, NULL);
        const char *txt = strstr(q, "<text"), *end = strstr(q, "</g>");
        if (!txt || txt > end) continue;
        txt = strchr(txt, '>') + 1;
        size_t len = strcspn(txt, "<");
        if (len >= sizeof t->text[0]) len = sizeof t->text[0] - 1;
        memcpy(t->text[t->n], txt, len);
        t->text[t->n][len] = '\0';
        t->val[t->n] = strtod(t->text[t->n], NULL);
        t->px[t->n] = axis == 'x' ? a : b;
        t->n++;
    }
}

/* pixel = a + b * value from the outermost labelled ticks. */
static void fit_axis(const TickRead *t, double *a, double *b)
{
    *b = (t->px[t->n - 1] - t->px[0]) / (t->val[t->n - 1] - t->val[0]);
    *a = t->px[0] - *b * t->val[0];
}

static int find_tick(const TickRead *t, const char *text)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->text[i], text) == 0) return i;
    return -1;
}

/* Points of the first <polyline class="NAME"; returns how many. */
static int read_polyline(const char *svg, const char *name, double *xs, double *ys, int max)
{
    char key[64];
    snprintf(key, sizeof key, "<polyline class=\"%s\"", name);
    const char *p = strstr(svg, key);
    if (!p) return 0;
    p = strstr(p, "points=\"") + 8;
    int n = 0;
    while (*p != '"' && n < max) {
        char *e;
        xs[n] = strtod(p, &e);
        ys[n] = strtod(e + 1, &e);
        n++;
        p = e;
        while (*p == ' ') p++;
    }
    return n;
}

/* ---- palette and ticks ----------------------------------------------------- */

static int is_125(double step)
{
    double e = floor(log10(step)), m = step / pow(10, e);
    return fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6 || fabs(m - 10) < 1e-6;
}

static void check_palette_and_ticks(void)
{
    unsigned char c[11][3];
    for (int i = 0; i < 11; i++) plot_class_color(i, c[i]);
    CHECK(c[0][0] == 0x4e && c[0][1] == 0x79 && c[0][2] == 0xa7, "label 0 is Tableau blue");
    CHECK(c[1][0] == 0xf2 && c[1][1] == 0x8e && c[1][2] == 0x2b, "label 1 is Tableau orange");
    int distinct = 1;
    for (int i = 0; i < 11; i++)
        for (int j = 0; j < i; j++) distinct &= memcmp(c[i], c[j], 3) != 0;
    CHECK(distinct, "labels 0..9 and 'other' have 11 different colours");
    unsigned char o[3];
    plot_class_color(-1, o);
    CHECK(memcmp(o, c[10], 3) == 0, "label -1 is 'other' like 10");

    double first, step;
    CHECK(plot_nice_ticks(0, 1, 5, &first, &step) == 3 && first == 0 && step == 0.5,
          "0..1 with 5: %g + %g", first, step);
    CHECK(plot_nice_ticks(0, 1, 6, &first, &step) == 6 && fabs(step - 0.2) < 1e-15,
          "0..1 with 6: step %g", step);
    CHECK(plot_nice_ticks(-3.7, 12.2, 8, &first, &step) == 8 && first == -2 && step == 2,
          "-3.7..12.2: %g + %g", first, step);
    CHECK(plot_nice_ticks(2, 2, 5, &first, &step) == 1 && first == 2, "one value");
    CHECK(plot_nice_ticks(NAN, 2, 5, &first, &step) == 0, "NaN");
    CHECK(plot_nice_ticks(3, 2, 5, &first, &step) == 0, "hi < lo");
    /* Random ranges: 2..max ticks, all inside, 1-2-5 steps, and the next
     * smaller 1-2-5 step would have put more than max in range. */
    uint64_t s = 12345;
    int bad = 0;
    for (int i = 0; i < 2000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double lo = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * pow(10, (int)(s % 13) - 6);
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double hi = lo + (double)(s >> 11) / 9007199254740992.0 * pow(10, (int)(s % 11) - 5);
        int max = 5 + (int)(s % 6);
        int n = plot_nice_ticks(lo, hi, max, &first, &step);
        if (hi <= lo) continue;
        double tol = step * 1e-6;
        /* The 1-2-5 step below: 5 -> 2, 2 -> 1, 1 -> 0.5. */
        double mant = step / pow(10, floor(log10(step) + 1e-9));
        double smaller = step / (fabs(mant - 5) < 1e-6 ? 2.5 : 2);
        int n_smaller = (int)(floor(hi / smaller + 1e-9) - ceil(lo / smaller - 1e-9) + 1);
        if (n < 2 || n > max || !is_125(step) || first < lo - tol || first + (n - 1) * step > hi + tol ||
            n_smaller <= max) {
            if (bad++ < 5)
                fprintf(stderr, "nice_ticks(%g, %g, %d) = %d ticks from %g step %g\n", lo, hi, max,
                        n, first, step);
        }
    }
    CHECK(bad == 0, "%d random ranges broke the tick rule", bad);

    char buf[32];
    plot_tick_label(0.5, 0.5, buf, sizeof buf);
    CHECK(strcmp(buf, "0.5") == 0, "0.5 -> %s", buf);
    plot_tick_label(0.25, 0.05, buf, sizeof buf);
    CHECK(strcmp(buf, "0.25") == 0, "0.25 -> %s", buf);
    plot_tick_label(-3, 1, buf, sizeof buf);
    CHECK(strcmp(buf, "-3") == 0, "-3 -> %s", buf);
    plot_tick_label(-1e-17, 0.1, buf, sizeof buf);
    CHECK(strcmp(buf, "0.0") == 0, "-1e-17 -> %s", buf);
    plot_tick_label(2e6, 1e6, buf, sizeof buf);
    CHECK(strcmp(buf, "2e+06") == 0, "2e6 -> %s", buf);
}

/* ---- loss plot ----------------------------------------------------------- */

/* Every labelled y tick sits where the log mapping of two known points puts
 * its value: pixel = y0 + (log10(v) - log10(v0)) * (y1 - y0) / (log10(v1) - log10(v0)). */
static void check_log_ticks(const char *svg, double v0, double y0, double v1, double y1, const char *what)
{
    TickRead t;
    read_ticks(svg, 'y', &t);
    CHECK(t.n >= 2 && t.n <= 10, "%s: %d labelled y ticks (2..10)", what, t.n);
    double per_decade = (y1 - y0) / (log10(v1) - log10(v0));
    for (int i = 0; i < t.n; i++) {
        double want = y0 + (log10(t.val[i]) - log10(v0)) * per_decade;
        CHECK(t.val[i] > 0 && fabs(t.px[i] - want) < 0.5, "%s: tick '%s' at y=%.2f, log mapping says %.2f",
              what, t.text[i], t.px[i], want);
    }
}

static void check_loss(void)
{
    Err err = {{0}};
    int epoch[3] = {1, 2, 3};
    double train[3] = {1, 0.1, 0.01}, test[3] = {2, 0.2, 0.02};
    char *svg = plot_loss_svg(epoch, train, test, 3, &err);
    CHECK(svg != NULL, "%s", err.msg);
    if (!svg) return;
    CHECK(starts_ends_svg(svg) && xml_ok(svg), "loss SVG is one well-formed <svg>");
    CHECK_CONTAINS(svg, "xmlns=\"http://www.w3.org/2000/svg\"");
    CHECK_CONTAINS(svg, "viewBox=\"0 0 640 400\"");
    double tx[8], ty[8], sx[8], sy[8];
    int nt = read_polyline(svg, "train", tx, ty, 8), ns = read_polyline(svg, "test", sx, sy, 8);
    CHECK(nt == 3 && ns == 3, "polylines have %d and %d points, want 3", nt, ns);
    if (nt == 3 && ns == 3) {
        double d1 = ty[1] - ty[0], d2 = ty[2] - ty[1];
        CHECK(d1 > 20 && fabs(d1 - d2) < 0.5, "one decade each: %.2f vs %.2f px", d1, d2);
        CHECK(tx[1] - tx[0] > 20 && fabs((tx[1] - tx[0]) - (tx[2] - tx[1])) < 0.5, "epochs evenly apart");
        for (int i = 0; i < 3; i++) {
            CHECK(fabs(sy[i] - (ty[i] - log10(2) * d1)) < 0.5, "test[%d] is log10(2) decade above train", i);
            CHECK(fabs(sx[i] - tx[i]) < 1e-9, "same epoch, same x");
        }
        check_log_ticks(svg, 1, ty[0], 0.01, ty[2], "1..0.01");
        TickRead t;
        read_ticks(svg, 'y', &t);
        CHECK(find_tick(&t, "1") >= 0 && find_tick(&t, "0.1") >= 0 && find_tick(&t, "0.01") >= 0,
              "decade labels 1, 0.1, 0.01");
        int i = find_tick(&t, "0.1");
        if (i >= 0) CHECK(fabs(t.px[i] - ty[1]) < 0.5, "tick 0.1 at the 0.1 point");
        read_ticks(svg, 'x', &t);
        CHECK(t.n == 3 && find_tick(&t, "1") >= 0 && find_tick(&t, "3") >= 0, "epoch ticks 1..3");
    }
    CHECK(count_in_group(svg, "<g class=\"train-points\"", "<circle") == 3, "3 train markers");
    CHECK(count_in_group(svg, "<g class=\"test-points\"", "<circle") == 3, "3 test markers");
    CHECK_CONTAINS(svg, ">train</text>");
    CHECK_CONTAINS(svg, ">test</text>");
    CHECK_CONTAINS(svg, ">epoch</text>");
    CHECK_CONTAINS(svg, ">loss (log scale)</text>");
    CHECK_CONTAINS(svg, "class=\"ytick-minor\""); /* two decades: 2..9 x 10^d marked */
    free(svg);

    /* 200 epochs over ten decades: at most 10 integer epoch labels, at most
     * 8 decade labels, all on the log mapping. */
    enum { N = 200 };
    int ep[N];
    double tr[N], te[N];
    for (int i = 0; i < N; i++) {
        ep[i] = i + 1;
        tr[i] = 10 * pow(1e-9, i / (double)(N - 1));
        te[i] = 2 * tr[i];
    }
    svg = plot_loss_svg(ep, tr, te, N, &err);
    CHECK(svg && xml_ok(svg), "200 epochs: %s", err.msg);
    if (svg) {
        static double xs[N], ys[N];
        CHECK(read_polyline(svg, "train", xs, ys, N) == N, "200 train points");
        check_log_ticks(svg, tr[0], ys[0], tr[N - 1], ys[N - 1], "1e1..1e-8");
        TickRead t;
        read_ticks(svg, 'x', &t);
        int ints = 1;
        for (int i = 0; i < t.n; i++) ints &= t.val[i] == floor(t.val[i]) && strchr(t.text[i], '.') == NULL;
        CHECK(t.n >= 2 && t.n <= 10 && ints, "%d integer epoch labels (2..10)", t.n);
        double a, b;
        fit_axis(&t, &a, &b);
        CHECK(fabs(xs[N - 1] - (a + b * N)) < 0.5, "epoch ticks on the points' x mapping");
        free(svg);
    }

    /* Ranges inside one decade still get two labels or more, on the mapping. */
    double narrow[3] = {0.012, 0.015, 0.018}, tight[3] = {0.5, 0.5004, 0.5008};
    double *cases[2] = {narrow, tight};
    for (int c = 0; c < 2; c++) {
        svg = plot_loss_svg(NULL, cases[c], NULL, 3, &err);
        CHECK(svg && xml_ok(svg), "narrow range %d: %s", c, err.msg);
        if (!svg) continue;
        double xs[3], ys[3];
        CHECK(read_polyline(svg, "train", xs, ys, 3) == 3, "3 points");
        CHECK(strstr(svg, "class=\"test") == NULL && strstr(svg, ">test<") == NULL, "no test series");
        check_log_ticks(svg, cases[c][0], ys[0], cases[c][2], ys[2], c ? "0.5 +- 0.1%" : "0.012..0.018");
        free(svg);
    }
    double flat[2] = {0.5, 0.5};
    svg = plot_loss_svg(NULL, flat, NULL, 2, &err);
    if (svg) {
        TickRead t;
        read_ticks(svg, 'y', &t);
        CHECK(t.n >= 2 && t.val[0] < 0.5 && t.val[t.n - 1] > 0.5, "constant loss: ticks either side");
        free(svg);
    }

    /* Values that cannot go on a log axis are gaps, not crashes. */
    double bt[9] = {1, 0.5, NAN, 0.1, 0, 0.05, -1, 0.01, INFINITY};
    double bs[9] = {NAN, 0.4, 0.3, -INFINITY, 0.2, 0.1, 0.05, 0, 0.02};
    svg = plot_loss_svg(NULL, bt, bs, 9, &err);
    CHECK(svg && xml_ok(svg), "bad values: %s", err.msg);
    if (svg) {
        CHECK(count_in_group(svg, "<g class=\"train-points\"", "<circle") == 5, "5 train markers");
        CHECK(count_in_group(svg, "<g class=\"test-points\"", "<circle") == 6, "6 test markers");
        CHECK(count_of(svg, "<polyline class=\"train\"") == 1, "train: one run of 2");
        CHECK(count_of(svg, "<polyline class=\"test\"") == 2, "test: runs of 2 and 3");
        CHECK(!strstr(svg, "nan") && !strstr(svg, "inf") && !strstr(svg, "NAN") && !strstr(svg, "INF"),
              "no NaN or inf printed");
        CHECK_CONTAINS(svg, "7 loss values not finite or not positive");
        free(svg);
    }

    /* n == 0 and n == 1 are valid documents. */
    svg = plot_loss_svg(epoch, train, test, 0, &err);
    CHECK(svg && starts_ends_svg(svg) && xml_ok(svg) && !strstr(svg, "<polyline") &&
              strstr(svg, "no epochs yet"),
          "n == 0");
    free(svg);
    int e5 = 5;
    svg = plot_loss_svg(&e5, train, test, 1, &err);
    CHECK(svg && starts_ends_svg(svg) && xml_ok(svg) && !strstr(svg, "<polyline") &&
              count_of(svg, "r=\"3\"/>") == 2,
          "n == 1: one marker a series");
    if (svg) {
        TickRead t;
        read_ticks(svg, 'y', &t);
        CHECK(t.n >= 2, "n == 1: %d y labels", t.n);
        read_ticks(svg, 'x', &t);
        CHECK(find_tick(&t, "5") >= 0, "n == 1: epoch 5 labelled");
    }
    free(svg);
    svg = plot_loss_svg(NULL, NULL, NULL, 4, &err);
    CHECK(svg && xml_ok(svg) && !strstr(svg, "class=\"legend\""), "no series at all");
    free(svg);
    CHECK(plot_loss_svg(NULL, train, NULL, -1, &err) == NULL, "n < 0 is an error");
    CHECK_CONTAINS(err.msg, "-1 epochs");
}

/* ---- latent scatter ---------------------------------------------------------- */

static uint64_t rng_state = 42;
static double urand(void) /* uniform in [0, 1), the test's own generator */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void check_latent_svg(void)
{
    enum { N = 600, K = 3 };
    static float z[N * K];
    static unsigned char lab[N];
    const int used[4] = {1, 3, 4, 7};
    const double cx[10] = {0, -3, 0, 2, 4, 0, 0, -1, 0, 0}, cy[10] = {0, 1, 0, -2, 3, 0, 0, -4, 0, 0};
    for (int i = 0; i < N; i++) {
        lab[i] = (unsigned char)used[(i * 7) % 4];
        z[i * K] = (float)(cx[lab[i]] + 2 * urand() - 1);
        z[i * K + 1] = (float)(cy[lab[i]] + 2 * urand() - 1);
        z[i * K + 2] = (float)urand();
    }
    z[10 * K] = NAN;            /* z1: skipped */
    z[20 * K + 1] = INFINITY;   /* z2: skipped */
    z[30 * K + 2] = NAN;        /* z3 is not plotted: point 30 is drawn */
    Err err = {{0}};
    char *svg = plot_latent_svg(z, lab, N, K, NULL, "run <7> & co", &err);
    CHECK(svg != NULL, "%s", err.msg);
    if (!svg) return;
    CHECK(starts_ends_svg(svg) && xml_ok(svg), "latent SVG is one well-formed <svg>");
    CHECK_CONTAINS(svg, "viewBox=\"0 0 640 480\"");
    CHECK_CONTAINS(svg, "run &lt;7&gt; &amp; co (z1, z2 of 3)</text>");
    CHECK_CONTAINS(svg, "2 of 600 points have a non-finite coordinate");
    CHECK_CONTAINS(svg, ">z1</text>");
    CHECK_CONTAINS(svg, ">z2</text>");
    CHECK(count_of(svg, "r=\"2\"/>") == N - 2, "%d point markers, want %d", count_of(svg, "r=\"2\"/>"), N - 2);

    TickRead xt, yt;
    read_ticks(svg, 'x', &xt);
    read_ticks(svg, 'y', &yt);
    CHECK(xt.n >= 2 && xt.n <= 8 && yt.n >= 2 && yt.n <= 8, "%d x and %d y labels (2..8)", xt.n, yt.n);
    int nice = 1;
    for (int i = 1; i < xt.n; i++) nice &= is_125(xt.val[i] - xt.val[i - 1]);
    for (int i = 1; i < yt.n; i++) nice &= is_125(yt.val[i] - yt.val[i - 1]);
    CHECK(nice, "tick steps are 1, 2 or 5 x 10^e");
    double ax, bx, ay, by;
    fit_axis(&xt, &ax, &bx);
    fit_axis(&yt, &ay, &by);
    CHECK(bx > 0 && by < 0, "z1 grows to the right, z2 upwards");

    /* Per class: the group's markers are its finite points in index order,
     * each where the tick mapping puts it; the centroid sits on the mean. */
    int keys = 0;
    for (int c = 0; c < 10; c++) {
        double sx = 0, sy = 0;
        int cnt = 0;
        for (int i = 0; i < N; i++)
            if (lab[i] == c && isfinite(z[i * K]) && isfinite(z[i * K + 1])) {
                sx += z[i * K];
                sy += z[i * K + 1];
                cnt++;
            }
        char key[64];
        snprintf(key, sizeof key, "<g class=\"points\" data-label=\"%d\"", c);
        const char *g = strstr(svg, key);
        CHECK((g != NULL) == (cnt > 0), "a point group for label %d iff it has points", c);
        char legend[64];
        snprintf(legend, sizeof legend, "\">%d (n=%d)</text>", c, cnt);
        CHECK((strstr(svg, legend) != NULL) == (cnt > 0), "legend entry %s iff present", legend);
        if (!g || !cnt) continue;
        keys++;
        const char *p = g;
        int off = 0, seen = 0;
        for (int i = 0; i < N; i++) {
            if (lab[i] != c || !isfinite(z[i * K]) || !isfinite(z[i * K + 1])) continue;
            p = strstr(p + 1, "<circle cx=\"");
            if (!p) break;
            double px = strtod(p + 12, NULL), py = strtod(strstr(p, "cy=\"") + 4, NULL);
            off += fabs(px - (ax + bx * z[i * K])) > 0.5 || fabs(py - (ay + by * z[i * K + 1])) > 0.5;
            seen++;
        }
        CHECK(seen == cnt && off == 0, "label %d: %d of %d markers off the mapping", c, off, cnt);
        snprintf(key, sizeof key, "<circle class=\"centroid\" data-label=\"%d\" cx=\"", c);
        const char *m = strstr(svg, key);
        CHECK(m != NULL, "centroid of label %d", c);
        if (m) {
            double px = strtod(m + strlen(key), NULL), py = strtod(strstr(m, "cy=\"") + 4, NULL);
            double wx = ax + bx * sx / cnt, wy = ay + by * sy / cnt;
            CHECK(fabs(px - wx) < 0.5 && fabs(py - wy) < 0.5,
                  "centroid %d at (%.2f, %.2f), mean maps to (%.2f, %.2f)", c, px, py, wx, wy);
        }
    }
    CHECK(keys == 4 && count_of(svg, "class=\"key\"") == 5, "legend: 4 labels and 'centroid'");
    CHECK_CONTAINS(svg, ">centroid</text>");
    CHECK(count_of(svg, "class=\"centroid\"") == 4, "4 centroids");
    free(svg);

    /* k == 2: no suffix; k == 1: z1 against the index. */
    svg = plot_latent_svg(z, lab, N, 2, NULL, NULL, &err);
    CHECK(svg && xml_ok(svg) && strstr(svg, ">latent space</text>"), "k == 2, default title");
    free(svg);
    svg = plot_latent_svg(z, lab, N, 1, NULL, "one", &err);
    CHECK(svg && xml_ok(svg), "k == 1: %s", err.msg);
    if (svg) {
        CHECK_CONTAINS(svg, "one (z1 against point index)");
        CHECK_CONTAINS(svg, ">index</text>");
        /* z (N, 1) is z[0..N): point 10 is NaN, the rest finite. */
        int finite = 0;
        for (int i = 0; i < N; i++) finite += isfinite(z[i]) != 0;
        CHECK(count_of(svg, "r=\"2\"/>") == finite, "k == 1: %d markers", finite);
        free(svg);
    }

    /* Edge cases: no points, all non-finite, one point, a label above 9. */
    svg = plot_latent_svg(NULL, NULL, 0, 2, NULL, "empty", &err);
    CHECK(svg && starts_ends_svg(svg) && xml_ok(svg) && strstr(svg, "no points") &&
              count_of(svg, "r=\"2\"/>") == 0,
          "n == 0");
    free(svg);
    float nan3[6] = {NAN, 1, 2, NAN, INFINITY, -INFINITY};
    unsigned char l3[3] = {0, 1, 2};
    svg = plot_latent_svg(nan3, l3, 3, 2, NULL, NULL, &err);
    CHECK(svg && xml_ok(svg) && strstr(svg, "3 of 3 points") && !strstr(svg, "class=\"centroid\""),
          "all non-finite");
    free(svg);
    float one[2] = {0.25f, -7};
    unsigned char l12 = 12;
    svg = plot_latent_svg(one, &l12, 1, 2, NULL, NULL, &err);
    CHECK(svg && xml_ok(svg) && count_of(svg, "r=\"2\"/>") == 1 && strstr(svg, ">other (n=1)</text>") &&
              strstr(svg, "data-label=\"other\""),
          "one point with label 12");
    if (svg) {
        read_ticks(svg, 'x', &xt);
        read_ticks(svg, 'y', &yt);
        CHECK(xt.n >= 2 && yt.n >= 2, "one point: ticks on both axes");
    }
    free(svg);
    CHECK(plot_latent_svg(z, lab, N, 0, NULL, NULL, &err) == NULL, "k == 0 is an error");
    CHECK_CONTAINS(err.msg, "k=0");
    /* unlabelled data: one grey class */
    svg = plot_latent_svg(z, NULL, N, K, NULL, NULL, &err);
    char key[64];
    snprintf(key, sizeof key, ">unlabelled (n=%d)</text>", N - 2); /* 2 non-finite */
    CHECK(svg && xml_ok(svg) && strstr(svg, key) && count_of(svg, "<g class=\"points\"") == 1 &&
              strstr(svg, "data-label=\"unlabelled\"") && count_of(svg, "class=\"key\"") == 2,
          "labels NULL: one class, unlabelled (n=%d)", N - 2);
    free(svg);
}

/* Label names in the legend ([data] label_names): the SVG's keys and the
 * centroids' titles by name (escaped), labels without a name by number,
 * keys cut to 30 characters, and the legend moved left so that the PNG's
 * longest key ends inside the picture. */
static void check_latent_names(const char *dir)
{
    enum { N = 12 };
    float z[N * 2];
    unsigned char lab[N] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 0};
    for (int i = 0; i < N; i++) z[2 * i] = (float)i, z[2 * i + 1] = (float)(i % 3);
    const char *names[10] = {"T-shirt/top", "A<&>B", "Pullover", "Dress",
                             "0123456789012345678901234567890123456789", "Sandal"};
    PlotNames pn = {6, names};
    Err err = {{0}};
    char *svg = plot_latent_svg(z, lab, N, 2, &pn, "names", &err);
    CHECK(svg && xml_ok(svg), "named legend: well-formed SVG (%s)", err.msg);
    if (!svg) return;
    CHECK_CONTAINS(svg, ">T-shirt/top (n=2)</text>");
    CHECK_CONTAINS(svg, ">A&lt;&amp;&gt;B (n=1)</text>");
    CHECK_CONTAINS(svg, ">012345678901234567890... (n=1)</text>"); /* 30 characters */
    CHECK_CONTAINS(svg, ">6 (n=1)</text>");       /* no name for 6 */
    CHECK_CONTAINS(svg, ">other (n=1)</text>");   /* label 12 */
    CHECK_CONTAINS(svg, "data-label=\"0\"");     /* ids stay numbers */
    CHECK_CONTAINS(svg, "<title>T-shirt/top: centroid (5.5, 1) of 2 points</title>");
    CHECK_CONTAINS(svg, "<title>label 6: centroid");
    /* the legend starts where a 30-character key ends 8 pixels in */
    const char *k = strstr(svg, "<text class=\"key\" x=\"");
    int kx = k ? atoi(k + strlen("<text class=\"key\" x=\"")) : 0;
    CHECK(kx == PLOT_LATENT_WIDTH - 8 - (6 * 30 - 1), "legend keys at x %d", kx);
    free(svg);

    char path[4200];
    snprintf(path, sizeof path, "%s/named.png", dir);
    CHECK(plot_write_latent_png(path, z, lab, N, 2, &pn, "names", &err) == 0, "%s", err.msg);
    unsigned char *px = NULL;
    int w = 0, h = 0, ch = 0;
    CHECK(png_read(path, &px, &w, &h, &ch, &err) == 0 && ch == 3, "%s", err.msg);
    int right_ink = 0, key_ink = 0;
    for (int y = 55; px && y < 300; y++)
        for (int x = kx; x < w; x++) {
            const unsigned char *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            int black = p[0] == 0 && p[1] == 0 && p[2] == 0;
            if (x >= w - 8) right_ink += black;
            else key_ink += black;
        }
    CHECK(key_ink > 500 && right_ink == 0, "PNG legend: %d pixels of text, %d in the right margin",
          key_ink, right_ink);
    free(px);
}

/* The PNG: same layout as the SVG, so the SVG's ticks say where to look. */
static void check_latent_png(const char *dir)
{
    enum { N = 203 };
    float z[N * 2];
    unsigned char lab[N];
    for (int i = 0; i < 200; i++) {
        lab[i] = 0;
        z[2 * i] = (float)(urand() - 0.5);
        z[2 * i + 1] = (float)(urand() - 0.5);
    }
    /* Label 3: two lone points whose centroid (0, 4) is far from both. */
    lab[200] = 3, z[400] = -4, z[401] = 4;
    lab[201] = 3, z[402] = 4, z[403] = 4;
    lab[202] = 0, z[404] = NAN, z[405] = 0;
    Err err = {{0}};
    char path[4200];
    snprintf(path, sizeof path, "%s/latent.png", dir);
    CHECK(plot_write_latent_png(path, z, lab, N, 2, NULL, "PNG test: z (2)", &err) == 0, "%s", err.msg);
    char *svg = plot_latent_svg(z, lab, N, 2, NULL, "PNG test: z (2)", &err);
    unsigned char *px = NULL;
    int w = 0, h = 0, ch = 0;
    CHECK(png_read(path, &px, &w, &h, &ch, &err) == 0, "%s", err.msg);
    CHECK(w == PLOT_LATENT_WIDTH && h == PLOT_LATENT_HEIGHT && ch == 3, "PNG %dx%dx%d", w, h, ch);
    if (!px || !svg || w != PLOT_LATENT_WIDTH || h != PLOT_LATENT_HEIGHT || ch != 3) {
        free(px);
        free(svg);
        return;
    }
#define PIX(x, y) (px + ((size_t)(y) * (size_t)w + (size_t)(x)) * 3)
    static const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    CHECK(memcmp(PIX(0, 0), white, 3) == 0 && memcmp(PIX(w - 1, h - 1), white, 3) == 0,
          "corners are white background");
    TickRead xt, yt;
    read_ticks(svg, 'x', &xt);
    read_ticks(svg, 'y', &yt);
    double ax, bx, ay, by;
    fit_axis(&xt, &ax, &bx);
    fit_axis(&yt, &ay, &by);
    unsigned char c3[3], c0[3];
    plot_class_color(3, c3);
    plot_class_color(0, c0);
    for (int i = 200; i < 202; i++) {
        int x = (int)floor(ax + bx * z[2 * i]), y = (int)floor(ay + by * z[2 * i + 1]);
        CHECK(memcmp(PIX(x, y), c3, 3) == 0, "lone point %d at (%d, %d) is label 3's colour: %02x%02x%02x",
              i, x, y, PIX(x, y)[0], PIX(x, y)[1], PIX(x, y)[2]);
        /* A 2-pixel dot: 4 pixels away in each direction it is gone (the
         * spot may be a grid line, so not necessarily white). */
        CHECK(memcmp(PIX(x + 4, y), c3, 3) != 0 && memcmp(PIX(x - 4, y), c3, 3) != 0 &&
                  memcmp(PIX(x, y + 4), c3, 3) != 0 && memcmp(PIX(x, y - 4), c3, 3) != 0,
              "lone point %d is a small dot", i);
    }
    int mx = (int)floor(ax), my = (int)floor(ay + by * 4);
    CHECK(memcmp(PIX(mx, my), c3, 3) == 0 && memcmp(PIX(mx + 6, my), black, 3) == 0 &&
              memcmp(PIX(mx - 6, my), black, 3) == 0,
          "label 3 centroid at (%d, %d): class colour in a black ring", mx, my);
    double s0x = 0, s0y = 0;
    for (int i = 0; i < 200; i++) s0x += z[2 * i], s0y += z[2 * i + 1];
    int m0x = (int)floor(ax + bx * s0x / 200), m0y = (int)floor(ay + by * s0y / 200);
    CHECK(memcmp(PIX(m0x, m0y), c0, 3) == 0, "label 0 centroid in its colour");
    int title_ink = 0, legend_ink = 0, c3_pixels = 0;
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < w; x++) title_ink += memcmp(PIX(x, y), white, 3) != 0;
    for (int y = 55; y < 120; y++)
        for (int x = 540; x < w; x++) legend_ink += memcmp(PIX(x, y), black, 3) == 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) c3_pixels += memcmp(PIX(x, y), c3, 3) == 0;
    CHECK(title_ink > 100, "title text drawn: %d pixels", title_ink);
    CHECK(legend_ink > 50, "legend text drawn: %d pixels", legend_ink);
    /* Two dots of radius 2 (12 or 13 pixels each), the centroid (r 5) and
     * the legend swatch (r 4): far fewer than a misdrawn area would make. */
    CHECK(c3_pixels > 100 && c3_pixels < 200, "%d pixels of label 3's colour", c3_pixels);
#undef PIX
    free(px);
    free(svg);
}

/* Files: written whole, and errors that name the path. */
static void check_files(const char *dir)
{
    Err err = {{0}};
    char path[4200];
    int epoch[2] = {1, 2};
    double tr[2] = {0.5, 0.25};
    snprintf(path, sizeof path, "%s/loss.svg", dir);
    CHECK(plot_write_loss_svg(path, epoch, tr, tr, 2, &err) == 0, "%s", err.msg);
    char *want = plot_loss_svg(epoch, tr, tr, 2, &err);
    size_t len = 0;
    char *got = util_read_file(path, &len, &err);
    CHECK(want && got && strcmp(want, got) == 0, "loss.svg holds plot_loss_svg's text");
    free(want);
    free(got);

    float z[4] = {0, 1, 2, 3};
    unsigned char lab[2] = {5, 6};
    snprintf(path, sizeof path, "%s/latent.svg", dir);
    CHECK(plot_write_latent_svg(path, z, lab, 2, 2, NULL, "t", &err) == 0, "%s", err.msg);
    want = plot_latent_svg(z, lab, 2, 2, NULL, "t", &err);
    got = util_read_file(path, &len, &err);
    CHECK(want && got && strcmp(want, got) == 0, "latent.svg holds plot_latent_svg's text");
    free(want);
    free(got);

    snprintf(path, sizeof path, "%s/no/such/dir/loss.svg", dir);
    err.msg[0] = '\0';
    CHECK(plot_write_loss_svg(path, epoch, tr, tr, 2, &err) == -1, "loss into a missing folder");
    CHECK_CONTAINS(err.msg, path);
    snprintf(path, sizeof path, "%s/no/such/dir/latent.svg", dir);
    err.msg[0] = '\0';
    CHECK(plot_write_latent_svg(path, z, lab, 2, 2, NULL, "t", &err) == -1, "latent SVG into a missing folder");
    CHECK_CONTAINS(err.msg, path);
    snprintf(path, sizeof path, "%s/no/such/dir/latent.png", dir);
    err.msg[0] = '\0';
    CHECK(plot_write_latent_png(path, z, lab, 2, 2, NULL, "t", &err) == -1, "latent PNG into a missing folder");
    CHECK_CONTAINS(err.msg, path);
    snprintf(path, sizeof path, "%s/bad.png", dir);
    CHECK(plot_write_latent_png(path, z, lab, 2, 0, NULL, "t", &err) == -1 && access(path, F_OK) != 0,
          "bad k: error and no file");
    CHECK_CONTAINS(err.msg, path);
}

/* 10,000 points, the size of an MNIST test set: the SVG stays under 1 MB. */
static void check_big(const char *dir)
{
    enum { N = 10000 };
    float *z = malloc(sizeof(float) * N * 2);
    unsigned char *lab = malloc(N);
    CHECK(z && lab, "malloc");
    if (!z || !lab) {
        free(z);
        free(lab);
        return;
    }
    for (int i = 0; i < N; i++) {
        lab[i] = (unsigned char)(i % 10);
        double r = sqrt(-2 * log(1 - urand())), a = 6.283185307179586 * urand();
        z[2 * i] = (float)(3 * cos(lab[i] * 0.628) + r * cos(a));
        z[2 * i + 1] = (float)(3 * sin(lab[i] * 0.628) + r * sin(a));
    }
    Err err = {{0}};
    char *svg = plot_latent_svg(z, lab, N, 2, NULL, "10k", &err);
    CHECK(svg && xml_ok(svg) && count_of(svg, "r=\"2\"/>") == N, "10k points: %s", err.msg);
    size_t svg_len = svg ? strlen(svg) : 0;
    CHECK(svg_len > 0 && svg_len < 1000000, "10k-point SVG is %zu bytes (< 1 MB)", svg_len);
    char path[4200];
    snprintf(path, sizeof path, "%s/big.png", dir);
    CHECK(plot_write_latent_png(path, z, lab, N, 2, NULL, "10k", &err) == 0, "%s", err.msg);
    struct stat st;
    long png_len = stat(path, &st) == 0 ? (long)st.st_size : -1;
    printf("10,000-point latent plot: SVG %zu bytes, PNG %ld bytes\n", svg_len, png_len);
    free(svg);
    free(z);
    free(lab);
}

int main(void)
{
    char dir[64];
    test_tmpdir(dir, sizeof dir, "plot");
    check_palette_and_ticks();
    check_loss();
    check_latent_svg();
    check_latent_png(dir);
    check_latent_names(dir);
    check_files(dir);
    check_big(dir);
    const char *keep = getenv("CLAE_KEEP_PLOTS");
    if (keep && *keep) {
        printf("pictures kept in %s\n", dir);
    } else {
        CHECK(test_rmdir(dir) == 0, "cleanup");
    }
    return check_done("test_plot");
}
