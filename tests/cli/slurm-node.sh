#!/usr/bin/env bash
# slurm-node.sh: a real one-node Slurm cluster on this machine, for the tests
# (and for trying `clae sweep --slurm` by hand).
#
#   tests/cli/slurm-node.sh start DIR [PID]
#       Starts munged, slurmctld and slurmd with everything they use (config,
#       munge key and socket, state, spool, logs) under DIR, waits until
#       `sinfo` shows the node idle, and writes DIR/env: source it to set
#       SLURM_CONF, so that sbatch, squeue, scontrol, scancel and sinfo talk
#       to this cluster. With PID, a watchdog stops the cluster once that
#       process has ended, however it ended (a test killed by a timeout
#       runs no exit trap). Exits 0 with the node up; or 77, the tests' skip
#       code, with the reason on stderr when this machine cannot run Slurm
#       (packages missing, not root, a daemon that does not come up: its log
#       is printed), after stopping whatever it had started.
#   tests/cli/slurm-node.sh stop DIR
#       Cancels every job, waits for them to end, then stops the daemons that
#       start started: by the PIDs it recorded, each checked against its
#       command line (which names DIR) first. Safe to call twice, or after a
#       start that failed.
#
# Needs root: slurmd starts every job step as its user. The configuration is
# the smallest that runs jobs: this host's real short name and CPU layout
# (from `slurmd -C`), proctrack/linuxproc, task/none, no accounting database,
# select/cons_tres with CPUs and memory as consumable resources, and free
# ports picked at start. Nothing outside DIR is read or written: /etc/slurm
# and /etc/munge stay as they are, and the system's own munged or Slurm, if
# any, are left alone. Debian packages: slurm-wlm, munge.
set -uo pipefail

cmd="${1:-}" dir="${2:-}"
if [ -z "$dir" ] || { [ "$cmd" != start ] && [ "$cmd" != stop ] && [ "$cmd" != watch ]; }; then
    echo "usage: $0 start DIR [PID] | stop DIR" >&2
    exit 2
fi
mkdir -p "$dir" && dir="$(cd "$dir" && pwd)" || exit 2
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

# The PID recorded as DIR/pids/NAME, if that process is still the one start
# started: alive, not a zombie, and its command line names DIR.
daemon_pid() {
    local f="$dir/pids/$1" pid
    [ -f "$f" ] || return 1
    pid="$(cat "$f")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$dir" || return 1
    echo "$pid"
}

stop_daemon() {  # stop_daemon NAME: SIGTERM, up to 10 s, then SIGKILL
    local pid
    pid="$(daemon_pid "$1")" || { rm -f "$dir/pids/$1"; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do daemon_pid "$1" > /dev/null || break; sleep 0.1; done
    pid="$(daemon_pid "$1")" && kill -KILL "$pid" 2>/dev/null
    rm -f "$dir/pids/$1"
}

stop_all() {
    if daemon_pid slurmctld > /dev/null; then
        # Jobs first, while slurmctld and slurmd can still end them cleanly
        # (KillWait=5: SIGTERM, then SIGKILL 5 s later).
        local jobs
        jobs="$(squeue -h -o %A 2>/dev/null | sort -u)"
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086
            scancel $jobs 2>/dev/null
            for _ in $(seq 300); do
                [ -z "$(squeue -h 2>/dev/null)" ] && break
                sleep 0.1
            done
        fi
    fi
    stop_daemon slurmd
    stop_daemon slurmctld
    stop_daemon munged
    # the watchdog, unless it is the one stopping the cluster
    local w
    if [ "$cmd" != watch ] && w="$(daemon_pid watchdog)"; then kill -TERM "$w" 2>/dev/null; fi
    rm -f "$dir/pids/watchdog"
}

if [ "$cmd" = stop ]; then
    [ -d "$dir/pids" ] && stop_all
    exit 0
fi
if [ "$cmd" = watch ]; then
    watched="${3:?}"
    while kill -0 "$watched" 2>/dev/null; do sleep 1; done
    [ -d "$dir/pids" ] && stop_all
    exit 0
fi

# ---- start ----
watch_pid="${3:-}"
t0="$(date +%s.%N)"
skip() {
    echo "slurm-node: cannot run a Slurm node on this machine: $*" >&2
    stop_all
    exit 77
}
show_log() {  # the end of a daemon's log, indented, on stderr
    echo "---- $1 (last 25 lines) ----" >&2
    tail -n 25 "$1" 2>/dev/null | sed 's/^/    /' >&2
}
[ "$(id -u)" = 0 ] || skip "not root (uid $(id -u)); slurmd must run as root to start job steps"
for b in munged munge unmunge slurmctld slurmd sbatch squeue scontrol scancel sinfo setsid; do
    command -v "$b" > /dev/null || skip "'$b' is not installed (Debian packages: slurm-wlm munge)"
done
if [ -f "$dir/pids/slurmctld" ] && daemon_pid slurmctld > /dev/null; then
    skip "$dir already has a running cluster; stop it first ($0 stop $dir)"
fi
mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/pids" || skip "cannot create folders under $dir"
# munged refuses a socket folder that not everyone can enter, and a key that
# anyone but its owner can read.
chmod 755 "$dir"
(umask 077 && head -c 1024 /dev/urandom > "$dir/munge.key") || skip "cannot write $dir/munge.key"

# Two free TCP ports for slurmctld and slurmd (this machine may run other
# things, or another Slurm, on the default 6817/6818).
port_free() {
    if command -v ss > /dev/null; then
        ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
    else
        ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}
pick_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 30000))
        [ "$p" != "${1:-}" ] && port_free "$p" && { echo "$p"; return 0; }
    done
    return 1
}
ctld_port="$(pick_port)" && slurmd_port="$(pick_port "$ctld_port")" || skip "no free TCP port found"

