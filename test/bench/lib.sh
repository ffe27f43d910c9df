# Shared by the benchmark scripts in this folder (sourced, not run): the clock, the command line,
# the tools and the bundle. The caller defines usage() and sets `repo` before sourcing.

# Microseconds since the epoch, without a fork when bash has EPOCHREALTIME.
now_us() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        echo "${EPOCHREALTIME//[!0-9]/}"
    else
        echo $(($(date +%s%N) / 1000))
    fi
}

# bench_args SCRIPT DEFAULT_N "$@": sets n (-n N, a bare N, env N) and rt (--rt PATH, env RT,
# default build/runtime/rt); exits on bad arguments and when not run as root.
bench_args() {
    local script=$1
    n=${N:-$2}
    rt=${RT:-$repo/build/runtime/rt}
    shift 2
    while [ $# -gt 0 ]; do
        case $1 in
            -n) n=${2:?-n needs a number}; shift 2 ;;
            --rt) rt=${2:?--rt needs a path}; shift 2 ;;
            --rt=*) rt=${1#--rt=}; shift ;;
            -h|--help) usage; exit 0 ;;
            [0-9]*) n=$1; shift ;;
            *) echo "$script: unknown argument: $1" >&2; usage >&2; exit 2 ;;
        esac
    done
    case $n in
        '' | *[!0-9]* | 0) echo "$script: N must be a positive number, got '$n'" >&2; exit 2 ;;
    esac
    if [ "$(id -u)" -ne 0 ]; then
        echo "$script: run me as root" >&2
        exit 1
    fi
}

# bench_tools SCRIPT [PACKAGE...]: apt-get install what of runc, crun, util-linux (unshare),
# busybox-static and the extra Debian packages is missing; exits when runc or unshare still is.
bench_tools() {
    local script=$1 p
    shift
    local missing=()
    command -v runc >/dev/null || missing+=(runc)
    command -v crun >/dev/null || missing+=(crun)
    command -v unshare >/dev/null || missing+=(util-linux)
    [ -x /bin/busybox ] || missing+=(busybox-static)
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null ||
            echo "$script: apt-get install ${missing[*]} failed" >&2
    fi
    for p in runc unshare; do
        command -v "$p" >/dev/null || { echo "$script: $p is missing" >&2; exit 1; }
    done
}

# bench_bundle SCRIPT DIR WORK ARGS: a bundle in DIR: the busybox rootfs and runc's default spec
# with terminal false and args ARGS (JSON array elements, e.g. '"/bin/true"').
bench_bundle() {
    local script=$1 dir=$2 work=$3 args=$4
    mkdir -p "$dir"
    sh "$repo/test/fixtures/make-rootfs.sh" "$dir/rootfs" "$work/rootfs.stamp" || exit 1
    (cd "$dir" && runc spec) || exit 1
    sed -i -e 's/"terminal": true/"terminal": false/' \
           -e 's|^\([[:space:]]*\)"sh"$|\1'"$args"'|' "$dir/config.json"
    if ! grep -q '"terminal": false' "$dir/config.json" || ! grep -qF "$args" "$dir/config.json"; then
        echo "$script: could not edit runc's default config.json" >&2
        exit 1
    fi
}

# bench_stats FILE: "MEDIAN P10 P90 MAX2" of FILE's lines "<microseconds> [<number>]": the first
# three in ms of the first column, MAX2 the largest second column (0 without one).
bench_stats() {
    sort -n "$1" | awk '
        { t[NR] = $1; if ($2 > m) m = $2 }
        END {
            med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            i10 = int(NR * 0.1 + 0.5); if (i10 < 1) i10 = 1
            i90 = int(NR * 0.9 + 0.5); if (i90 < 1) i90 = 1
            printf "%.2f %.2f %.2f %d\n", med / 1000, t[i10] / 1000, t[i90] / 1000, m
        }'
}
