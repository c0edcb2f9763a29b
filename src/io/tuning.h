/* tuning: the CLBlast tuning file, one per device (or device class) and
 * CLBlast version. Host only; no OpenCL here.
 *
 * Owns: the table of the CLBlast kernels that clae's GEMM uses and their
 * parameter names, reading a tuning file (plain INI) with file:line:key
 * errors, the checks CLBlast's own tuners apply to a parameter set (so that
 * a value CLBlast would reject is refused when the file is read, not when a
 * kernel fails to compile mid-run), writing a file (atomically, with comments
 * the caller supplies), and a stable hash of the parameters.
 *
 * The format:
 *
 *   [device]                 ; whom the file is for
 *   platform = Portable Computing Language
 *   device = pthread-skylake-avx512-AMD EPYC
 *   driver = 3.1+debian
 *   clblast = 1.5.3
 *   class = pocl-cpu-avx512  ; shipped files: a device class instead of
 *                            ; platform/device/driver
 *   [clae]
 *   layout = col             ; how clae hands its row-major products to CLBlast
 *   [Xgemm]                  ; one section per CLBlast kernel, every parameter
 *   GEMMK = 0                ; of it; a kernel without a section keeps
 *   ...                      ; CLBlast's own parameters
 *   [routes]                 ; small products, per shape: which CLBlast routine
 *   NT 256x2x300 = gemv      ; runs them (transposes, then MxNxK of C = op(A) op(B))
 */
#ifndef CLAE_TUNING_H
#define CLAE_TUNING_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define TUNING_MAX_PARAMS 16
#define TUNING_TEXT 256

/* The kernels of CLBlast's GEMM routine (routine "GEMM": its program holds
 * all of them), in the order clae writes them. */
typedef enum {
    TK_GEMM_ROUTINE, /* the direct/indirect switch: XGEMM_MIN_INDIRECT_SIZE */
    TK_XGEMM,        /* the indirect kernel (padded, pre-transposed operands) */
    TK_XGEMM_DIRECT, /* the direct kernel (any size, no helper kernels) */
    TK_COPY,         /* the indirect path's helpers: copy, pad, transpose, */
    TK_PAD,          /* pad-and-transpose of the operands and the result   */
    TK_TRANSPOSE,
    TK_PADTRANSPOSE,
    TK_COUNT
} TuningKernel;

typedef struct {
    const char *name;                      /* CLBlast's kernel name, e.g. "Xgemm" */
    int n_params;
    const char *params[TUNING_MAX_PARAMS]; /* CLBlast's parameter names, sorted as CLBlast does */
} TuningKernelInfo;

/* The table entry of kernel k (0 <= k < TK_COUNT). */
const TuningKernelInfo *tuning_kernel(int k);

/* How clae passes a row-major product C = op(A) op(B) to CLBlast: as
 * row-major, or as the column-major product C^T = op(B)^T op(A)^T with the
 * operands swapped. Same numbers; which one needs fewer of CLBlast's
 * transpose and pad kernels depends on the Xgemm kernel (GEMMK). */
typedef enum { GEMM_ROW_MAJOR, GEMM_COL_MAJOR } GemmLayout;

/* The CLBlast path of one product shape ([routes]): CLBlast's own choice
 * (by GemmRoutine's XGEMM_MIN_INDIRECT_SIZE), its direct GEMM kernel, its
 * indirect one (with the pad and transpose helpers), or one GEMV per row or
 * column of C when M or N is at most TUNING_GEMV_MAX_DIM. */
typedef enum { ROUTE_CLBLAST, ROUTE_DIRECT, ROUTE_INDIRECT, ROUTE_GEMV, ROUTE_COUNT } GemmRoute;

#define TUNING_GEMV_MAX_DIM 2
#define TUNING_MAX_ROUTES 64

typedef struct {
    int ta, tb;        /* op(A), op(B) transposed */
    size_t M, N, K;    /* C (M x N) = op(A) (M x K) op(B) (K x N), row-major */
    GemmRoute route;
} TuningRoute;

