#!/usr/bin/env bash
# Walks docs/ARCHITECTURE.md's recipe "Add a fifth stream" on a scratch copy of this commit: the stream's name
# in EVENT_TYPES, its module in src/core/streams/, its line in STREAMS, its fixture, the generated docs. The
# copy must then typecheck everywhere but the places the recipe says the compiler names (the producer's
# per-stream generator and the tests' per-stream tables) and pass the tests that derive from the
# declarations; with the registration skipped it must not typecheck. Exit 0 when all hold.
# `npm run check:recipe`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'git -C "$ROOT" worktree remove --force "$WORK/tree" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git -C "$ROOT" worktree add --detach -q "$WORK/tree" HEAD
cd "$WORK/tree"
ln -s "$ROOT/node_modules" node_modules

# 1. the name
sed -i 's/^export const EVENT_TYPES = \["network_access", "dns_filtering", "audit_log", "data_loss_prevention"\] as const;/export const EVENT_TYPES = ["network_access", "dns_filtering", "audit_log", "data_loss_prevention", "posture_check"] as const;/' src/core/twingate.ts
grep -q '"posture_check"\] as const' src/core/twingate.ts || { echo "recipe: EVENT_TYPES is not where the recipe says" >&2; exit 1; }
# 2. the module
cat >src/core/streams/posture-check.ts <<'TS'
/** `posture_check`: a made-up fifth stream, as the recipe adds one. */
import { keyword, object } from "./declare.ts";
import { ecsEvent, type Json, OBSERVER, userOf } from "./ecs.ts";
import { defineStream } from "./stream.ts";

export const postureCheck = defineStream(
  "posture_check",
  {
    result: keyword({ req: true, doc: "passed, failed" }),
    user: object({ id: keyword(), email: keyword({ lower: true }) }),
  },
  (e): Json => {
    const failed = e.result === "failed";
    const out: Json = {
      event: ecsEvent("posture_check", ["host"], ["info"], e.result, failed ? "failure" : "success"),
      observer: OBSERVER,
    };
    const user = userOf(e.user);
    if (user) out["user"] = user;
    return out;
  },
);
TS
cp src/core/streams/index.ts "$WORK/index.ts.orig"
# 3. the registration
sed -i 's#^import { networkAccess } from "./network-access.ts";#import { networkAccess } from "./network-access.ts";\nimport { postureCheck } from "./posture-check.ts";#; s#^  data_loss_prevention: dataLossPrevention,#  data_loss_prevention: dataLossPrevention,\n  posture_check: postureCheck,#' src/core/streams/index.ts
grep -q "posture_check: postureCheck" src/core/streams/index.ts || { echo "recipe: STREAMS is not where the recipe says" >&2; exit 1; }
# 4. the fixture
echo '{"event_type":"posture_check","event":{"version":1,"time":"2025-07-25T18:19:41.236597+00:00","result":"failed","user":{"id":"1","email":"Jane@TwinDemo.com"}}}' >test/fixtures/files/posture_check.json

# 5. the generated docs
npx tsx scripts/field-table.ts >/dev/null
npx tsx dashboards/build.ts >/dev/null

echo "recipe: typecheck with the fifth stream: only the places the recipe lists may need it (the producer, tests)"
npx tsc --noEmit -p . >"$WORK/tsc5.log" 2>&1 || true
if grep -E "^src/" "$WORK/tsc5.log" | grep -vE "^src/tools/produce/"; then
  echo "recipe: a place outside the recipe needs the new stream (above)" >&2
  exit 1
fi
grep -oE "^(src|test)/[^(]+" "$WORK/tsc5.log" | sort -u | sed 's/^/  named by the compiler: /'
echo "recipe: the tests that derive from the declarations"
node --import tsx --test --test-name-pattern "field table|every declared field is mapped|ECS builder|mappings against|index pattern|templates" \
  test/unit/streams.test.ts test/unit/data-quality.test.ts test/unit/dashboards.test.ts test/unit/setup.test.ts
echo "recipe: a step skipped (no registration) must not typecheck"
cp "$WORK/index.ts.orig" src/core/streams/index.ts
if npx tsc --noEmit -p . >"$WORK/tsc.log" 2>&1; then
  echo "recipe: the compiler did not notice a stream left out of STREAMS" >&2
  exit 1
fi
grep -m1 "src/core/streams/index.ts" "$WORK/tsc.log"
echo "recipe: ok"