host="$(hostname -s)"
[ -n "$host" ] || skip "this machine has no host name (hostname -s is empty)"
# The node as slurmd sees the hardware: NodeName=... CPUs=... Boards=...
# SocketsPerBoard=... CoresPerSocket=... ThreadsPerCore=... RealMemory=...
hw="$(slurmd -C 2>"$dir/log/slurmd-C.err" | grep -m1 '^NodeName=')" ||
    { show_log "$dir/log/slurmd-C.err"; skip "'slurmd -C' did not describe this machine"; }
hw="${hw#NodeName=* }"
cpus="$(grep -o 'CPUs=[0-9]*' <<<"$hw")"

cat > "$conf" <<EOF
# One-node cluster for clae's tests, written by tests/cli/slurm-node.sh.
ClusterName=clae-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=256
ReturnToService=2
KillWait=5
MinJobAge=3600
MailProg=/bin/true
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# Each daemon in the foreground of its own session (setsid: a Ctrl-C meant
# for the test does not hit it; only `stop` ends it), output to its log.
start_daemon() {  # start_daemon NAME COMMAND...
    local name="$1"; shift
    setsid "$@" < /dev/null >> "$dir/log/$name.out" 2>&1 &
    echo $! > "$dir/pids/$name"
}
start_daemon munged munged --foreground --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"
for _ in $(seq 100); do
    munge -n -S "$dir/munge.socket" 2>/dev/null | unmunge -S "$dir/munge.socket" > /dev/null 2>&1 && break
    daemon_pid munged > /dev/null || break
    sleep 0.1
done
if ! munge -n -S "$dir/munge.socket" 2>/dev/null | unmunge -S "$dir/munge.socket" > /dev/null 2>&1; then
    show_log "$dir/log/munged.out"; show_log "$dir/log/munged.log"
    skip "munged did not come up (a credential made through $dir/munge.socket does not decode)"
fi

start_daemon slurmctld slurmctld -D -f "$conf"
start_daemon slurmd slurmd -D -f "$conf" -N "$host"
state=""
for _ in $(seq 600); do
    state="$(sinfo -h -N -n "$host" -o %T 2>/dev/null)"
    [ "$state" = idle ] && break
    for d in slurmctld slurmd; do
        daemon_pid "$d" > /dev/null && continue
        show_log "$dir/log/$d.out"; show_log "$dir/log/$d.log"
        skip "$d exited while starting (its log is above)"
    done
    sleep 0.1
done
if [ "$state" != idle ]; then
    show_log "$dir/log/slurmctld.log"; show_log "$dir/log/slurmd.log"
    skip "the node $host is '${state:-not listed}' after 60 s, not idle"
fi

if [ -n "$watch_pid" ]; then
    setsid bash "${BASH_SOURCE[0]}" watch "$dir" "$watch_pid" < /dev/null > /dev/null 2>&1 &
    echo $! > "$dir/pids/watchdog"
fi
echo "export SLURM_CONF='$conf'" > "$dir/env"
printf 'slurm-node: node %s up (%s, slurmctld port %s, slurmd port %s) in %.1f s; SLURM_CONF=%s\n' \
    "$host" "$cpus" "$ctld_port" "$slurmd_port" "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$conf"
