import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Metrics } from "../../src/platform/metrics.ts";

describe("Metrics", () => {
  it("newest file age grows from the start until a file comes, then is that file's age", async () => {
    const m = new Metrics();
    const age = async () => (await m.newestFileAge.get()).values[0]!.value;
    await new Promise((r) => setTimeout(r, 1100));
    const beforeAny = await age();
    assert.ok(beforeAny >= 1 && beforeAny < 60, `time since start, not 0 (fresh): ${beforeAny}`);
    m.fileIngested(new Date(Date.now() - 600_000));
    assert.ok(Math.abs((await age()) - 600) < 5, "the file's age, even though it is older than the start");
    m.fileIngested(new Date(Date.now() - 1_200_000));
    assert.ok(Math.abs((await age()) - 600) < 5, "an older file does not make it older");
  });
});
