#!/bin/bash
# Benchmark (not a test): N sequential `run` of /bin/true from one busybox bundle, for rt, runc and
# crun side by side. Prints, per runtime, the median (and p10, p90) wall time of one run in ms and
# the peak RSS over all runs, then the ratios rt/crun and rt/runc.
#
#   test/bench/run-bench.sh [-n N] [--rt PATH] [--resources] [--interleave] [--tmpfs-root]
#                           [--seccomp [--cold]] [N]
#
#   N            runs per runtime (default 50; or env N)
#   --rt         the rt binary (default build/runtime/rt; or env RT)
#   --resources  add cgroup limits to the bundle (memory 256 MiB, memory+swap 256 MiB, pids 1024),
#                so each run also writes them (no cpu weight: on a busy host a lower weight slows the
#                container, not the runtime); runc's default device rule (deny all, plus each
#                runtime's default allow list) is in every run either way
#   --interleave run i of rt, runc, crun, then run i+1 of each, ...: on a busy machine every
#                runtime sees the same background load (each run in its own `unshare -m`)
#   --tmpfs-root each runtime's --root on a tmpfs (mounted in the leg's mount namespace), as /run
#                is on most hosts; without it the roots are in a temp dir under $TMPDIR or /tmp
#   --seccomp    the bundle gets rt's default seccomp profile (`rt spec --seccomp default`), the
#                same for all three runtimes
#   --cold       rt's seccomp filter cache (<root>/seccomp) is emptied before every rt run, so each
#                run compiles the filter, as crun and runc do
#
# Run as root. Missing runc, crun, GNU time or busybox-static are installed with apt-get.
#
# How it measures: each runtime gets its own --root temp dir and a unique container id per run;
# one warm-up run is not counted. A run is timed from bash (EPOCHREALTIME, microseconds, no fork)
# around `/usr/bin/time -f %M <runtime> --root R run --bundle B ID`; the peak RSS is the largest
# %M (KiB: the runtime and the processes it waited for). The /usr/bin/time wrapper adds the same
# small cost to every runtime.
#
# cgroups: crun 1.8 refuses a hybrid cgroup host (v1 controllers plus cgroup2 on
# /sys/fs/cgroup/unified). On such a host every leg - all three runtimes, for fairness - runs in its
# own mount namespace (unshare -m) with /sys/fs/cgroup/unified unmounted; the host is untouched.
#
# A runtime that fails is reported with its error and left out of the ratios; the others still run.
# Exit status: 0 when all three legs ran, 1 otherwise.
set -u -o pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unified=/sys/fs/cgroup/unified

# shellcheck source=lib.sh
. "$here/lib.sh"

# one_run NAME BIN ROOT BUNDLE I OUT: run I (0 = warm-up, not recorded) of one runtime. OUT gets
# one line "<microseconds> <maxrss KiB>" per counted run; OUT.err the error of a failed run.
one_run() {
    local name=$1 bin=$2 root=$3 bundle=$4 i=$5 out=$6 id t0 t1 rc rss
    rss=$out.rss
    id="bench-$name-$$-$i"
    [ "${BENCH_COLD:-0}" = 1 ] && rm -rf -- "$root/seccomp"
    t0=$(now_us)
    /usr/bin/time -f %M -o "$rss" "$bin" --root "$root" run --bundle "$bundle" "$id" \
        </dev/null >/dev/null 2>"$out.stderr"
    rc=$?
    t1=$(now_us)
    if [ "$rc" -ne 0 ]; then
        {
            echo "run $i ($id) exited with status $rc:"
            cat -- "$out.stderr"
            grep -v '^[0-9]*$' -- "$rss" || true
        } >"$out.err"
        "$bin" --root "$root" delete --force "$id" </dev/null >/dev/null 2>&1 || true
        return 1
    fi
    # Run 0 warms the page cache and the runtime's own caches; it is not counted.
    [ "$i" -eq 0 ] || echo "$((t1 - t0)) $(tail -n 1 -- "$rss")" >>"$out"
}

