#!/usr/bin/env bash
# report: `clae report` on a real results root (two tiny MNIST runs with
# different learning rates, and a folder that is not a run), then the pages
# in headless Chromium, the way a user looks at them.
#
# The browser checks, per page (each run page and the index):
#  1. console: Chromium loads the page (--enable-logging=stderr) and every
#     console message of any page, an uncaught exception included, appears on
#     stderr as an "INFO:CONSOLE" line. Our pages log nothing, so any such
#     line fails the test.
#  2. pictures: Chromium logs nothing for an <img> whose file is missing, so a
#     small harness page (written below) loads the page in an iframe, waits
#     for every <img> to load or fail, and writes "broken N SRC..." into its
#     own DOM, which --dump-dom prints. A missing or undecodable image is
#     broken. The harness reads the frame's document, which Chromium allows
#     between file:// pages only with --allow-file-access-from-files.
#  3. every src= and href= in the file, percent-decoded, names a file or
#     folder that exists on disk (links the harness cannot follow).
#  4. the index: its DOM, dumped after the scripts ran, has one row per
#     subfolder; the harness clicks the "test loss" header twice and reports
#     the row order after each click.
# A deliberately broken page (a script error and a missing image) must fail
# checks 1, 2 and 3, which proves the checks can fail.
#
# Exit 77 (SKIP in CTest) when no chromium binary is installed, after the
# checks that need no browser; a chromium that is there but does not run
# fails. CHROMIUM=/path/to/binary picks another browser binary.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start report "$1"
finish() {
    echo "report: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

need_mnist

# --- two real runs and a folder that is not a run ------------------------------------
R="$work/results"
for lr in 1e-3 1e-2; do
    cat > "lr$lr.ini" <<EOF
[data]
dir = $mnist
digits = 1,5,6
train_limit = 500
[model]
encoder = 64
[train]
epochs = 2
learning_rate = $lr
[output]
root = $R
name = lr$lr
EOF
    "$clae" train "lr$lr.ini" --quiet > "train-$lr.txt" 2>&1 && ok \
        || bad "clae train lr$lr.ini: $(cat "train-$lr.txt")"
done
mkdir -p "$R/notes & <drafts>"
echo "not a run" > "$R/notes & <drafts>/todo.txt"
runs=("$R"/2*/)
[ "${#runs[@]}" -eq 2 ] && ok || bad "${#runs[@]} run folders, want 2"

# --- clae report ----------------------------------------------------------------------
out="$("$clae" report "$R" 2>err.txt)"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "clae report -> exit $rc ($(cat err.txt))"
[ "$out" = "3 runs (2 completed, 1 not a run); wrote $R/index.html" ] && ok || bad "message: '$out'"
[ ! -s err.txt ] && ok || bad "clae report wrote to stderr: $(cat err.txt)"
for d in "${runs[@]}"; do
    [ -f "$d/index.html" ] && ok || bad "no page in $d"
    grep -q '<script' "$d/index.html" && bad "$d/index.html has a script" || ok
    grep -q 'http-equiv="refresh"' "$d/index.html" && bad "$d/index.html refreshes after the run" || ok
done
[ ! -e "$R/notes & <drafts>/index.html" ] && ok || bad "a page written into the folder that is not a run"
head -n1 "$R/runs.csv" | grep -qx 'run,name,status,start_time,end_time,epochs_completed,epochs,final_train_loss,final_test_loss,images_per_second,seconds,device,sweep,sweep_index,overrides' \
    && ok || bad "runs.csv header: $(head -n1 "$R/runs.csv")"
[ "$(tail -n +2 "$R/runs.csv" | cut -d, -f1 | tr '\n' ' ')" = "$(basename "${runs[0]}") $(basename "${runs[1]}") " ] \
    && ok || bad "runs.csv rows: $(cat "$R/runs.csv")"
# the hyperparameter that differs is a column, one that does not is not
grep -q 'data-col="train.learning_rate"' "$R/index.html" && ok || bad "no learning_rate column"
grep -q 'data-col="train.epochs"' "$R/index.html" && bad "train.epochs shown though equal" || ok
# a second report: the run pages now link back to the index
"$clae" report "$R" > /dev/null && grep -q 'href="../index.html"' "${runs[0]}/index.html" && ok \
    || bad "run page does not link to ../index.html"
# usage
"$clae" report --help | grep -q "usage: clae report \[ROOT\]" && ok || bad "report --help"
"$clae" --help | grep -q "report \[ROOT\]" && ok || bad "clae --help lists report"
err="$("$clae" report "$work/nowhere" 2>&1)"; rc=$?
[ "$rc" -eq 2 ] && grep -qF "$work/nowhere" <<<"$err" && ok || bad "missing ROOT -> $rc '$err'"
mkdir elsewhere
err="$(cd elsewhere && "$clae" report 2>&1)"; rc=$?
[ "$rc" -eq 2 ] && grep -qF "results: No such file" <<<"$err" && ok || bad "default ROOT -> $rc '$err'"
out="$("$clae" report results)" && [ "$out" = "3 runs (2 completed, 1 not a run); wrote results/index.html" ] \
    && ok || bad "relative ROOT: '$out'"
err="$("$clae" report "$R" --bogus 2>&1)"; rc=$?
[ "$rc" -eq 2 ] && grep -qF "unknown option '--bogus'" <<<"$err" && ok || bad "--bogus -> $rc '$err'"
chmod 555 "$R"
if [ ! -w "$R" ]; then # root ignores the mode: then there is nothing to test
    err="$("$clae" report "$R" 2>&1)"; rc=$?
    [ "$rc" -eq 1 ] && ok || bad "unwritable ROOT -> $rc '$err'"
fi
chmod 755 "$R"

# --- headless Chromium ------------------------------------------------------------------
chromium="${CHROMIUM:-}"
if [ -z "$chromium" ]; then
    for c in chromium chromium-browser google-chrome; do
        if command -v "$c" > /dev/null; then chromium="$(command -v "$c")"; break; fi
    done
fi
if [ -z "$chromium" ]; then
    echo "report: $passed passed, $failed failed before the browser checks"
    [ "$failed" -eq 0 ] || exit 1
    echo "SKIP: no chromium binary on PATH (Debian: apt-get install chromium; or set CHROMIUM);"
    echo "SKIP: the pages were not loaded in a browser"
    exit 77
fi

cat > harness.html <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>clae report check</title></head>
<body><pre id="out">pending</pre>
<iframe id="frame" style="width:1200px;height:900px"></iframe>
<script>
// Loads ?page=URL in the frame; writes into #out how many images it has,
// which did not load, and, with &sort=COL, the row order of the #runs table
// after clicking that column's header once and twice; "done" last.
var out = document.getElementById('out'), frame = document.getElementById('frame');
var query = new URLSearchParams(location.search);
function say(s) { out.textContent = s; }
function order(d) {
  return Array.prototype.map.call(d.querySelectorAll('#runs tbody tr'), function (r) {
    return r.cells[0].getAttribute('data-v');
  }).join('|');
}
frame.onload = function () {
  var d = null;
  try { d = frame.contentDocument; } catch (e) { say('error: ' + e); return; }
  if (!d || !d.body || !d.body.children.length) { say('error: the frame is not readable'); return; }
  var imgs = Array.prototype.slice.call(d.images);
  Promise.all(imgs.map(function (im) {
    im.loading = 'eager'; // lazy ones below the fold would never load
    return new Promise(function (done) {
      if (im.complete) return done();
      im.addEventListener('load', done);
      im.addEventListener('error', done);
    });
  })).then(function () {
    var broken = imgs.filter(function (im) { return !(im.complete && im.naturalWidth > 0); });
    var svgs = Array.prototype.filter.call(d.querySelectorAll('svg'), function (s) {
      return s instanceof frame.contentWindow.SVGSVGElement && s.getBoundingClientRect().width > 0;
    });
    var lines = ['images ' + imgs.length, 'svgs ' + svgs.length,
                 'broken ' + broken.length + broken.map(function (im) {
                   return ' ' + im.getAttribute('src'); }).join('')];
    var col = query.get('sort');
    if (col) {
      var th = d.querySelector('th[data-col="' + col + '"]');
      if (!th) lines.push('error: no column ' + col);
      else {
        th.click(); lines.push('asc ' + order(d));
        th.click(); lines.push('desc ' + order(d));
      }
    }
    lines.push('done');
    say(lines.join('\n'));
  });
};
frame.src = query.get('page');
</script></body></html>
EOF

# urlencode S: S as one query-string value
urlencode() {
    local s="$1" i c
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        case "$c" in [A-Za-z0-9/._~-]) printf '%s' "$c" ;; *) printf '%%%02X' "'$c" ;; esac
    done
}

