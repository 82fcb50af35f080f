#!/usr/bin/env bash
# Builds the pinned Fabric v2.5.0 and Fabric CA binaries from the Go module proxy, once per pin.
# The cache lives outside the clone (keyed by a hash of tools/fabric/go.mod + go.sum), so fresh clones
# (CI) and later sessions reuse it. Prints the bin directory on stdout; build output goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mod="$root/tools/fabric"
key=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-16)
cache="${CASELEDGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caseledger}"
bin="$cache/fabric-2.5.0-$key/bin"
tools=(peer orderer configtxgen configtxlator osnadmin fabric-ca-server fabric-ca-client)

complete() { for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || return 1; done; }

if ! complete; then
  mkdir -p "$cache"
  # One builder at a time (parallel test packages may ask at once).
  exec 9>"$cache/.build.lock"
  flock 9
  if ! complete; then
    start=$(date +%s)
    tmp="$bin.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    echo "fabric-bins: building Fabric v2.5.0 and Fabric CA v1.5.15 into $bin (cold build, a few minutes)" >&2
    (
      cd "$mod"
      export GOFLAGS=-mod=mod CGO_ENABLED=1
      ldf="-X github.com/hyperledger/fabric/common/metadata.Version=2.5.0"
      for t in peer orderer configtxgen configtxlator osnadmin; do
        go build -trimpath -ldflags "$ldf" -o "$tmp/$t" "github.com/hyperledger/fabric/cmd/$t"
      done
      caldf="-X github.com/hyperledger/fabric-ca/lib/metadata.Version=1.5.15"
      for t in fabric-ca-server fabric-ca-client; do
        go build -trimpath -ldflags "$caldf" -o "$tmp/$t" "github.com/hyperledger/fabric-ca/cmd/$t"
      done
    ) >&2
    rm -rf "$bin" && mkdir -p "$(dirname "$bin")" && mv "$tmp" "$bin"
    echo "fabric-bins: built in $(( $(date +%s) - start ))s" >&2
  fi
fi
echo "$bin"
