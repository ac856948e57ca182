import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineError, withDeadline } from "../../src/platform/util/deadline.ts";

describe("withDeadline", () => {
  it("returns the answer when it comes in time, and passes a live signal", async () => {
    const v = await withDeadline("call", 1000, undefined, async (signal) => {
      assert.equal(signal.aborted, false);
      return 42;
    });
    assert.equal(v, 42);
  });

  it("gives up on a call that never answers, even one that ignores its signal", async () => {
    let seen: AbortSignal | undefined;
    const never = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    };
    await assert.rejects(withDeadline("ReceiveMessage", 30, undefined, never), (err: unknown) => {
      assert.ok(err instanceof DeadlineError);
      assert.equal(err.message, "ReceiveMessage: no answer within 30 ms");
      return true;
    });
    assert.equal(seen?.aborted, true, "the call's signal was aborted too");
  });

  it("passes the call's own failure through", async () => {
    await assert.rejects(
      withDeadline("call", 1000, undefined, async () => {
        throw new Error("denied");
      }),
      /denied/,
    );
  });

  it("ends at once with the parent's reason when the parent aborts, before or during the call", async () => {
    const before = new AbortController();
    before.abort(new Error("stopping"));
    let called = false;
    await assert.rejects(
      withDeadline("call", 1000, before.signal, async () => {
        called = true;
      }),
      /stopping/,
    );
    assert.equal(called, false);
    const during = new AbortController();
    const p = withDeadline("call", 60_000, during.signal, () => new Promise<never>(() => undefined));
    during.abort(new Error("shutdown"));
    await assert.rejects(p, /shutdown/);
  });

  it("leaves no listener on the parent signal and no timer behind", async () => {
    const parent = new AbortController();
    let added = 0;
    let removed = 0;
    const add = parent.signal.addEventListener.bind(parent.signal);
    const remove = parent.signal.removeEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((...a: Parameters<typeof add>) => {
      added++;
      return add(...a);
    }) as typeof add;
    parent.signal.removeEventListener = ((...a: Parameters<typeof remove>) => {
      removed++;
      return remove(...a);
    }) as typeof remove;
    for (let i = 0; i < 5; i++) await withDeadline("call", 60_000, parent.signal, async () => i);
    assert.equal(added, 5);
    assert.equal(removed, 5);
    // A 60 s timer left behind would keep this test file alive for a minute; node --test would report it.
  });
});