# --tmpfs-root: the state roots on a tmpfs, as /run is on most hosts (here /run is on the disk,
# where each inode rt, runc or crun creates, a state dir, a socket, a fifo, costs ~1.5 ms).
tmpfs_root() {
    [ "${BENCH_TMPFS_ROOT:-0}" = 1 ] || return 0
    mountpoint -q "$1" || mount -t tmpfs -o mode=0700 rt-bench-state "$1"
}

unmount_unified() {
    if mountpoint -q "$unified" 2>/dev/null; then
        umount "$unified" 2>/dev/null || umount -l "$unified" || {
            echo "could not unmount $unified in the bench mount namespace" >"$1.err"
            exit 1
        }
    fi
}

# --leg NAME BIN ROOT BUNDLE N OUT: all runs of one runtime, inside `unshare -m`.
if [ "${1:-}" = --leg ]; then
    name=$2 bin=$3 root=$4 bundle=$5 n=$6 out=$7
    unmount_unified "$out"
    tmpfs_root "$root"
    : >"$out"
    for ((i = 0; i <= n; i++)); do
        one_run "$name" "$bin" "$root" "$bundle" "$i" "$out" || exit 1
    done
    exit 0
fi
# --round NAME BIN ROOT BUNDLE I OUT: run I of one runtime, inside `unshare -m` (--interleave).
if [ "${1:-}" = --round ]; then
    unmount_unified "$7"
    tmpfs_root "$4"
    one_run "$2" "$3" "$4" "$5" "$6" "$7"
    exit
fi

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }

resources=0 interleave=0 seccomp=0
export BENCH_COLD=0
args=()
for a in "$@"; do
    case $a in
        --interleave) interleave=1 ;;
        --tmpfs-root) export BENCH_TMPFS_ROOT=1 ;;
        --resources) resources=1 ;;
        --seccomp) seccomp=1 ;;
        --cold) BENCH_COLD=1 ;;
        *) args+=("$a") ;;
    esac
