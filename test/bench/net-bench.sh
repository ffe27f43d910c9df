#!/bin/bash
# Benchmark (not a test): what a bridge network adds to `run` of /bin/true. N sequential runs
# per leg, each leg in a network namespace of its own (unshare -n: the host's network is never
# touched; the bridge is made by the warm-up run, which is not counted):
#
#   rt          rt run, new network namespace, no network annotations
#   rt+net      rt run with rt.network.bridge (veth, lease, address, route, /etc files)
#   runc        runc run, same bundle as rt
#   runc+hook   runc run with rt-network-hook as createRuntime/poststop hooks
#   crun, crun+hook   the same with crun
#
# Prints the median (p10, p90) wall time of one run per leg, the added cost of the network for
# each runtime (ms and ratio), and rt+net against runc+hook and crun+hook.
#
#   test/bench/net-bench.sh [-n N] [--rt PATH] [--hook PATH]
#
#   N        runs per leg (default 30; or env N)
#   --rt     the rt binary (default build/runtime/rt; or env RT)
#   --hook   rt-network-hook (default build/hooks/rt-network-hook; or env RT_HOOK)
#
# Run as root. On a hybrid cgroup host every leg runs with /sys/fs/cgroup/unified unmounted in
# its own mount namespace (unshare -m; crun 1.8 refuses hybrid hosts), as run-bench.sh does.
set -u -o pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unified=/sys/fs/cgroup/unified

now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# --leg NAME BIN ROOT BUNDLE N OUT: the measuring loop, inside `unshare -n -m`.
if [ "${1:-}" = --leg ]; then
    name=$2 bin=$3 root=$4 bundle=$5 n=$6 out=$7
    if mountpoint -q "$unified" 2>/dev/null; then
        umount "$unified" 2>/dev/null || umount -l "$unified" || exit 1
    fi
    : >"$out"
    for ((i = 0; i <= n; i++)); do
        id="nb-$name-$$-$i"
        t0=$(now_us)
        "$bin" --root "$root" run --bundle "$bundle" "$id" </dev/null >/dev/null 2>"$out.err"
        rc=$?
        t1=$(now_us)
        if [ "$rc" -ne 0 ]; then
            echo "run $i ($id) exited with status $rc" >>"$out.err"
            "$bin" --root "$root" delete --force "$id" </dev/null >/dev/null 2>&1
            exit 1
        fi
        [ "$i" -eq 0 ] && continue  # warm-up: page cache, the bridge
        echo "$((t1 - t0))" >>"$out"
    done
    exit 0
fi

usage() { sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; }

n=${N:-30}
rt=${RT:-$repo/build/runtime/rt}
hook=${RT_HOOK:-$repo/build/hooks/rt-network-hook}
while [ $# -gt 0 ]; do
    case $1 in
        -n) n=${2:?-n needs a number}; shift 2 ;;
        --rt) rt=${2:?--rt needs a path}; shift 2 ;;
        --hook) hook=${2:?--hook needs a path}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "net-bench.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case $n in '' | *[!0-9]* | 0) echo "net-bench.sh: N must be a positive number" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "net-bench.sh: run me as root" >&2; exit 1; }
for f in "$rt" "$hook"; do
    [ -x "$f" ] || { echo "net-bench.sh: $f is missing (build it: ninja -C build)" >&2; exit 1; }
