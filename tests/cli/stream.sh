#!/usr/bin/env bash
# stream: the data on the device, resident or streamed ([data] device_memory).
#
# - The seed experiment (configs/mnist-156.ini, 2 epochs) resident, then
#   with device_memory = 1M, below its 7.0 MB of bytes: the streamed run
#   says so (console, run.json's "device_data", the run page), and its
#   loss.csv losses, latent.csv and recon grids equal the resident run's
#   byte for byte.
# - float32 .npy data (NumPy) stay float: resident and streamed give the
#   same losses bit for bit, and the same as the bytes they were made from.
# - Bad budgets: malformed, zero, and below the two batches streaming keeps
#   on the device (the minimum named): exit 2, one line, no run folder.
# - A mapped .npy cut short while a streamed run reads it: SIGBUS ends the
#   run (exit 135), and it says so on stderr first.
# - A synthetic uint8 .npy of 1.5 GB (NumPy writes it into this test's
#   temporary folder, removed on exit) trains 2 epochs streamed with a 256M
#   budget, and the process's peak resident set stays under 512 MiB (1 GiB
#   in a sanitizer build, whose shadow memory and quarantine add to it): the
#   file is mapped, never read into memory, and at most one batch's pages of
#   it (32 MiB, sampled from /proc/PID/smaps) are ever resident.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
test_start stream "$1" "$2"
need_mnist
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, which python3-numpy serves

# loss.csv without its timing columns (seconds, images_per_second)
losses() { cut -d, -f1-3,6- "$1/loss.csv"; }
run_of() { tail -n 1 "$1"; }

# ---- the seed experiment, resident and streamed --------------------------------
seed=("$src/configs/mnist-156.ini" --set "data.dir=$mnist" --set train.epochs=2
      --set output.root=seed --set output.recon_every=1)
"$clae" train "${seed[@]}" > res.out 2> res.err; rc=$?
res="$(run_of res.out)"
check '[ $rc = 0 ] && grep -q "^data on the device: resident: the data (7.0 MB as bytes) fit \[data\] device_memory = auto (" res.out' \
    "resident seed run: exit $rc, $(grep -h "on the device" res.out) $(cat res.err)"
"$clae" train "${seed[@]}" --set data.device_memory=1M > str.out 2> str.err; rc=$?
str="$(run_of str.out)"
check '[ $rc = 0 ] && grep -qx "data on the device: streamed: the data (7.0 MB as bytes) exceed \[data\] device_memory = 1M" str.out' \
    "streamed seed run: exit $rc, $(grep -h "on the device" str.out) $(cat str.err)"
check '[ "$(losses "$res" | wc -l)" = 3 ] && [ "$(losses "$res")" = "$(losses "$str")" ]' \
    "streamed losses equal the resident ones: $(losses "$res") vs $(losses "$str")"
check 'cmp -s "$res/latent.csv" "$str/latent.csv" && cmp -s "$res/recon-epoch-002.png" "$str/recon-epoch-002.png"' \
    "latent.csv and recon-epoch-002.png the same streamed"
check 'grep -q "\"mode\": \"streamed\"" "$str/run.json" && grep -q "\"mode\": \"resident\"" "$res/run.json" && grep -q "\"budget\": 1048576" "$str/run.json"' \
    "run.json's device_data: $(grep -A4 device_data "$str/run.json")"
check 'grep -q "data on the device.*streamed: the data (7.0 MB as bytes) exceed \[data\] device_memory = 1M" "$str/index.html"' \
    "the run page says streamed and why"
check 'grep -qx "device_memory = 1M" "$str/config.ini" && grep -qx "device_memory = auto" "$res/config.ini"' \
    "config.ini records the budget"

