/* test_plot: the pictures read back and measured against numbers worked out
 * here. An SVG is checked for well-formed tags, then its <text> elements are
 * read: the tick labels with their positions give the data-to-pixel mapping
 * independently of plot.c (a least-squares line through them), and the
 * points, markers and centroids of the PNG (decoded with pngio_read) must
 * show their colours where that mapping puts the data and the class means
 * computed here. Tolerances: 0.5 px for tick spacing measured from the SVG
 * text (written with 2 decimals); exact colours at the centre pixel of a dot
 * of diameter 4 or more (the pixel lies wholly inside it, so anti-aliasing
 * leaves it alone), and 1.5 px of the mapped position where it is probed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plot.h"
#include "pngio.h"

/* ---- reading SVG back ------------------------------------------------------ */

static int xml_ok(const char *s)
{
    const char *stack[64];
    size_t stack_len[64];
    int depth = 0, roots = 0;
    if (strncmp(s, "<?xml ", 6) == 0) { /* a file's prolog */
        const char *end = strstr(s, "?>");
        if (!end) return fprintf(stderr, "unterminated prolog\n"), 0;
        s = end + 2;
    }
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

/* The <text class="cls"> elements of svg: their x, y and content (entities
 * left as they are). Returns how many, at most max. */
typedef struct {
    double x, y;
    char s[128];
} Text;

static int read_texts(const char *svg, const char *cls, Text *t, int max)
{
    char open[64];
    snprintf(open, sizeof open, "<text class=\"%s\" ", cls);
    int n = 0;
    for (const char *p = svg; (p = strstr(p, open)) && n < max; p++) {
        const char *gt = strchr(p, '>'), *end = gt ? strstr(gt, "</text>") : NULL;
        const char *x = strstr(p, " x=\""), *y = strstr(p, " y=\"");
        if (!gt || !end || !x || !y || x > gt || y > gt) break;
        t[n].x = atof(x + 4);
        t[n].y = atof(y + 4);
        size_t len = (size_t)(end - gt - 1);
        if (len >= sizeof t[n].s) len = sizeof t[n].s - 1;
        memcpy(t[n].s, gt + 1, len);
        t[n].s[len] = '\0';
        n++;
    }
    return n;
}

static int find_text(const Text *t, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(t[i].s, s) == 0) return i;
    return -1;
}

/* Least squares pos = a + b * v over n (v, pos) pairs. */
static void fit(const double *v, const double *pos, int n, double *a, double *b)
{
    double sv = 0, sp = 0, svv = 0, svp = 0;
    for (int i = 0; i < n; i++) {
        sv += v[i];
        sp += pos[i];
        svv += v[i] * v[i];
        svp += v[i] * pos[i];
    }
    *b = (n * svp - sv * sp) / (n * svv - sv * sv);
    *a = (sp - *b * sv) / n;
}

/* The axis mapping from tick labels: x ticks by their x, y ticks by their
 * y (the label's baseline sits 4 px below its tick); log: labels are
 * log10'd. Returns the largest residual in pixels (the ticks' spacing
 * error); a, b as fit. */
static double tick_map(const Text *t, int n, int is_y, int log, double *a, double *b)
{
    double v[64], pos[64];
    int m = 0;
    for (int i = 0; i < n && m < 64; i++) {
        double val = atof(t[i].s);
        if (log && !(val > 0)) continue;
        v[m] = log ? log10(val) : val;
        pos[m++] = is_y ? t[i].y - 4 : t[i].x;
    }
    if (m < 2) return INFINITY;
    fit(v, pos, m, a, b);
    double worst = 0;
    for (int i = 0; i < m; i++) worst = fmax(worst, fabs(*a + *b * v[i] - pos[i]));
    return worst;
}

typedef struct {
    unsigned char *px;
    int w, h, ch;
} Png;

static int png_load(const char *path, Png *p)
{
    Err err = {{0}};
    int rc = pngio_read(path, &p->px, &p->w, &p->h, &p->ch, &err);
    CHECK(rc == 0 && p->ch == 3, "%s: %s", path, err.msg);
    return rc == 0 && p->ch == 3 ? 0 : -1;
}

static const unsigned char *pixel(const Png *p, double x, double y)
{
    int i = (int)floor(x), j = (int)floor(y);
    static const unsigned char none[3] = {1, 2, 3};
    if (i < 0 || j < 0 || i >= p->w || j >= p->h) return none;
    return p->px + ((size_t)j * (size_t)p->w + (size_t)i) * 3;
}

