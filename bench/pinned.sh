#!/usr/bin/env bash
# Runs a benchmark command with OpenSearch alone on CPU 0 and everything else (the command, moto) on the
# other CPUs, then gives both back every CPU. A model of production, where OpenSearch runs on its own hosts
# and S3/SQS are AWS's: on a shared small machine the pipeline's CPU otherwise comes out of OpenSearch's
# share, so "pipeline / raw _bulk ceiling" measures CPU contention, not whether the worker keeps OpenSearch
# busy (docs/BENCHMARKS.md, "Latency-bound"). The stack must have been started by scripts/stack.sh up.
#
#   bash bench/pinned.sh node --import tsx bench/wan.ts --files 400 ...   (npm run bench:wan:pinned -- ...)
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "pinned: $*" >&2; exit 2; }
command -v taskset >/dev/null || die "taskset (util-linux) is needed"
n="$(nproc --all)"
[ "$n" -ge 2 ] || die "needs at least 2 CPUs (this machine has $n)"
pids="$(bash scripts/stack.sh pids)"
os="$(awk '$1 == "opensearch" { print $2 }' <<<"$pids")"
moto="$(awk '$1 == "moto" { print $2 }' <<<"$pids")"
[ -n "$os" ] || die "no OpenSearch started by scripts/stack.sh is running (bash scripts/stack.sh up)"
all="0-$((n - 1))"
rest="1-$((n - 1))"
restore() {
  taskset -a -p -c "$all" "$os" >/dev/null 2>&1 || true
  [ -z "$moto" ] || taskset -a -p -c "$all" "$moto" >/dev/null 2>&1 || true
}
trap restore EXIT
taskset -a -p -c 0 "$os" >/dev/null
[ -z "$moto" ] || taskset -a -p -c "$rest" "$moto" >/dev/null
echo "pinned: OpenSearch (pid $os) on CPU 0; moto${moto:+ (pid $moto)} and the benchmark on CPU $rest" >&2
BENCH_PINNED=1 taskset -c "$rest" "$@"