# ---- float32 .npy: resident and streamed, and the bytes they came from ------------
"$py" - <<'EOF' || bad "numpy could not write the float32 fixture"
import numpy as np
rng = np.random.default_rng(7)
u8 = rng.integers(0, 256, size=(600, 8, 8), dtype=np.uint8)
np.save("u8.npy", u8[:500]); np.save("u8-test.npy", u8[500:])
f32 = u8.astype(np.float32) * (np.float32(1) / np.float32(255))  # as clae scales bytes
np.save("f32.npy", f32[:500]); np.save("f32-test.npy", f32[500:])
EOF
cat > small.ini <<EOF
[data]
format = npy
dir = .
train_images = f32.npy
test_images = f32-test.npy
[model]
encoder = 16
[train]
epochs = 2
batch_size = 32
learning_rate = 1e-3
[output]
root = small
EOF
"$clae" train small.ini > f.out 2>&1; rc1=$?
"$clae" train small.ini --set data.device_memory=64K > fs.out 2>&1; rc2=$?
"$clae" train small.ini --set data.train_images=u8.npy --set data.test_images=u8-test.npy \
    --set data.device_memory=16K > u.out 2>&1; rc3=$?
check '[ $rc1 = 0 ] && [ $rc2 = 0 ] && [ $rc3 = 0 ]' "the small runs: exit $rc1 $rc2 $rc3: $(cat f.out fs.out u.out | grep -i error)"
check 'grep -q "^data on the device: resident: the data (153.6 KB as float32)" f.out && grep -q "^data on the device: streamed: the data (153.6 KB as float32) exceed \[data\] device_memory = 64K" fs.out && grep -q "^data on the device: streamed: the data (38.4 KB as bytes) exceed" u.out' \
    "float32 stays float32, bytes stay bytes: $(grep -h "on the device" f.out fs.out u.out)"
check '[ "$(losses "$(run_of f.out)")" = "$(losses "$(run_of fs.out)")" ] && [ "$(losses "$(run_of f.out)")" = "$(losses "$(run_of u.out)")" ]' \
    "float32 resident, float32 streamed and uint8 streamed: the same losses"

# ---- bad budgets ---------------------------------------------------------------------
mkdir -p bad
for v in 0 12X -1 1.5G 5KB auto2; do
    expect 2 "[data] device_memory = '$v': expected auto" train "${seed[@]}" --set output.root=bad \
        --set "data.device_memory=$v"
done
expect 2 "0 bytes leave no room for the data" train "${seed[@]}" --set output.root=bad --set data.device_memory=0
expect 2 "[data] device_memory = 64K is less than the 2 batches of 50 items (784 bytes each, as bytes) that streaming keeps on the device: 78400 bytes; use at least 77K" \
    train "${seed[@]}" --set output.root=bad --set data.device_memory=64K
check '[ -z "$(ls bad)" ]' "no run folder for a bad budget: $(ls bad)"

# ---- a mapped file cut short during a run: SIGBUS, said ----------------------------
"$py" -c '
import numpy as np
rng = np.random.default_rng(3)
np.save("cut.npy", rng.integers(0, 256, size=(20000, 784), dtype=np.uint8))
np.save("cut-test.npy", rng.integers(0, 256, size=(200, 784), dtype=np.uint8))' ||
    bad "numpy could not write cut.npy"
"$clae" train small.ini --set data.train_images=cut.npy --set data.test_images=cut-test.npy \
    --set data.device_memory=1M --set train.epochs=1000 --set output.root=cut > cut.out 2> cut.err &
