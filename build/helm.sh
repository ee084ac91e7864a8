#!/usr/bin/env bash
# Builds helm from its Go module (no other download) into a cache directory
# outside the work tree, unless it is already there, and prints its path.
# The chart tests run this script; CI can run it ahead of them.
#
#   HELM_DIR   directory for the binary
#              (default ${XDG_CACHE_HOME:-$HOME/.cache}/riposte/helm-<version>)
set -euo pipefail

HELM_VERSION=v4.3.2
dir=${HELM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/riposte/helm-$HELM_VERSION}
helm="$dir/helm"

mkdir -p "$dir"
# One build at a time, even when several test binaries ask at once.
exec 9>"$dir/.lock"
flock 9

if [ ! -x "$helm" ]; then
	echo "building helm $HELM_VERSION into $dir (a few minutes the first time)" >&2
	tmp=$(mktemp -d "$dir/.build-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	GOBIN="$tmp" GOFLAGS=-buildvcs=false go install -trimpath \
		-ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
	mv "$tmp/helm" "$helm"
fi
echo "$helm"
