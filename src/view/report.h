/* report: HTML pages for looking at runs in a browser.
 *
 * Owns: the run page (RUN_DIR/index.html: status, device, final numbers, the
 * loss curve inlined as SVG, the reconstruction grids, the latent plot, the
 * manifold and the resolved config), the results index (ROOT/index.html: one
 * row per subfolder, the hyperparameters that differ between runs, sortable
 * by clicking a header), and what `clae report` does: both for a whole
 * root, bringing ROOT/runs.csv up to date through runs_reindex.
 *
 * Pages are built only from the files in the folders (run.json, config.ini,
 * loss.csv and whichever pictures exist), so they can be written during a run
 * as well as after it; a missing or garbled file leaves its section with a
 * note and never fails the page. Pages are self-contained: inline CSS, inline
 * SVG, relative links only, nothing fetched from elsewhere; the run page needs
 * no JavaScript, the index has one small inline script for sorting. Every
 * piece of text from a file is HTML-escaped, every link percent-encoded.
 * Files are written atomically (temporary name, then rename). */
#ifndef CLAE_REPORT_H
#define CLAE_REPORT_H

#include "util.h"

/* Refresh period of a run page while its run.json says "running", seconds. */
#define REPORT_REFRESH_SECONDS 30

/* Writes run_dir/index.html from the files in run_dir. The page refreshes
 * itself every REPORT_REFRESH_SECONDS while run.json's status is "running".
 * Fails only when run_dir is not a folder or the page cannot be written. */
int report_write_run_page(const char *run_dir, Err *err);

/* Writes root/index.html, one row per subfolder of root (runs_scan): run
 * folders, failed runs and folders that are not runs alike, then replaces
 * root/runs.csv by the rows of every completed run, in folder-name order.
 * A run links to its page (<id>/index.html) when that exists, else to its
 * folder. Fails when root cannot be read or a file cannot be written. */
int report_write_index(const char *root, Err *err);

/* `clae report ROOT`: a page for every run folder (every subfolder of root
 * with a run.json), then the index; prints the count of runs and the index
 * path on stdout, errors on stderr. root (at most 4095 bytes) is used
 * without its trailing slashes. Returns the exit code: 0, 1 when a file
 * cannot be written, 2 for a missing root. */
int report_root(const char *root);

#endif
