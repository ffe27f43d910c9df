#!/bin/bash
# Benchmark (not a test): latency of `exec ID /bin/true` into one running container, for rt, runc
# and crun side by side. Prints, per runtime, the median (and p10, p90) wall time of one exec in ms,
# then the ratios rt/crun and rt/runc (the target is rt <= 0.5x crun).
#
#   test/bench/exec-bench.sh [-n N] [--rt PATH] [N]
#
#   N        execs per runtime (default 100; or env N)
#   --rt     the rt binary (default build/runtime/rt; or env RT)
#
# Run as root. Missing runc, crun, util-linux or busybox-static are installed with apt-get.
#
# How it measures: each runtime gets its own --root temp dir and starts its own container (`run -d`
# of `sleep 1000000` from the same busybox bundle); then N rounds, each one `<runtime> --root R
# exec ID /bin/true` per runtime in turn (interleaved: a load spike hits all alike), timed from
# bash (EPOCHREALTIME, microseconds, no fork around the runtime), after 3 warm-up rounds that are
# not counted. The containers are deleted at the end. The p10 column is the figure least disturbed
# by other load on the machine.
#
# cgroups: as in run-bench.sh, crun 1.8 refuses a hybrid cgroup host, so on such a host the
# measurement - all three runtimes, for fairness - runs in its own mount namespace (unshare -m)
# with /sys/fs/cgroup/unified unmounted; the host is untouched.
#
# A runtime that fails is reported with its error and left out of the ratios; the others still run.
# Exit status: 0 when all three legs ran, 1 otherwise.
set -u -o pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unified=/sys/fs/cgroup/unified

# shellcheck source=lib.sh
. "$here/lib.sh"

# --legs WORK BUNDLE N NAME=BIN...: inside `unshare -m`: start one container per runtime, then N
# rounds of one exec per runtime each (interleaved, so a load spike on the machine hits every
# runtime alike), then delete them. WORK/NAME.times gets one line "<microseconds>" per counted exec;
# WORK/NAME.err the error of a runtime that failed (it is left out of the later rounds).
if [ "${1:-}" = --legs ]; then
    work=$2 bundle=$3 n=$4
    shift 4
    if mountpoint -q "$unified" 2>/dev/null; then
        umount "$unified" 2>/dev/null || umount -l "$unified" || {
            for leg in "$@"; do echo "could not unmount $unified in the bench mount namespace" >"$work/${leg%%=*}.err"; done
            exit 1
        }
    fi
    declare -A bin
    legs=()
    for leg in "$@"; do
        name=${leg%%=*}
        bin[$name]=${leg#*=}
        mkdir -p "$work/$name.root"
        : >"$work/$name.times"
        if "${bin[$name]}" --root "$work/$name.root" run -d --bundle "$bundle" "execbench-$name" \
            </dev/null >/dev/null 2>"$work/$name.err"; then
            legs+=("$name")
        else
            "${bin[$name]}" --root "$work/$name.root" delete --force "execbench-$name" </dev/null >/dev/null 2>&1
        fi
    done
    cleanup() {
        for name in "${!bin[@]}"; do
            "${bin[$name]}" --root "$work/$name.root" delete --force "execbench-$name" </dev/null >/dev/null 2>&1
        done
    }
    trap cleanup EXIT
    declare -A failed
    for ((i = -3; i < n; i++)); do
        for name in "${legs[@]}"; do
            [ -n "${failed[$name]:-}" ] && continue
            t0=$(now_us)
            "${bin[$name]}" --root "$work/$name.root" exec "execbench-$name" /bin/true \
                </dev/null >/dev/null 2>"$work/$name.stderr"
            rc=$?
            t1=$(now_us)
            if [ "$rc" -ne 0 ]; then
                { echo "exec $i exited with status $rc:"; cat -- "$work/$name.stderr"; } >"$work/$name.err"
                failed[$name]=1
                continue
            fi
            # The first 3 rounds warm the page cache and the runtimes' own caches: not counted.
            [ "$i" -ge 0 ] && echo "$((t1 - t0))" >>"$work/$name.times"
        done
    done
    exit 0
fi

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }

bench_args exec-bench.sh 100 "$@"
bench_tools exec-bench.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/rt-exec-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The bundle: busybox rootfs, runc's default spec with terminal false and a long sleep.
bundle=$work/bundle
bench_bundle exec-bench.sh "$bundle" "$work" '"sleep", "1000000"'

echo "bench: $n rounds of 'exec ID /bin/true', one per runtime each (plus 3 warm-up rounds), each runtime into its own running container"
if mountpoint -q "$unified" 2>/dev/null; then
    echo "bench: hybrid cgroup host: all three runtimes alike run under 'unshare -m' with $unified unmounted (crun 1.8 refuses hybrid hosts)"
fi
echo

names=(rt runc crun)
declare -A bins=([rt]=$rt [runc]=$(command -v runc) [crun]=$(command -v crun || echo crun))
declare -A median p10 p90 version status

legs=()
for name in "${names[@]}"; do
    bin=${bins[$name]}
    if ! [ -x "$bin" ]; then
        status[$name]="not found: $bin"
        echo "$name: $bin not found or not executable; skipped"
        continue
    fi
    version[$name]=$("$bin" --version 2>/dev/null | head -n 1 | sed 's/^[^0-9]*//;s/ .*//')
    legs+=("$name=$bin")
done
echo "running $n rounds (${legs[*]%%=*}) ..."
unshare -m "$BASH" "$0" --legs "$work" "$bundle" "$n" "${legs[@]}"
for name in "${names[@]}"; do
    [ -n "${status[$name]:-}" ] && continue
    out=$work/$name.times
    if [ "$(wc -l <"$out" 2>/dev/null || echo 0)" -ne "$n" ]; then
        status[$name]=failed
        echo "$name: FAILED"
        sed 's/^/    /' "$work/$name.err" 2>/dev/null || echo "    (no error output)"
        continue
    fi
    status[$name]=ok
    read -r median[$name] p10[$name] p90[$name] _ < <(bench_stats "$out")
done

echo
printf '%-6s %-12s %6s %11s %9s %9s\n' runtime version execs "median ms" "p10 ms" "p90 ms"
printf '%-6s %-12s %6s %11s %9s %9s\n' ------ ------------ ------ ----------- --------- ---------
for name in "${names[@]}"; do
    if [ "${status[$name]:-}" = ok ]; then
        printf '%-6s %-12s %6d %11s %9s %9s\n' "$name" "${version[$name]:-?}" "$n" \
            "${median[$name]}" "${p10[$name]}" "${p90[$name]}"
    else
        printf '%-6s %-12s %6s  %s\n' "$name" "${version[$name]:--}" - "${status[$name]:-failed}"
    fi
done

echo
for other in crun runc; do
    if [ "${status[rt]:-}" = ok ] && [ "${status[$other]:-}" = ok ]; then
        awk -v a="${median[rt]}" -v b="${median[$other]}" -v a10="${p10[rt]}" -v b10="${p10[$other]}" \
            -v o="$other" 'BEGIN { printf "rt/%-5s exec time: median %.2fx   p10 %.2fx\n", o, a / b, a10 / b10 }'
    else
        printf 'rt/%-5s n/a (a leg failed)\n' "$other"
    fi
done

[ "${status[rt]:-}" = ok ] && [ "${status[runc]:-}" = ok ] && [ "${status[crun]:-}" = ok ]