/* 1 if the pixel at (x, y), or one within 1 px of it, has exactly colour rgb. */
static int colour_near(const Png *p, double x, double y, const unsigned char rgb[3])
{
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if (memcmp(pixel(p, x + dx, y + dy), rgb, 3) == 0) return 1;
    return 0;
}

static char *render_svg_file(const char *dir, const char *name, const PlotLoss *loss,
                             const PlotLatent *lat)
{
    char path[4200];
    Err err = {{0}};
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    int rc = loss ? plot_write_loss(path, PLOT_SVG, loss, &err) : plot_write_latent(path, PLOT_SVG, lat, &err);
    CHECK(rc == 0, "%s: %s", path, err.msg);
    size_t len = 0;
    char *svg = rc == 0 ? test_slurp(path, &len) : NULL;
    CHECK(svg && xml_ok(svg), "%s is well-formed XML", path);
    return svg;
}

static int render_png_file(const char *dir, const char *name, const PlotLoss *loss,
                           const PlotLatent *lat, Png *png)
{
    char path[4200];
    Err err = {{0}};
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    int rc = loss ? plot_write_loss(path, PLOT_PNG, loss, &err) : plot_write_latent(path, PLOT_PNG, lat, &err);
    CHECK(rc == 0, "%s: %s", path, err.msg);
    memset(png, 0, sizeof *png);
    return rc == 0 ? png_load(path, png) : -1;
}

/* ---- loss plot ----------------------------------------------------------- */

