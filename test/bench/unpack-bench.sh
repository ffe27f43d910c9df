#!/bin/bash
# Benchmark (not a test): one large layer unpacked into tmpfs by rt-unpack, umoci and GNU tar -x,
# uncompressed and gzip, in the same run. Prints the median wall time of each and the ratios
# rt-unpack/tar (target <= 1.2) and umoci/rt-unpack (target >= 2).
#
#   test/bench/unpack-bench.sh [-n RUNS] [--rt-unpack PATH] [--src DIR...]
#
#   -n            runs per tool and format (default 3; the median counts)
#   --rt-unpack   the binary (default build/runtime/rt-unpack)
#   --src         directories tarred into the layer (default /usr/lib/x86_64-linux-gnu, about
#                 1 GB here); repeatable
#
# Run as root (owners are restored by all three). The layer tar and its gzip are made once in a
# tmpfs and wrapped in an OCI layout (the same blobs for rt-unpack and umoci; tar reads them
# directly). Each run unpacks into an empty directory of a second tmpfs, removed between runs (not
# timed). rt-unpack checks both the blob digest and the DiffID (two SHA-256 passes for gzip), which
# tar does not do. Missing umoci is installed with apt-get; without it that leg is skipped.
set -u -o pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=3
unpack_bin=$repo/build/runtime/rt-unpack
srcs=()
while [ $# -gt 0 ]; do
    case $1 in
        -n) runs=$2; shift 2 ;;
        --rt-unpack) unpack_bin=$2; shift 2 ;;
        --src) srcs+=("$2"); shift 2 ;;
        *) echo "usage: $0 [-n RUNS] [--rt-unpack PATH] [--src DIR]..." >&2; exit 2 ;;
    esac
done
[ ${#srcs[@]} -gt 0 ] || srcs=(/usr/lib/x86_64-linux-gnu)
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 2; }
[ -x "$unpack_bin" ] || { echo "no rt-unpack at $unpack_bin (ninja -C build runtime/rt-unpack)" >&2; exit 2; }
command -v umoci >/dev/null || apt-get install -y umoci >/dev/null 2>&1 || true

work=$(mktemp -d /tmp/rt-unpack-bench.XXXXXX)
cleanup() {
    umount "$work/src" "$work/dst" 2>/dev/null
    rm -rf -- "$work"
}
trap cleanup EXIT
mkdir -p "$work/src" "$work/dst"
mount -t tmpfs -o size=6g tmpfs "$work/src"
mount -t tmpfs -o size=6g tmpfs "$work/dst"

echo "making the layer from ${srcs[*]} ..."
tar --numeric-owner -cf "$work/src/layer.tar" "${srcs[@]}" 2>/dev/null
gzip -1 -c "$work/src/layer.tar" > "$work/src/layer.tar.gz"
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
diffid=$(sha "$work/src/layer.tar")

# One OCI layout, two images: "plain" (tar layer) and "gzip" (tar+gzip layer).
oci=$work/src/oci
mkdir -p "$oci/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diffid" > "$work/cfg"
cfg=$(sha "$work/cfg"); cfgsize=$(size "$work/cfg"); mv "$work/cfg" "$oci/blobs/sha256/$cfg"
index='{"schemaVersion":2,"manifests":['
sep=
for kind in plain gzip; do
    if [ $kind = plain ]; then f=$work/src/layer.tar; mt=application/vnd.oci.image.layer.v1.tar
    else f=$work/src/layer.tar.gz; mt=application/vnd.oci.image.layer.v1.tar+gzip; fi
    d=$(sha "$f")
    ln "$f" "$oci/blobs/sha256/$d"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"%s","digest":"sha256:%s","size":%s}]}' \
        "$cfg" "$cfgsize" "$mt" "$d" "$(size "$f")" > "$work/m"
    m=$(sha "$work/m"); msize=$(size "$work/m"); mv "$work/m" "$oci/blobs/sha256/$m"
    index+="$sep"'{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$m"'","size":'"$msize"',"annotations":{"org.opencontainers.image.ref.name":"'"$kind"'"}}'
    sep=,
done
echo "$index]}" > "$oci/index.json"
printf 'layer: %s MB uncompressed, %s MB gzip (-1)\n' $(($(size "$work/src/layer.tar") / 1000000)) \
    $(($(size "$work/src/layer.tar.gz") / 1000000))

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# time_cmd CMD...: "wall cpu" seconds of one run into a fresh $work/dst/out (cpu = user + system
# of the command and its children, from GNU time: on a loaded machine it is the steadier figure).
time_cmd() {
    rm -rf "$work/dst/out"
    sync
    /usr/bin/time -o "$work/time" -f "%e %U %S" "$@" >/dev/null 2>"$work/err" ||
        { echo "FAILED: $* : $(head -c 300 "$work/err")" >&2; return 1; }
    awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$work/time"
}
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null 2>&1

declare -A result cpu
for kind in plain gzip; do
    if [ $kind = plain ]; then f=$work/src/layer.tar; zflag=; else f=$work/src/layer.tar.gz; zflag=z; fi
    for tool in tar rt-unpack umoci; do
        case $tool in
            tar) cmd=(sh -c "mkdir -p $work/dst/out && tar --numeric-owner -x${zflag}f $f -C $work/dst/out") ;;
            rt-unpack) cmd=("$unpack_bin" unpack --no-progress "$oci" "$kind" "$work/dst/out") ;;
            umoci) command -v umoci >/dev/null || continue
                   cmd=(umoci unpack --image "$oci:$kind" "$work/dst/out") ;;
        esac
        walls=()
        cpus=()
        for _ in $(seq "$runs"); do
            t=$(time_cmd "${cmd[@]}") || { walls=(); break; }
            walls+=("${t% *}")
            cpus+=("${t#* }")
        done
        [ ${#walls[@]} -gt 0 ] || continue
        result[$tool/$kind]=$(printf '%s\n' "${walls[@]}" | median)
        cpu[$tool/$kind]=$(printf '%s\n' "${cpus[@]}" | median)
        printf '%-10s %-6s median wall %6.2f s, cpu %6.2f s  (wall: %s)\n' "$tool" "$kind" \
            "${result[$tool/$kind]}" "${cpu[$tool/$kind]}" "${walls[*]}"
    done
done

echo
for kind in plain gzip; do
    r=${result[rt-unpack/$kind]:-}
    t=${result[tar/$kind]:-}
    u=${result[umoci/$kind]:-}
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
    [ -n "$r" ] && [ -n "$t" ] && printf '%-6s rt-unpack/tar   = %.2fx wall, %.2fx cpu (target <= 1.2)\n' "$kind" \
        "$(ratio "$r" "$t")" "$(ratio "${cpu[rt-unpack/$kind]}" "${cpu[tar/$kind]}")"
    [ -n "$r" ] && [ -n "$u" ] && printf '%-6s umoci/rt-unpack = %.2fx wall, %.2fx cpu (target >= 2)\n' "$kind" \
        "$(ratio "$u" "$r")" "$(ratio "${cpu[umoci/$kind]}" "${cpu[rt-unpack/$kind]}")"
done