done
bench_args run-bench.sh 50 "${args[@]}"
bench_tools run-bench.sh time
[ -x /usr/bin/time ] || { echo "run-bench.sh: /usr/bin/time is missing" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rt-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The bundle: busybox rootfs, runc's default spec with terminal false and args ["/bin/true"].
bundle=$work/bundle
bench_bundle run-bench.sh "$bundle" "$work" '"/bin/true"'

if [ "$resources" = 1 ]; then
    sed -i 's|^\([[:space:]]*\)"resources": {|\1"resources": { "memory": {"limit": 268435456, "swap": 268435456}, "pids": {"limit": 1024},|' \
        "$bundle/config.json"
    if ! grep -q '"limit": 268435456' "$bundle/config.json"; then
        echo "run-bench.sh: could not add resources to config.json" >&2
        exit 1
    fi
fi

if [ "$seccomp" = 1 ]; then
    # Splice rt's default profile in as the last member of "linux" (runc's spec ends with it).
    "$rt" spec --bundle "$work" --seccomp default || exit 1
    profile=$(sed -n '/^    "seccomp": {/,/^    }/p' "$work/config.json")
    [ -n "$profile" ] || { echo "run-bench.sh: no seccomp profile in rt spec's output" >&2; exit 1; }
    awk -v p="$profile" '
        /^[[:space:]]*"linux": \{/ { inlinux = 1; depth = 0 }
        {
            if (inlinux) {
                line = $0
                opens = gsub(/\{/, "{", line); closes = gsub(/\}/, "}", line)
                depth += opens - closes
                if (depth == 0 && closes > 0) {  # the closing brace of "linux"
                    sub(/[[:space:]]*$/, "", prev); print prev ","; print p; prev = $0; inlinux = 0; next
                }
            }
            if (have) print prev
            prev = $0; have = 1
        }
        END { if (have) print prev }' "$bundle/config.json" >"$work/config.seccomp.json" &&
        mv "$work/config.seccomp.json" "$bundle/config.json"
    grep -q SCMP_ACT_ERRNO "$bundle/config.json" || { echo "run-bench.sh: could not add the profile" >&2; exit 1; }
fi

echo "bench: $n sequential runs of /bin/true per runtime (plus 1 warm-up), bundle from runc spec + busybox"
[ "$seccomp" = 1 ] && echo "bench: with rt's default seccomp profile; rt's filter cache is $([ "$BENCH_COLD" = 1 ] && echo "emptied before every run (cold)" || echo "kept (warm after the warm-up run)")"
[ "${BENCH_TMPFS_ROOT:-0}" = 1 ] && echo "bench: state roots (--root) on a tmpfs"
[ "$resources" = 1 ] && echo "bench: with linux.resources memory 256 MiB (+swap 256 MiB), pids 1024"
if mountpoint -q "$unified" 2>/dev/null; then
    echo "bench: hybrid cgroup host: every leg (rt, runc, crun alike) runs under 'unshare -m' with $unified unmounted (crun 1.8 refuses hybrid hosts)"
fi
echo

names=(rt runc crun)
declare -A bins=([rt]=$rt [runc]=$(command -v runc) [crun]=$(command -v crun || echo crun))
declare -A median p10 p90 peak version status

for name in "${names[@]}"; do
    bin=${bins[$name]}
    out=$work/$name.times
    if ! [ -x "$bin" ]; then
        status[$name]="not found: $bin"
        echo "$name: $bin not found or not executable; skipped"
        continue
    fi
    version[$name]=$("$bin" --version 2>/dev/null | head -n 1 | sed 's/^[^0-9]*//;s/ .*//')
    mkdir -p "$work/$name.root"
    : >"$out"
done
if [ "$interleave" = 1 ]; then
    echo "bench: interleaved: run i of each runtime in turn"
    for ((i = 0; i <= n; i++)); do
        for name in "${names[@]}"; do
            [ -x "${bins[$name]}" ] && [ ! -e "$work/$name.times.err" ] || continue
            unshare -m "$BASH" "$0" --round "$name" "${bins[$name]}" "$work/$name.root" "$bundle" "$i" \
                "$work/$name.times"
        done
    done
fi
for name in "${names[@]}"; do
    bin=${bins[$name]}
    out=$work/$name.times
    [ -x "$bin" ] || continue
    if [ "$interleave" = 1 ]; then
        printf '%s: ' "$name"
        leg() { [ ! -e "$out.err" ]; }
    else
        printf '%s: running %d times ... ' "$name" "$n"
        leg() { unshare -m "$BASH" "$0" --leg "$name" "$bin" "$work/$name.root" "$bundle" "$n" "$out"; }
    fi
    if leg; then
        status[$name]=ok
        echo "done"
    else
        status[$name]=failed
        echo FAILED
        sed 's/^/    /' "$out.err" 2>/dev/null || echo "    (no error output)"
        continue
    fi
    read -r median[$name] p10[$name] p90[$name] peak[$name] < <(bench_stats "$out")
done

echo
printf '%-6s %-12s %6s %11s %9s %9s %14s\n' runtime version runs "median ms" "p10 ms" "p90 ms" "peak RSS KiB"
printf '%-6s %-12s %6s %11s %9s %9s %14s\n' ------ ------------ ------ ----------- --------- --------- --------------
for name in "${names[@]}"; do
    if [ "${status[$name]:-}" = ok ]; then
        printf '%-6s %-12s %6d %11s %9s %9s %14s\n' "$name" "${version[$name]:-?}" "$n" \
            "${median[$name]}" "${p10[$name]}" "${p90[$name]}" "${peak[$name]}"
    else
        printf '%-6s %-12s %6s  %s\n' "$name" "${version[$name]:--}" - "${status[$name]:-failed}"
    fi
done

echo
for other in crun runc; do
    if [ "${status[rt]:-}" = ok ] && [ "${status[$other]:-}" = ok ]; then
        awk -v a="${median[rt]}" -v b="${median[$other]}" -v ra="${peak[rt]}" -v rb="${peak[$other]}" \
            -v o="$other" 'BEGIN { printf "rt/%-5s time %.2fx   peak RSS %.2fx\n", o, a / b, ra / rb }'
    else
        printf 'rt/%-5s n/a (a leg failed)\n' "$other"
    fi
done

[ "${status[rt]:-}" = ok ] && [ "${status[runc]:-}" = ok ] && [ "${status[crun]:-}" = ok ]