static void check_loss(const char *dir)
{
    unsigned char train_c[3], test_c[3];
    plot_class_color(0, train_c);
    plot_class_color(1, test_c);

    /* Three decades: a log axis, decades equally apart, epochs equally apart,
     * the markers in the PNG where the ticks' mapping puts the values. */
    int epoch[3] = {1, 2, 3};
    double train[3] = {1, 0.1, 0.01}, test[3] = {2, 0.2, 0.02};
    PlotLoss L = {.n = 3, .epoch = epoch, .train = train, .test = test};
    char *svg = render_svg_file(dir, "loss", &L, NULL);
    Png png;
    if (svg && render_png_file(dir, "loss", &L, NULL, &png) == 0) {
        CHECK(png.w == PLOT_LOSS_WIDTH && png.h == PLOT_LOSS_HEIGHT, "loss PNG %dx%d", png.w, png.h);
        Text xt[32], yt[32];
        int nx = read_texts(svg, "xtick", xt, 32), ny = read_texts(svg, "ytick", yt, 32);
        CHECK(nx == 3 && find_text(xt, nx, "1") >= 0 && find_text(xt, nx, "3") >= 0, "epoch ticks 1..3 (%d)", nx);
        CHECK(find_text(yt, ny, "1") >= 0 && find_text(yt, ny, "0.1") >= 0 && find_text(yt, ny, "0.01") >= 0,
              "decade ticks 1, 0.1, 0.01");
        double ax, bx, ay, by;
        double rx = tick_map(xt, nx, 0, 0, &ax, &bx), ry = tick_map(yt, ny, 1, 1, &ay, &by);
        CHECK(rx < 0.5 && bx > 20, "epochs evenly apart (residual %.2f px, %.1f px an epoch)", rx, bx);
        CHECK(ry < 0.5 && by < -20, "decades evenly apart on the log axis (residual %.2f px)", ry);
        int hits = 0;
        for (int i = 0; i < 3; i++) {
            hits += colour_near(&png, ax + bx * epoch[i], ay + by * log10(train[i]), train_c);
            hits += colour_near(&png, ax + bx * epoch[i], ay + by * log10(test[i]), test_c);
        }
        CHECK(hits == 6, "%d of 6 markers in their colour at the mapped values", hits);
        Text t[4];
        CHECK(read_texts(svg, "ylabel", t, 4) == 1 && strcmp(t[0].s, "loss (log scale)") == 0,
              "y title says log scale");
        CHECK(read_texts(svg, "xlabel", t, 4) == 1 && strcmp(t[0].s, "epoch") == 0, "x title epoch");
        CHECK(read_texts(svg, "legend", t, 4) == 2, "legend: train and test");
        CHECK(read_texts(svg, "title", t, 4) == 1 && strcmp(t[0].s, "Loss per epoch") == 0, "title");
        free(png.px);
    }
    free(svg);

    /* A flat curve: a linear axis with plain labels; a marker on each value. */
    double flat_tr[4] = {0.05, 0.045, 0.042, 0.04}, flat_te[4] = {0.052, 0.047, 0.044, 0.043};
    PlotLoss F = {.n = 4, .train = flat_tr, .test = flat_te};
    svg = render_svg_file(dir, "flat", &F, NULL);
    if (svg && render_png_file(dir, "flat", &F, NULL, &png) == 0) {
        Text xt[32], yt[32], t[4];
        int nx = read_texts(svg, "xtick", xt, 32), ny = read_texts(svg, "ytick", yt, 32);
        double ax, bx, ay, by;
        CHECK(tick_map(xt, nx, 0, 0, &ax, &bx) < 0.5 && tick_map(yt, ny, 1, 0, &ay, &by) < 0.5 && ny >= 2,
              "linear ticks evenly apart (%d y labels)", ny);
        CHECK(read_texts(svg, "ylabel", t, 4) == 1 && strcmp(t[0].s, "loss") == 0, "linear: y title 'loss'");
        int hits = 0;
        for (int i = 0; i < 4; i++) hits += colour_near(&png, ax + bx * (i + 1), ay + by * flat_tr[i], train_c);
        CHECK(hits == 4, "%d of 4 train markers on the linear mapping", hits);
        free(png.px);
    }
    free(svg);

    /* Bad values leave gaps and a note; nothing says nan. */
    double bad_tr[6] = {0.5, NAN, 0.3, 0.2, INFINITY, 0.1}, bad_te[6] = {0.6, 0.5, NAN, 0.3, 0.2, 0.1};
    PlotLoss B = {.n = 6, .train = bad_tr, .test = bad_te};
    svg = render_svg_file(dir, "bad", &B, NULL);
    if (svg) {
        Text t[4];
        CHECK(read_texts(svg, "note", t, 4) == 1 && strcmp(t[0].s, "3 loss values not finite, not shown") == 0,
              "note on 3 bad values");
        CHECK(!strstr(svg, "nan") && !strstr(svg, "inf") && !strstr(svg, "NAN"), "no nan/inf in the SVG");
    }
    free(svg);

    /* A VAE: a second panel for the KL term, twice the axes. */
    double kl_tr[3] = {5, 8, 9}, kl_te[3] = {5.5, 8.2, 9.1};
    PlotLoss V = {.n = 3, .epoch = epoch, .train = train, .test = test, .train_kl = kl_tr, .test_kl = kl_te};
    svg = render_svg_file(dir, "vae", &V, NULL);
    if (svg && render_png_file(dir, "vae", &V, NULL, &png) == 0) {
        CHECK(png.w == PLOT_LOSS_WIDTH && png.h == PLOT_LOSS_HEIGHT_KL, "VAE loss PNG %dx%d", png.w, png.h);
        Text t[8], yt[64];
        int nt = read_texts(svg, "title", t, 8);
        CHECK(nt == 2 && strcmp(t[1].s, "KL term per epoch") == 0, "KL panel title");
        CHECK(read_texts(svg, "xlabel", t, 8) == 2, "two epoch axes");
        /* the KL panel's y ticks lie below 400 px; map them and find its markers */
        int ny = read_texts(svg, "ytick", yt, 64), m = 0;
        Text kt[32];
        for (int i = 0; i < ny; i++)
            if (yt[i].y > 380 && m < 32) kt[m++] = yt[i];
        double ay, by, ax, bx;
        Text xt[64], kx[32];
        int nx = read_texts(svg, "xtick", xt, 64), mx = 0;
        for (int i = 0; i < nx; i++)
            if (xt[i].y > 380 && mx < 32) kx[mx++] = xt[i];
        CHECK(m >= 2 && tick_map(kt, m, 1, 0, &ay, &by) < 0.5 && tick_map(kx, mx, 0, 0, &ax, &bx) < 0.5,
              "KL panel ticks (%d y, %d x)", m, mx);
        int hits = 0;
        for (int i = 0; i < 3; i++) hits += colour_near(&png, ax + bx * epoch[i], ay + by * kl_tr[i], train_c);
        CHECK(hits == 3, "%d of 3 KL markers at their values", hits);
        free(png.px);
    }
    free(svg);
    /* An autoencoder's KL columns are NaN: no second panel. */
    double nan3[3] = {NAN, NAN, NAN};
    PlotLoss A = {.n = 3, .epoch = epoch, .train = train, .test = test, .train_kl = nan3, .test_kl = nan3};
    Err err = {{0}};
    char *inl = plot_loss_svg(&A, &err);
    CHECK(inl && !strstr(inl, "KL term") && strstr(inl, "height=\"400px\""), "NaN KL: one panel");
    CHECK(inl && strncmp(inl, "<svg", 4) == 0 && !strstr(inl, " id=\""), "inline SVG: no prolog, no ids");
    free(inl);

    PlotLoss E = {.n = 0};
    inl = plot_loss_svg(&E, &err);
    CHECK(inl && xml_ok(inl) && strstr(inl, ">no epochs yet</text>"), "no epochs: empty axes and a note");
    free(inl);
    PlotLoss N = {.n = -1};
    CHECK(plot_loss_svg(&N, &err) == NULL && strstr(err.msg, "-1 epochs"), "n < 0 is an error");
}