# browse OUT URL [FLAGS...]: Chromium's DOM of URL (after its scripts ran) in
# OUT.dom, its log in OUT.log; fails when Chromium does not run.
browse() {
    local out="$1" url="$2"; shift 2
    timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
        --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
        --virtual-time-budget=5000 "$@" --dump-dom "$url" > "$out.dom" 2> "$out.log"
    local rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q '</html>' "$out.dom"; then
        echo "chromium failed on $url (exit $rc):"; tail -n 20 "$out.log"
        return 1
    fi
}

# console OUT: the console lines of a browse (none expected)
console() { grep -E ':CONSOLE(\(|:|\])' "$1.log"; }

# check_harness OUT PAGE_FILE [SORT_COLUMN]: harness output in OUT.result
check_harness() {
    local out="$1" page="$2" sort="${3:-}" q
    q="page=$(urlencode "file://$page")"
    [ -n "$sort" ] && q="$q&sort=$sort"
    browse "$out" "file://$work/harness.html?$q" --allow-file-access-from-files || return 1
    sed -n '/<pre id="out">/,/<\/pre>/p' "$out.dom" | sed -e 's/.*<pre id="out">//' -e 's/<\/pre>.*//' \
        -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g' > "$out.result"
}

# links FILE: every src/href target of FILE that is not there, one a line
missing_links() {
    local file="$1" dir t path
    dir="$(dirname "$file")"
    grep -oE '(src|href)="[^"]*"' "$file" | sed -E 's/^(src|href)="//; s/"$//' | while IFS= read -r t; do
        case "$t" in *:*|/*) echo "$t (not relative)"; continue ;; esac
        path="$(printf '%b' "${t//%/\\x}")"
        [ -e "$dir/$path" ] || echo "$t"
    done
}

# page_ok NAME FILE [SORT_COLUMN]: all four checks on one page; returns 0 when
# it passes them, printing what failed otherwise.
page_ok() {
    local name="$1" file="$2" sort="${3:-}" res=0 lines miss
    browse "$name" "file://$file" || return 1
    lines="$(console "$name")"
    [ -z "$lines" ] || { echo "$file: console: $lines"; res=1; }
    check_harness "$name-h" "$file" "$sort" || return 1
    lines="$(console "$name-h")"
    [ -z "$lines" ] || { echo "$file (in the harness): console: $lines"; res=1; }
    grep -qx 'done' "$name-h.result" || { echo "$file: harness: $(cat "$name-h.result")"; res=1; }
    grep -qx 'broken 0' "$name-h.result" || { echo "$file: $(grep '^broken' "$name-h.result")"; res=1; }
    miss="$(missing_links "$file")"
    [ -z "$miss" ] || { echo "$file: links to missing files: $miss"; res=1; }
    return "$res"
}

t0=$SECONDS
# the checks catch a broken page: a script error, a missing image
mkdir -p broken
cp "${runs[0]}/recon-epoch-001.png" broken/
cat > broken/index.html <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<img src="recon-epoch-001.png"><img src="missing.png"><script>notDefined();</script>
</body></html>
EOF
page_ok broken "$work/broken/index.html" > broken.txt && bad "the broken page passed the checks"
grep -q 'console: .*Uncaught ReferenceError: notDefined' broken.txt && ok \
    || bad "the script error was not caught: $(cat broken.txt)"
grep -q 'broken 1 missing.png' broken.txt && ok || bad "the missing image was not caught: $(cat broken.txt)"
grep -q 'links to missing files: missing.png' broken.txt && ok \
    || bad "the missing file was not caught: $(cat broken.txt)"
grep -qx 'images 2' broken-h.result && ok || bad "harness image count: $(cat broken-h.result)"

# the run pages: clean, with the inline loss curve and the reconstruction grids
i=0
for d in "${runs[@]}"; do
    i=$((i + 1))
    msg="$(page_ok "run$i" "${d}index.html")" && ok || bad "run page $d: $msg"
    grep -qx 'svgs 1' "run$i-h.result" && ok || bad "$d: inline loss SVG not drawn: $(cat "run$i-h.result")"
    n="$(ls "$d" | grep -c '^recon-epoch-.*\.png$')"
    imgs="$(sed -n 's/^images //p' "run$i-h.result")"
    [ "$imgs" -ge "$n" ] && [ "$n" -ge 2 ] && ok || bad "$d: $imgs images shown, $n recon grids"
    grep -q '<h1>lr1e-[23] <span class="badge s-completed">completed</span></h1>' "run$i.dom" && ok \
        || bad "$d: title in the DOM: $(grep -o '<h1>.*</h1>' "run$i.dom")"
done

# the index: one row per subfolder; sorting by test loss, empty cells last
msg="$(page_ok index "$R/index.html" test_loss)" && ok || bad "index: $msg"
rows="$(sed -n '/<tbody>/,/<\/tbody>/p' index.dom | grep -c '<tr')"
[ "$rows" -eq 3 ] && ok || bad "index DOM has $rows rows, want 3"
for d in "${runs[@]}"; do
    grep -q "<a href=\"$(basename "$d")/index.html\">" index.dom && ok || bad "index: no link to $d"
done
grep -q 'notes%20%26%20%3Cdrafts%3E/' index.dom && grep -q 'not a run' index.dom && ok \
    || bad "index: the folder that is not a run"
# the order the runs must take: by final test loss from runs.csv, then the folder that is not a run
asc="$(tail -n +2 "$R/runs.csv" | awk -F, '{print $9, $1}' | sort -g | awk '{print $2}' | paste -sd'|')"
desc="$(tail -n +2 "$R/runs.csv" | awk -F, '{print $9, $1}' | sort -gr | awk '{print $2}' | paste -sd'|')"
grep -qxF "asc $asc|notes & <drafts>" index-h.result && ok \
    || bad "sorted ascending: $(grep '^asc' index-h.result), want $asc|notes & <drafts>"
grep -qxF "desc $desc|notes & <drafts>" index-h.result && ok \
    || bad "sorted descending: $(grep '^desc' index-h.result), want $desc|notes & <drafts>"
echo "report: browser checks took $((SECONDS - t0)) s"
finish
