#!/bin/sh
# Sandbox a CI build with rt, in three lines: make a bundle from the build image, point it at the
# checkout, run it. The job's exit status is the build's; the container is deleted when it ends.
#
#   contrib/examples/ci-sandbox.sh IMAGE.tar NAME[:TAG] [JOB-ID]     (as root, in the checkout)
#
# IMAGE.tar is a `docker save` archive (rt-unpack also reads OCI layouts with --oci DIR and Docker
# 0.x graph directories with --graph DIR). The checkout ($PWD) is bound read-write at /src; the
# container has its own network namespace with only lo, the device rules and capabilities of rt's
# default (`man rt`, spec), 2 GiB of memory and at most 512 processes.
set -eu
image=$1 name=$2 job=${3:-job-$$}
B=$(mktemp -d "${TMPDIR:-/tmp}/rt-ci.XXXXXX")
trap 'rm -rf -- "$B"' EXIT
rmdir -- "$B"  # rt-unpack makes the bundle directory itself

rt-unpack unpack --archive "$image" "$name" "$B"
rt spec -b "$B" --bind "$PWD":/src --cwd /src --memory 2g --pids 512 -- make test
rt run -b "$B" "$job"
