import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createTaskQueue, FifoQueue } from "../../src/platform/util/queue.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

describe("task queue (p-queue with FifoQueue)", () => {
  it("runs tasks first in, first out, at most `concurrency` at once", async () => {
    const q = createTaskQueue(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        q.add(async () => {
          running++;
          most = Math.max(most, running);
          order.push(i);
          await new Promise((r) => setTimeout(r, 1));
          running--;
        }),
      ),
    );
    assert.equal(most, 2);
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it("keeps nothing of a task once it is taken, even when the queue never drains", async () => {
    const q = createTaskQueue(1);
    let collected = 0;
    const registry = new FinalizationRegistry(() => {
      collected++;
    });
    // Always one task waiting (the sink's situation under load): the queue never empties.
    const n = 300;
    let done = 0;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const payload = { data: new Array(1000).fill(i) };
      registry.register(payload, i);
      all.push(
        q.add(async () => {
          if (payload.data.length !== 1000) throw new Error("payload");
          done++;
        }),
      );
    }
    // Then one task that holds its slot and one waiting behind it, until the check is done.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const blocker = q.add(() => held);
    const tail = q.add(async () => undefined);
    await Promise.all(all);
    all.length = 0;
    assert.equal(done, n);
    assert.equal(q.size, 1, "the queue has not drained");
    // Finalisers run some time after a collection: give them a few rounds.
    for (let i = 0; i < 30 && collected < n - 10; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    release();
    await Promise.all([blocker, tail]);
    // p-queue's default queue keeps ~50 of them here: the bound tells the two apart.
    assert.ok(collected >= n - 10, `only ${collected} of ${n} finished tasks' data was collected`);
  });

  it("FifoQueue: size, filter, remove", () => {
    const f = new FifoQueue();
    const a = async () => 1;
    const b = async () => 2;
    f.enqueue(a, { id: "a" });
    f.enqueue(b, { id: "b" });
    assert.equal(f.size, 2);
    assert.deepEqual(f.filter({}), [a, b]);
    f.remove("a");
    assert.equal(f.size, 1);
    assert.equal(f.dequeue(), b);
    assert.equal(f.dequeue(), undefined);
    assert.equal(f.size, 0);
  });
});
