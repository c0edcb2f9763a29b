/* kcache: a kernel-cache folder of its own for each clae process.
 *
 * Owns: choosing POCL_CACHE_DIR before the first OpenCL call. PoCL keeps
 * compiled kernels in one cache folder (~/.cache/pocl by default), and
 * processes that build the same program into it at the same moment can
 * break each other's builds (pocl/pocl#430, #1480). So, unless the user set
 * POCL_CACHE_DIR, each clae process takes the lowest free "slot" folder
 * <cache>/clae/pocl/slot-K (cache = $XDG_CACHE_HOME or ~/.cache) by holding
 * an exclusive flock on slot-K.lock for its lifetime. Sequential runs reuse
 * slot 0, whose cache stays warm; N concurrent runs use slots 0..N-1, each
 * compiled once and then warm for the next sweep. Other OpenCL
 * implementations ignore POCL_CACHE_DIR. */
#ifndef CLAE_KCACHE_H
#define CLAE_KCACHE_H

#include "util.h"

typedef struct {
    int fd;              /* the held slot lock, -1 when none */
    int slot;            /* K, or -1 when POCL_CACHE_DIR was the user's or no slot was taken */
    char dir[4096];      /* the POCL_CACHE_DIR in effect ("" if none) */
} KCache;

/* Claims a slot and sets POCL_CACHE_DIR (process environment, before any
 * OpenCL call). When the user set POCL_CACHE_DIR, or no cache folder can be
 * made (no HOME), it changes nothing and returns 0: the cache is then
 * PoCL's default, as without clae. Fails only when all 256 slots are held. */
int kcache_claim(KCache *kc, Err *err);

/* Releases the slot (the folder and its cache stay for the next process). */
void kcache_release(KCache *kc);

#endif