/* ---- latent scatter ---------------------------------------------------------- */

static uint64_t rng_state = 42;
static double urand(void) /* uniform in [0, 1), the test's own generator */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void check_latent(const char *dir)
{
    /* Four labels, each a 5x5 lattice of points 1 unit apart (apart enough
     * that no two dots touch), two points with a non-finite coordinate. */
    enum { N = 4 * 25 + 2 };
    static const int labels[4] = {1, 3, 5, 12};
    float z[N * 2];
    unsigned char lab[N];
    double sx[4] = {0}, sy[4] = {0};
    for (int i = 0; i < 100; i++) {
        int c = i % 4, j = i / 4;
        lab[i] = (unsigned char)labels[c];
        z[2 * i] = (float)(c * 6 + j % 5 + 0.25 * urand());
        z[2 * i + 1] = (float)((c % 2) * 3 + j / 5 * 1.0 - 4 + 0.25 * urand());
        sx[c] += z[2 * i];
        sy[c] += z[2 * i + 1];
    }
    lab[100] = 1, z[200] = NAN, z[201] = 0;
    lab[101] = 3, z[202] = 0, z[203] = INFINITY;
    PlotLatent P = {.n = N, .k = 2, .z = z, .labels = lab, .title = "test & <run>"};
    char *svg = render_svg_file(dir, "latent", NULL, &P);
    Png png;
    if (svg && render_png_file(dir, "latent", NULL, &P, &png) == 0) {
        CHECK(png.w == PLOT_LATENT_WIDTH && png.h == PLOT_LATENT_HEIGHT, "latent PNG %dx%d", png.w, png.h);
        Text xt[32], yt[32], t[16];
        int nx = read_texts(svg, "xtick", xt, 32), ny = read_texts(svg, "ytick", yt, 32);
        CHECK(nx >= 2 && nx <= 8 && ny >= 2 && ny <= 8, "%d x and %d y labels (2..8)", nx, ny);
        double ax, bx, ay, by;
        CHECK(tick_map(xt, nx, 0, 0, &ax, &bx) < 0.5 && tick_map(yt, ny, 1, 0, &ay, &by) < 0.5,
              "ticks evenly apart");
        CHECK(bx > 0 && by < 0, "z1 grows to the right, z2 upwards");
        double step = atof(xt[1].s) - atof(xt[0].s), e = floor(log10(step)), m = step / pow(10, e);
        CHECK(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6, "x tick step %g is 1-2-5", step);
        unsigned char other[3], col[3];
        plot_class_color(10, other);
        int off = 0;
        for (int i = 0; i < 100; i++) {
            int c = i % 4;
            plot_class_color(labels[c], col);
            double px = ax + bx * z[2 * i], py = ay + by * z[2 * i + 1];
            double cx = ax + bx * sx[c] / 25, cy = ay + by * sy[c] / 25;
            if (hypot(px - cx, py - cy) < 10) continue; /* under the centroid's disc */
            if (memcmp(pixel(&png, px, py), col, 3) != 0) off++;
        }
        CHECK(off == 0, "%d points without their class colour at their mapped pixel", off);
        plot_class_color(12, col);
        CHECK(memcmp(col, other, 3) == 0, "label 12 is drawn as 'other'");
        int ring = 0, fill = 0;
        for (int c = 0; c < 4; c++) {
            plot_class_color(labels[c], col);
            double cx = ax + bx * sx[c] / 25, cy = ay + by * sy[c] / 25;
            fill += memcmp(pixel(&png, cx, cy), col, 3) == 0;
            const unsigned char *r = pixel(&png, cx + 6, cy);
            ring += r[0] < 40 && r[1] < 40 && r[2] < 40;
        }
        CHECK(fill == 4 && ring == 4, "centroids at the class means: %d filled, %d black rings", fill, ring);
        int nk = read_texts(svg, "key", t, 16);
        CHECK(nk == 5 && strcmp(t[0].s, "1 (n=25)") == 0 && strcmp(t[3].s, "other (n=25)") == 0 &&
                  strcmp(t[4].s, "centroid") == 0,
              "legend: 4 classes by number with counts, then centroid (%d keys)", nk);
        CHECK(read_texts(svg, "title", t, 16) == 1 && strcmp(t[0].s, "test &amp; &lt;run&gt;") == 0,
              "title escaped: %s", t[0].s);
        CHECK(read_texts(svg, "note", t, 16) == 1 &&
                  strcmp(t[0].s, "2 of 102 points have a non-finite coordinate, not shown") == 0,
              "note on the 2 skipped points");
        CHECK(read_texts(svg, "xlabel", t, 16) == 1 && strcmp(t[0].s, "z1") == 0 &&
                  read_texts(svg, "ylabel", t, 16) == 1 && strcmp(t[0].s, "z2") == 0,
              "axis titles z1 and z2 as text");
        free(png.px);
    }
    free(svg);

    /* Same inputs, same bytes. */
    char a[4200], b[4200];
    Err err = {{0}};
    for (int f = 0; f < 2; f++) {
        snprintf(a, sizeof a, "%s/again-a.%s", dir, f ? "svg" : "png");
        snprintf(b, sizeof b, "%s/again-b.%s", dir, f ? "svg" : "png");
        CHECK(plot_write_latent(a, f ? PLOT_SVG : PLOT_PNG, &P, &err) == 0 &&
                  plot_write_latent(b, f ? PLOT_SVG : PLOT_PNG, &P, &err) == 0, "%s", err.msg);
        size_t la = 0, lb = 0;
        char *da = test_slurp(a, &la), *db = test_slurp(b, &lb);
        CHECK(da && db && la == lb && memcmp(da, db, la) == 0, "%s: the same bytes twice", f ? "SVG" : "PNG");
        free(da);
        free(db);
    }
    snprintf(a, sizeof a, "%s/latent.pdf", dir);
    CHECK(plot_write_latent(a, PLOT_PDF, &P, &err) == 0, "PDF: %s", err.msg);
    size_t len = 0;
    char *pdf = test_slurp(a, &len);
    CHECK(pdf && len > 1000 && memcmp(pdf, "%PDF-", 5) == 0, "a PDF file (%zu bytes)", len);
    free(pdf);

    /* k == 1 and k == 3: the title says which coordinates. */
    PlotLatent K1 = {.n = 100, .k = 1, .z = z, .labels = lab};
    char *s1 = plot_latent_svg(&K1, &err);
    CHECK(s1 && strstr(s1, ">latent space (z1 against point index)</text>") && strstr(s1, ">index</text>"),
          "k == 1: title and y axis");
    free(s1);
    PlotLatent K3 = {.n = 33, .k = 3, .z = z, .labels = lab, .title = "t"};
    s1 = plot_latent_svg(&K3, &err);
    CHECK(s1 && strstr(s1, ">t (z1, z2 of 3)</text>"), "k == 3: title");
    free(s1);
    PlotLatent U = {.n = 50, .k = 2, .z = z};
    s1 = plot_latent_svg(&U, &err);
    CHECK(s1 && strstr(s1, ">unlabelled (n=50)</text>"), "unlabelled: one class");
    free(s1);
    PlotLatent Z = {.n = 0, .k = 2};
    s1 = plot_latent_svg(&Z, &err);
    CHECK(s1 && xml_ok(s1) && strstr(s1, ">no points</text>"), "no points: a note");
    free(s1);
    PlotLatent bad = {.n = 2, .k = 0, .z = z};
    snprintf(a, sizeof a, "%s/bad.png", dir);
    CHECK(plot_write_latent(a, PLOT_PNG, &bad, &err) == -1 && access(a, F_OK) != 0 && strstr(err.msg, a),
          "bad k: error naming the file, and no file");
    snprintf(a, sizeof a, "%s/no/such/dir/latent.svg", dir);
    CHECK(plot_write_latent(a, PLOT_SVG, &P, &err) == -1 && strstr(err.msg, a), "into a missing folder");
}

