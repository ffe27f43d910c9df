#!/bin/bash
# From a fresh Debian 12 checkout to a running container, as root, in the repo root:
#
#   bash contrib/demo.sh
#
# 1. installs the build dependencies with apt-get (skip with RT_DEMO_NO_APT=1),
# 2. builds rt with meson + ninja into build/,
# 3. makes a bundle in a temp dir: a rootfs around Debian's static busybox
#    (test/fixtures/make-rootfs.sh) and the config.json
#    `rt spec -- sh -c 'echo hello from rt; hostname'` writes (rt's default, that command),
# 4. runs it: ./build/runtime/rt run -b BUNDLE demo
#
# Safe to run again: the build is incremental, a leftover "demo" container is removed first and
# the bundle is deleted on exit. The exit code is the container's.
set -eu

cd "$(dirname -- "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    echo "demo.sh: run me as root (rt needs it to create namespaces and cgroups)" >&2
    exit 1
fi

if [ "${RT_DEMO_NO_APT:-0}" != 1 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y meson ninja-build g++ pkg-config libseccomp-dev libcap-ng-dev \
        nlohmann-json3-dev libarchive-dev zlib1g-dev libzstd-dev liblzma-dev libssl-dev \
        libcxxopts-dev catch2 busybox-static \
        runc crun iproute2 util-linux procps tar gzip zstd xz-utils coreutils umoci skopeo
fi

if [ ! -f build/build.ninja ]; then
    meson setup build
fi
ninja -C build

rt=$PWD/build/runtime/rt
bundle=$(mktemp -d "${TMPDIR:-/tmp}/rt-demo.XXXXXX")
trap 'rm -rf -- "$bundle"' EXIT

sh test/fixtures/make-rootfs.sh "$bundle/rootfs" "$bundle/rootfs.stamp"
"$rt" spec -b "$bundle" -- sh -c 'echo hello from rt; hostname'

# A container left behind by an interrupted earlier run would make the id clash.
"$rt" delete --force demo >/dev/null 2>&1 || true

set +e
"$rt" run -b "$bundle" demo
status=$?
set -e
echo "demo.sh: container exited with status $status"
exit "$status"