done
[ -n "${EPOCHREALTIME:-}" ] || { echo "net-bench.sh: needs bash 5 (EPOCHREALTIME)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/rt-net-bench.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# Bundles: one busybox rootfs; `runc spec` (it has a network namespace) with terminal false and
# args ["/bin/true"]; plus the annotations (rt+net), plus the hooks (runc+hook, crun+hook).
sh "$repo/test/fixtures/make-rootfs.sh" "$work/rootfs" "$work/rootfs.stamp" >/dev/null || exit 1
make_bundle() {  # DIR [EXTRA-JSON-MEMBERS]
    mkdir -p "$1"
    (cd "$1" && runc spec) || exit 1
    sed -i -e 's/"terminal": true/"terminal": false/' -e "s|\"path\": \"rootfs\"|\"path\": \"$work/rootfs\"|" \
           -e 's|^\([[:space:]]*\)"sh"$|\1"/bin/true"|' "$1/config.json"
    [ -n "${2:-}" ] && sed -i "1s|^{|{ $2,|" "$1/config.json"
    grep -q '"/bin/true"' "$1/config.json" || { echo "net-bench.sh: could not edit config.json" >&2; exit 1; }
}
annotations='"annotations": {"rt.network.bridge": "rtbench0", "rt.network.gateway": "10.250.0.1/16"}'
hooks() {  # LEASE-ROOT
    local a="{\"path\": \"$hook\", \"args\": [\"rt-network-hook\", \"--root\", \"$1\", \"attach\"]}"
    local d="{\"path\": \"$hook\", \"args\": [\"rt-network-hook\", \"--root\", \"$1\", \"detach\"]}"
    echo "\"hooks\": {\"createRuntime\": [$a], \"poststop\": [$d]}"
}
make_bundle "$work/plain"
make_bundle "$work/net" "$annotations"
make_bundle "$work/hook" "$annotations, $(hooks "$work/leases")"

legs=(rt rt+net runc runc+hook crun crun+hook)
declare -A bin=([rt]=$rt [rt+net]=$rt [runc]=$(command -v runc) [runc+hook]=$(command -v runc)
                [crun]=$(command -v crun) [crun+hook]=$(command -v crun))
declare -A bundle=([rt]=plain [rt+net]=net [runc]=plain [runc+hook]=hook [crun]=plain [crun+hook]=hook)
declare -A median p10 p90 ok

echo "net-bench: $n sequential runs of /bin/true per leg (plus 1 warm-up), each leg in its own network namespace"
for leg in "${legs[@]}"; do
    b=${bin[$leg]}
    if [ -z "$b" ] || ! [ -x "$b" ]; then echo "$leg: runtime not found; skipped"; continue; fi
    mkdir -p "$work/$leg.root"
    printf '%-10s ... ' "$leg"
    if unshare -n -m "$BASH" "$0" --leg "${leg/+/-}" "$b" "$work/$leg.root" "$work/${bundle[$leg]}" "$n" \
        "$work/$leg.times"; then
        ok[$leg]=1
        read -r median[$leg] p10[$leg] p90[$leg] < <(sort -n "$work/$leg.times" | awk '
            { t[NR] = $1 }
            END {
                med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                i10 = int(NR * 0.1 + 0.5); if (i10 < 1) i10 = 1
                i90 = int(NR * 0.9 + 0.5); if (i90 < 1) i90 = 1
                printf "%.2f %.2f %.2f\n", med / 1000, t[i10] / 1000, t[i90] / 1000
            }')
        echo "median ${median[$leg]} ms (p10 ${p10[$leg]}, p90 ${p90[$leg]})"
    else
        echo FAILED
        sed 's/^/    /' "$work/$leg.times.err" 2>/dev/null
    fi
done

echo
for rtm in rt runc crun; do
    net=$rtm+net
    [ "$rtm" = rt ] || net=$rtm+hook
    if [ -n "${ok[$rtm]:-}" ] && [ -n "${ok[$net]:-}" ]; then
        awk -v a="${median[$net]}" -v b="${median[$rtm]}" -v l="$net" -v p="$rtm" \
            'BEGIN { printf "added by the network: %-10s - %-5s = %+.2f ms (%.2fx)\n", l, p, a - b, a / b }'
    fi
done
for other in runc+hook crun+hook; do
    if [ -n "${ok[rt+net]:-}" ] && [ -n "${ok[$other]:-}" ]; then
        awk -v a="${median[rt+net]}" -v b="${median[$other]}" -v o="$other" \
            'BEGIN { printf "rt+net/%-10s time %.2fx\n", o, a / b }'
    fi
done
[ -n "${ok[rt]:-}" ] && [ -n "${ok[rt+net]:-}" ]