/* Names in the legend: escaped, cut to 30 characters, bad UTF-8 shown as
 * '?', numbers for labels without a name, and a legend of long keys moved
 * left so that it ends inside the picture. */
static void check_latent_names(const char *dir)
{
    float z[8] = {0, 0, 1, 1, 2, 0, 3, 1};
    unsigned char lab[4] = {0, 1, 2, 3};
    const char *name[3] = {"T-shirt/top <&>", "a name far longer than thirty characters", "bad \xff\xfe utf8"};
    PlotNames names = {3, name};
    PlotLatent P = {.n = 4, .k = 2, .z = z, .labels = lab, .names = &names};
    char *svg = render_svg_file(dir, "names", NULL, &P);
    Png png;
    if (svg && render_png_file(dir, "names", NULL, &P, &png) == 0) {
        Text t[8];
        int n = read_texts(svg, "key", t, 8);
        CHECK(n == 5, "%d keys", n);
        if (n == 5) {
            CHECK(strcmp(t[0].s, "T-shirt/top &lt;&amp;&gt; (n=1)") == 0, "escaped: %s", t[0].s);
            CHECK(strcmp(t[1].s, "a name far longer tha... (n=1)") == 0 && strlen("a name far longer tha... (n=1)") == 30,
                  "cut to 30: %s", t[1].s);
            CHECK(strcmp(t[2].s, "bad ?? utf8 (n=1)") == 0, "bad UTF-8 as '?': %s", t[2].s);
            CHECK(strcmp(t[3].s, "3 (n=1)") == 0, "unnamed label by number: %s", t[3].s);
            CHECK(t[1].x < 524, "legend moved left for long keys (x = %.1f)", t[1].x);
        }
        /* nothing but white in the last 4 columns: the keys end inside */
        int ink = 0;
        for (int y = 0; y < png.h; y++)
            for (int x = png.w - 4; x < png.w; x++) ink += memcmp(pixel(&png, x, y), "\xff\xff\xff", 3) != 0;
        CHECK(ink == 0, "%d non-white pixels at the right edge", ink);
        free(png.px);
    }
    free(svg);
}

