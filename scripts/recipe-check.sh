#!/usr/bin/env bash
# Walks docs/ARCHITECTURE.md's recipes "Add a mapped field" and "Add a fifth stream" on a scratch copy of
# this commit: a field in network_access's `connection`; then the fifth stream's name in EVENT_TYPES, its
# module in src/core/streams/, its line in STREAMS, its fixture; then the generated docs and the templates'
# revision (TEMPLATE_REVISION raised, the digest the pin test prints pinned). The copy must then
# typecheck and lint everywhere, pass the whole unit suite, and `produce` files holding the new field and
# the new stream that `validate` takes without a rejection or a deviation. Each step, skipped, must be
# noticed: without the generated docs the field table test fails, without the fixture the differential
# test does, without the new revision the pin test does, without the registration the compiler does. Exit 0 when all hold.
# `npm run check:recipe` (6 to 7 minutes on the shared 2-core machine, the unit suite most of it: too long for .ci/run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'git -C "$ROOT" worktree remove --force "$WORK/tree" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git -C "$ROOT" worktree add --detach -q "$WORK/tree" HEAD
cd "$WORK/tree"
ln -s "$ROOT/node_modules" node_modules
T0=$SECONDS
say() { printf 'recipe: %s\n' "$*"; }
fail() {
  printf 'recipe: %s\n' "$*" >&2
  exit 1
}
# `expect_failure <what> <command...>`: the command must fail (a skipped step is noticed)
expect_failure() {
  local what="$1"
  shift
  if "$@" >"$WORK/skip.log" 2>&1; then fail "$what"; fi
}

# ---- Add a mapped field: its line in its stream's module
sed -i 's/^\( *\)protocol: keyword({ doc: "tcp, udp, icmp" }),$/&\n\1tls_version: keyword({ doc: "TLS1.2, TLS1.3" }),/' \
  src/core/streams/network-access.ts
grep -q "tls_version: keyword" src/core/streams/network-access.ts ||
  fail "network_access's connection.protocol is not where the recipe check adds a field beside it"

# ---- Add a fifth stream
# 1. the name
sed -i 's/^export const EVENT_TYPES = \["network_access", "dns_filtering", "audit_log", "data_loss_prevention"\] as const;/export const EVENT_TYPES = [\n  "network_access",\n  "dns_filtering",\n  "audit_log",\n  "data_loss_prevention",\n  "posture_check",\n] as const;/' src/core/twingate.ts
grep -q '"posture_check",' src/core/twingate.ts || fail "EVENT_TYPES is not where the recipe says"
# 2. the module
cat >src/core/streams/posture-check.ts <<'TS'
/** `posture_check`: a made-up fifth stream, as the recipe adds one. */
import { keyword, object } from "./declare.ts";
import { defineStream } from "./stream.ts";

export const postureCheck = defineStream(
  "posture_check",
  {
    result: keyword({ req: true, doc: "passed, failed" }),
    user: object({ id: keyword(), email: keyword({ lower: true }) }),
  },
  (e, w) => {
    const failed = e.result === "failed";
    w.event("posture_check", ["host"], ["info"], e.result, failed ? "failure" : "success");
    w.user(e.user);
  },
);
TS
cp src/core/streams/index.ts "$WORK/index.ts.orig"
# 3. the registration
sed -i 's#^import { networkAccess } from "./network-access.ts";#import { networkAccess } from "./network-access.ts";\nimport { postureCheck } from "./posture-check.ts";#; s#^  data_loss_prevention: dataLossPrevention,#  data_loss_prevention: dataLossPrevention,\n  posture_check: postureCheck,#' src/core/streams/index.ts
grep -q "posture_check: postureCheck" src/core/streams/index.ts || fail "STREAMS is not where the recipe says"
# 4. the fixture (noticed when skipped: the differential test reads every stream's)
expect_failure "the tests did not notice a stream without its fixture" \
  node --import tsx --test --test-name-pattern "accepts every valid seed" test/unit/events-fastpath.test.ts
echo '{"event_type":"posture_check","event":{"version":1,"time":"2025-07-25T18:19:41.236597+00:00","result":"failed","user":{"id":"1","email":"Jane@TwinDemo.com"}}}' >test/fixtures/files/posture_check.json

# 5. the generated docs (noticed when skipped: the field table test)
expect_failure "the tests did not notice docs/MAPPINGS.md's field table left as it was" \
  node --import tsx --test --test-name-pattern "field table" test/unit/streams.test.ts
npx tsx scripts/field-table.ts >/dev/null
npx tsx dashboards/build.ts >/dev/null

