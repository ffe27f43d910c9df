#!/bin/bash
# Benchmark (not a test): N sequential `run` of /bin/true from one busybox bundle, for rt, runc and
# crun side by side. Prints, per runtime, the median (and p10, p90) wall time of one run in ms and
# the peak RSS over all runs, then the ratios rt/crun and rt/runc.
#
#   test/bench/run-bench.sh [-n N] [--rt PATH] [N]
#
#   N        runs per runtime (default 50; or env N)
#   --rt     the rt binary (default build/runtime/rt; or env RT)
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

# --leg NAME BIN ROOT BUNDLE N OUT: the measuring loop, run inside `unshare -m`.
# OUT gets one line "<microseconds> <maxrss KiB>" per counted run; OUT.err the error of a failed run.
if [ "${1:-}" = --leg ]; then
    name=$2 bin=$3 root=$4 bundle=$5 n=$6 out=$7
    if mountpoint -q "$unified" 2>/dev/null; then
        umount "$unified" 2>/dev/null || umount -l "$unified" || {
            echo "could not unmount $unified in the bench mount namespace" >"$out.err"
            exit 1
        }
    fi
    : >"$out"
    rss=$(mktemp)
    trap 'rm -f -- "$rss"' EXIT
    for ((i = 0; i <= n; i++)); do
        id="bench-$name-$$-$i"
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
            exit 1
        fi
        # Run 0 warms the page cache and the runtime's own caches; it is not counted.
        [ "$i" -eq 0 ] && continue
        echo "$((t1 - t0)) $(tail -n 1 -- "$rss")" >>"$out"
    done
    exit 0
fi

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }

bench_args run-bench.sh 50 "$@"
bench_tools run-bench.sh time
[ -x /usr/bin/time ] || { echo "run-bench.sh: /usr/bin/time is missing" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rt-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The bundle: busybox rootfs, runc's default spec with terminal false and args ["/bin/true"].
bundle=$work/bundle
bench_bundle run-bench.sh "$bundle" "$work" '"/bin/true"'

echo "bench: $n sequential runs of /bin/true per runtime (plus 1 warm-up), bundle from runc spec + busybox"
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
    printf '%s: running %d times ... ' "$name" "$n"
    if unshare -m "$BASH" "$0" --leg "$name" "$bin" "$work/$name.root" "$bundle" "$n" "$out"; then
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