/* 10,000 points, the size of an MNIST test set: the SVG stays under 400 kB. */
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
    PlotLatent P = {.n = N, .k = 2, .z = z, .labels = lab, .title = "10k"};
    char *svg = plot_latent_svg(&P, &err);
    CHECK(svg && xml_ok(svg), "10k points: %s", err.msg);
    size_t svg_len = svg ? strlen(svg) : 0;
    CHECK(svg_len > 0 && svg_len < 400000, "10k-point SVG is %zu bytes (< 400 kB)", svg_len);
    char path[4200];
    snprintf(path, sizeof path, "%s/big.png", dir);
    CHECK(plot_write_latent(path, PLOT_PNG, &P, &err) == 0, "%s", err.msg);
    struct stat st;
    long png_len = stat(path, &st) == 0 ? (long)st.st_size : -1;
    printf("10,000-point latent plot: SVG %zu bytes, PNG %ld bytes\n", svg_len, png_len);
    free(svg);
    free(z);
    free(lab);
}

static void check_formats(void)
{
    PlotFormat f;
    Err err = {{0}};
    CHECK(plot_format_of("a/b.PNG", &f, &err) == 0 && f == PLOT_PNG, "PNG");
    CHECK(plot_format_of("b.svg", &f, &err) == 0 && f == PLOT_SVG, "SVG");
    CHECK(plot_format_of("b.pdf", &f, &err) == 0 && f == PLOT_PDF, "PDF");
    CHECK(plot_format_of("b.jpg", &f, &err) == -1 && strstr(err.msg, "b.jpg") && strstr(err.msg, ".pdf"),
          "jpg refused: %s", err.msg);
    CHECK(plot_format_of("dir.svg/b", &f, &err) == -1, "no extension refused");
}

int main(void)
{
    char dir[64];
    test_tmpdir(dir, sizeof dir, "plot");
    check_palette_and_ticks();
    check_formats();
    check_loss(dir);
    check_latent(dir);
    check_latent_names(dir);
    check_big(dir);
    const char *keep = getenv("CLAE_KEEP_PLOTS");
    if (keep && *keep) {
        printf("pictures kept in %s\n", dir);
    } else {
        CHECK(test_rmdir(dir) == 0, "cleanup");
    }
    return check_done("test_plot");
}