# 6. the templates' revision, for rolling upgrades (noticed when skipped: the pin test, which prints the digest)
node --import tsx --test --test-name-pattern "one content per revision" test/unit/setup.test.ts >"$WORK/pin.log" 2>&1 &&
  fail "the tests did not notice the templates' content changed under the same TEMPLATE_REVISION"
DIGEST="$(grep -o 'pin [0-9a-f]\{16\}' "$WORK/pin.log" | head -1 | cut -d' ' -f2)"
[ -n "$DIGEST" ] || fail "the revision test printed no digest to pin"
REV="$(grep -o '^export const TEMPLATE_REVISION = [0-9]*' src/platform/opensearch/templates.ts | grep -o '[0-9]*$')"
sed -i "s/^export const TEMPLATE_REVISION = $REV;/export const TEMPLATE_REVISION = $((REV + 1));/" \
  src/platform/opensearch/templates.ts
sed -i "s/^\( *\)$REV: \"[0-9a-f]*\",$/&\n\1$((REV + 1)): \"$DIGEST\",/" test/unit/setup.test.ts
grep -q "$((REV + 1)): \"$DIGEST\"" test/unit/setup.test.ts || fail "the revision pins are not where the recipe says"
say "the steps are in ($((SECONDS - T0)) s)"

# ---- nothing else needs an edit
say "typecheck and lint, everywhere"
npx tsc --noEmit -p . || fail "the new field or stream needs an edit the recipe does not name (above)"
npx biome ci --colors=off . >"$WORK/lint.log" 2>&1 || {
  cat "$WORK/lint.log"
  fail "lint"
}
say "the whole unit suite"
node scripts/run-tests.mjs --unit >"$WORK/unit.log" 2>&1 || {
  grep -B2 -A25 "✖" "$WORK/unit.log" | head -150
  grep "^ℹ" "$WORK/unit.log"
  fail "the unit suite fails with the new field and stream (above)"
}
grep -E "^ℹ (pass|fail)" "$WORK/unit.log" | sed 's/^/  /'
say "produce a folder of files and validate it"
npx tsx src/cli/main.ts produce --json --dir "$WORK/out" --from 2025-07-25T18:00:00Z --to 2025-07-25T18:15:00Z \
  --events-per-file 400 --seed 5 --drift-rate 0 >"$WORK/produced.json" 2>"$WORK/produce.log" || {
  cat "$WORK/produce.log"
  fail "produce"
}
npx tsx src/cli/main.ts validate --json "$WORK/out" >"$WORK/validated.json" || fail "validate"
node - "$WORK/produced.json" "$WORK/validated.json" "$WORK/out" <<'JS'
const { readFileSync, readdirSync } = require("node:fs");
const [produced, validated] = process.argv.slice(2, 4).map((f) => JSON.parse(readFileSync(f, "utf8")));
const dir = process.argv[4];
const problems = [];
const check = (ok, what) => ok || problems.push(what);
const records = readdirSync(dir).flatMap((f) =>
  readFileSync(`${dir}/${f}`, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)),
);
const posture = records.filter((r) => r.event_type === "posture_check");
const net = records.filter((r) => r.event_type === "network_access");
check(posture.length > 0 && produced.by_event_type.posture_check === posture.length, "posture_check records produced");
check(posture.every((r) => ["passed", "failed"].includes(r.event.result)), "posture_check results from the declaration's doc");
check(net.some((r) => typeof r.event.connection.tls_version === "string"), "network_access records with the new field");
check(validated.records === produced.records && validated.valid === produced.valid, "every record valid");
check(validated.rejected === 0, "no rejection");
check(JSON.stringify(validated.by_event_type, Object.keys(produced.by_event_type).sort()) ===
  JSON.stringify(produced.by_event_type, Object.keys(produced.by_event_type).sort()), "validate counts what produce wrote, per stream");
// the vendor's own empty ip after a resolve failure is the one deviation the producer writes (drift is off)
const deviations = Object.keys(validated.deviations_by_path).filter((p) => p !== "event.resource.ip:emptied");
check(deviations.length === 0, `no deviation (${deviations.join(", ")})`);
if (problems.length > 0) {
  console.error(`recipe: produce/validate: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`  ${records.length} records, ${posture.length} posture_check, ${net.filter((r) => r.event.connection.tls_version).length} with connection.tls_version; validate: all valid`);
JS

say "the registration skipped: the compiler must notice"
cp "$WORK/index.ts.orig" src/core/streams/index.ts
expect_failure "the compiler did not notice a stream left out of STREAMS" npx tsc --noEmit -p .
grep -m1 "src/core/streams/index.ts" "$WORK/skip.log" | sed 's/^/  /'
say "ok ($((SECONDS - T0)) s)"
