#!/usr/bin/env bash
# Fetches the pinned axe-core (the accessibility engine the console's browser test injects into every
# page, docs/console.md) once per pin, with the npm client, into the cache outside the clone that
# scripts/fabric-bins.sh uses. The package's SHA-512 is pinned too: a different tarball is refused.
# Prints the path of axe.min.js on stdout. axe-core is MPL-2.0; its LICENSE is kept beside it.
set -euo pipefail
version=4.14.1
sha512=1477dafa598d8d065f273d6af302aa203c02e83131707b7fa648cd41bd3d6b734f8c22a0dab86ee6a6f64b8afbe804b214d36db85a2826965edfb3a0b9d546b5
cache="${CASELEDGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caseledger}"
dir="$cache/axe-core-$version"

if [[ ! -s $dir/axe.min.js ]]; then
  command -v npm >/dev/null || { echo "axe-core: npm is needed to fetch axe-core $version (apt-get install -y npm)" >&2; exit 1; }
  mkdir -p "$cache"
  exec 9>"$cache/.axe-core.lock" # one fetch at a time
  flock 9
  if [[ ! -s $dir/axe.min.js ]]; then
    tmp=$(mktemp -d "$cache/axe-core.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo "axe-core: fetching axe-core $version with npm into $dir" >&2
    (cd "$tmp" && npm pack --silent "axe-core@$version" >/dev/null)
    tgz="$tmp/axe-core-$version.tgz"
    got=$(sha512sum "$tgz" | cut -d' ' -f1)
    if [[ $got != "$sha512" ]]; then
      echo "axe-core: $tgz has SHA-512 $got, want $sha512" >&2
      exit 1
    fi
    tar -xzf "$tgz" -C "$tmp" package/axe.min.js package/LICENSE
    rm -rf "$dir" && mv "$tmp/package" "$dir"
  fi
fi
echo "$dir/axe.min.js"
