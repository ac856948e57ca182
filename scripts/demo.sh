#!/usr/bin/env bash
# The README's demo, on a fresh machine: install dependencies when missing, bring the local stack up
# (OpenSearch + the S3/SQS/SNS emulator, installed on first use), then run the demo: index templates,
# a producer writing half an hour of Twingate files into S3 (which notifies SQS), the worker ingesting
# them, and a report of what landed where.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi
echo "==> local stack"
bash scripts/stack.sh up
eval "$(bash scripts/stack.sh env)"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true  # pinned SDK; see README
exec node --import tsx scripts/demo.ts "$@"
