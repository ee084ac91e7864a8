#!/usr/bin/env bash
# Builds the Kubernetes control plane binaries that the integration tests run:
# kube-apiserver and etcd from the wrapper module in tools/, and kwok. Set
# WITH_CONTROLLERS=1 to also build kube-controller-manager and kube-scheduler.
#
# The binaries go to $RIPOSTE_K8S_BIN, by default a versioned directory under
# ${XDG_CACHE_HOME:-$HOME/.cache}/riposte/k8s-bin. A stamp file makes a second
# run a no-op; with a warm Go build cache a rebuild only links.
#
# The script prints the binary directory as its last line of output.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
k8s_version=v1.37.2
etcd_version=v3.7.3
kwok_version=v0.8.0
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/riposte/k8s-bin
out=${RIPOSTE_K8S_BIN:-$cache_root/k8s-$k8s_version-etcd-$etcd_version-kwok-$kwok_version}

stamp="$out/.stamp-k8s-$k8s_version-etcd-$etcd_version-kwok-$kwok_version"
if [ "${WITH_CONTROLLERS:-0}" = 1 ]; then
	stamp="$stamp-controllers"
fi

# kwok has no built-in stages once it runs with a configuration file, so the
# harness passes it the "fast" node and pod stages that ship in the kwok
# module: nodes become Ready, pods Running, and deleted pods go away at once.
copy_kwok_stages() {
	local dir
	dir=$(cd "${TMPDIR:-/tmp}" && go mod download -json "sigs.k8s.io/kwok@$kwok_version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	if [ -z "$dir" ]; then
		echo "cannot find the sigs.k8s.io/kwok@$kwok_version module directory" >&2
		exit 1
	fi
	{
		for f in node/fast/node-initialize.yaml pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
			echo "---"
			cat "$dir/kustomize/stage/$f"
		done
	} >"$out/kwok-stages.yaml.tmp"
	mv "$out/kwok-stages.yaml.tmp" "$out/kwok-stages.yaml"
}

mkdir -p "$out"
if [ -f "$stamp" ]; then
	[ -f "$out/kwok-stages.yaml" ] || copy_kwok_stages
	echo "test binaries up to date" >&2
	echo "$out"
	exit 0
fi

# Without these the server reports version v0.0.0-master, which breaks clients
# that compare versions.
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

build() {
	local start=$SECONDS
	echo "building $1" >&2
	shift
	"$@"
	echo "  done in $((SECONDS - start)) s" >&2
}

cd "$here/tools"
build kube-apiserver go build -ldflags "$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
build etcd go build -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
# kwok is built outside the wrapper module because it uses an older k8s.io
# release than kube-apiserver; go install checks it against the checksum database.
build kwok env GOBIN="$out" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
if [ "${WITH_CONTROLLERS:-0}" = 1 ]; then
	build kube-controller-manager go build -ldflags "$ldflags" -o "$out/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
	build kube-scheduler go build -ldflags "$ldflags" -o "$out/kube-scheduler" k8s.io/kubernetes/cmd/kube-scheduler
fi

copy_kwok_stages
touch "$stamp"
echo "$out"