pid=$!
for _ in $(seq 600); do
    [ "$(cat cut/*/loss.csv 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.1
done
truncate -s 4096 cut.npy # the pages the run reads next are gone from the file
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null
wait "$pid"; rc=$?
check '[ $rc = 135 ] && grep -q "^clae: SIGBUS: a memory-mapped .npy data file (\[data\] train_images or test_images) was cut short or replaced while the run read it; the run stops" cut.err' \
    "a file cut during the run: exit $rc (135 = SIGBUS), $(cat cut.err)"

# ---- 1.5 GB of uint8 through a 256M budget ---------------------------------------------
# 500,000 items of 3,072 bytes: 1.536 GB, and its page cache, in $work
free_kb="$(df -Pk "$work" | awk 'NR == 2 {print $4}')"
if [ "$free_kb" -lt 3000000 ]; then
    bad "the 1.5 GB test needs 3 GB free in $work, which has $((free_kb / 1024)) MB"
else
    "$py" - <<'EOF' || bad "numpy could not write the 1.5 GB file"
import numpy as np
n, d = 500000, 3072
a = np.lib.format.open_memmap("big.npy", mode="w+", dtype=np.uint8, shape=(n, d))
rng = np.random.default_rng(1)
for i in range(0, n, 50000):
    a[i:i + 50000] = rng.integers(0, 256, size=(50000, d), dtype=np.uint8)
a.flush()
del a
np.save("big-test.npy", rng.integers(0, 256, size=(1000, d), dtype=np.uint8))
EOF
    cat > big.ini <<EOF
[data]
format = npy
dir = .
train_images = big.npy
test_images = big-test.npy
device_memory = 256M
[model]
encoder = 8
[train]
epochs = 2
batch_size = 256
learning_rate = 1e-3
[output]
root = bigruns
recon_every = 0
EOF
    # the peak resident set of the run, from getrusage of the child (KiB),
    # and, sampled from /proc/PID/smaps while it runs, the most of the mapped
    # file that was ever resident (KiB)
    "$py" -c '
import resource, subprocess, sys, time
with open("big.out", "w") as out:
    p = subprocess.Popen(sys.argv[1:], stdout=out, stderr=subprocess.STDOUT)
    most = 0
    while p.poll() is None:
        try:
            with open("/proc/%d/smaps" % p.pid) as f:
                inside = False
                for line in f:
                    if "-" in line.split(" ")[0]:
                        inside = line.rstrip().endswith("/big.npy")
                    elif inside and line.startswith("Rss:"):
                        most = max(most, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.2)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, most)' \
        "$clae" train big.ini > peak.txt
    read -r rc kib mapped < peak.txt
    big="$(run_of big.out)"
    check '[ "$rc" = 0 ] && grep -q "\"status\": \"completed\"" "$big/run.json" && [ "$(losses "$big" | wc -l)" = 3 ]' \
        "the 1.5 GB run completes 2 epochs: exit $rc: $(tail -n 3 big.out)"
    check 'grep -qx "data on the device: streamed: the data (1.54 GB as bytes) exceed \[data\] device_memory = 256M" big.out' \
        "the 1.5 GB run is streamed: $(grep "on the device" big.out)"
    # 512 MiB for the process (measured 136-147 MiB alone, 308-315 MiB under
    # ctest -j2 beside a compile; the cause is not pinned down, glibc's
    # per-thread arenas, which multiply when threads contend, the likely one); a sanitizer build adds its shadow memory and
    # its quarantine of freed blocks (256 MiB by default), so there 1 GiB,
    # still less than the file: a copy of it would not fit either bound
    limit=524288
    libs="$(ldd "$clae" 2>/dev/null)" # (grep -q in a pipe would cut ldd short: pipefail)
    grep -Eq 'lib(a|ub)san' <<<"$libs" && limit=1048576
    check '[ -n "$kib" ] && [ "$kib" -lt "$limit" ]' "peak resident set ${kib:-?} KiB, over $limit KiB"
    # one batch's rows and the pages the kernel maps around each (64 KiB,
    # twice for a row across a page boundary): 256 x 2 x 64 KiB at most
    check '[ -n "$mapped" ] && [ "$mapped" -le 32768 ]' "the mapped file's resident pages reached ${mapped:-?} KiB"
    echo "1.5 GB uint8 .npy, 2 epochs streamed through 256M: peak resident set $((${kib:-0} / 1024)) MiB (bound $((limit / 1024)) MiB), at most $((${mapped:-0} / 1024)) MiB of the mapped file resident"
    rm -f big.npy big-test.npy
fi

test_end
