#!/usr/bin/env bash
# Builds the S3 server that the blob tests run against, once, and prints its
# path: the Versity S3 Gateway (Apache-2.0; S3 over a POSIX folder), from the
# Go module proxy, into the user cache folder, where the tests look for it
# (or at $EXPERTIZA_S3_SERVER, if set). Debian 12 packages no S3 server that
# runs without a cluster (radosgw needs Ceph), hence the build.
#
#   bash server/blob/testdata/s3server.sh
#
# A cold build takes about 2 minutes on 2 cores and needs Go; the binary is
# about 60 MB. Later runs find it and return at once.
set -euo pipefail

version=v1.8.0 # keep in step with s3ServerVersion in server/blob/s3harness_test.go
bin=${EXPERTIZA_S3_SERVER:-${XDG_CACHE_HOME:-$HOME/.cache}/expertiza/versitygw-$version/versitygw}
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

dir=$(dirname "$bin")
mkdir -p "$dir"
work=$(mktemp -d "$dir/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" # outside any module, so no go.mod or go.work steers the build

# Private module and build caches: the build pulls ~340 MB of modules and
# leaves ~430 MB of compiled packages that nothing else would reuse.
echo "building versitygw $version into $dir (about 2 minutes)" >&2
GOFLAGS=-modcacherw GOMODCACHE="$work/mod" GOCACHE="$work/cache" GOBIN="$work/bin" CGO_ENABLED=0 \
	go install -trimpath -ldflags='-s -w' "github.com/versity/versitygw/cmd/versitygw@$version"
mv "$work/bin/versitygw" "$bin"
echo "$bin"