/* "clblast", "direct", "indirect", "gemv". */
const char *tuning_route_name(GemmRoute r);

/* 0 when route r can run the product (gemv: M or N at most
 * TUNING_GEMV_MAX_DIM); else -1 and err says why. */
int tuning_route_check(int ta, int tb, size_t M, size_t N, size_t K, GemmRoute r, Err *err);

/* The route [routes] gives the shape, ROUTE_CLBLAST when it has none. */
GemmRoute tuning_route_of(const TuningRoute *routes, int n, int ta, int tb, size_t M, size_t N,
                          size_t K);

typedef struct {
    /* [device]: the device it was measured on (all "" for a class file) */
    char platform[TUNING_TEXT];
    char device[TUNING_TEXT];
    char driver[TUNING_TEXT];
    char clblast[32];          /* CLBlast version, e.g. "1.5.3"; always set */
    char device_class[64];     /* shipped class files: "pocl-cpu-avx2"; else "" */
    GemmLayout layout;         /* [clae] layout; GEMM_ROW_MAJOR when absent */
    int has[TK_COUNT];         /* kernel k has a section (all its parameters) */
    size_t value[TK_COUNT][TUNING_MAX_PARAMS]; /* in tuning_kernel(k)->params order */
    TuningRoute route[TUNING_MAX_ROUTES];      /* [routes], in file order */
    int n_routes;
} Tuning;

/* Zeroes t: no kernel sections, row-major, clblast "". */
void tuning_init(Tuning *t);

/* Parses a tuning file's text (len bytes, need not be NUL-terminated);
 * `name` (the path) starts every error, with the line and the key at fault:
 * an unknown section or parameter (with a suggestion), a parameter set twice
 * or missing from its section, a value that is not a whole number, a
 * parameter set that CLBlast's kernels cannot run (tuning_check), a missing
 * [device] clblast. t is initialised first. */
int tuning_parse(Tuning *t, const char *text, size_t len, const char *name, Err *err);

/* tuning_parse of the file at path (which it names in errors). */
int tuning_read(Tuning *t, const char *path, Err *err);

/* The checks CLBlast's tuners apply to kernel k's parameters v (a value CLBlast
 * rejects): tile sizes multiples of thread counts times vector widths, vector
 * widths 1/2/4/8/16, flags 0/1, ... On failure err names the parameter and
 * the rule, and *param (may be NULL) its index. */
int tuning_check_kernel(int k, const size_t *v, int *param, Err *err);

/* Writes t to path through a temporary file and rename. `comment` (may be
 * NULL) goes first, each of its lines prefixed with "; "; `kernel_comment[k]`
 * (the array and its entries may be NULL) goes above kernel k's section. */
int tuning_write(const Tuning *t, const char *path, const char *comment,
                 const char *const *kernel_comment, Err *err);

/* FNV-1a 64 of the layout, every kernel's parameters and the routes (not of [device] or
 * comments): two files that make CLBlast run the same kernels hash alike. */
uint64_t tuning_hash(const Tuning *t);

/* What one JSON file of CLBlast's tuners gave (clae tune --import). */
typedef struct {
    int kernel;              /* TuningKernel it holds parameters for, -1 when none (another
                                precision, or a kernel clae's GEMM does not use) */
    char device[TUNING_TEXT];/* the "device" it was tuned on ("" when absent) */
    double time;             /* the best result's time (ms), NaN when the file has only
                                "best_parameters" */
} TuningImport;

/* Reads a JSON file written by CLBlast's tuners (clblast_tuner_xgemm and
 * friends: "kernel_family", "precision", "device", "results" with each
 * result's "time" and "parameters", or "best_parameters") and puts the
 * fastest result's parameters into t as the section of the kernel they
 * belong to (recognised by its parameter names); nothing for a precision
 * other than 32. Errors name the file, then "LINE:COL: what" for text that
 * is not JSON or "\"results[2].parameters.KWG\": what" for a member of
 * another type; a file over 8 MiB is refused unread. */
int tuning_import_json(Tuning *t, const char *path, TuningImport *what, Err *err);

#endif
