import PQueue, { type QueueAddOptions } from "p-queue";

type RunFunction = () => Promise<unknown>;

/**
 * First-in first-out task list for p-queue that lets go of each task as it is taken.
 *
 * p-queue 9's default (priority) queue leaves taken tasks in its array until it compacts, which it
 * does only once more than 100 are there, or when it drains completely. A queue kept busy never
 * drains: the bulk sink's queue held up to ~100 finished batches (the task closures keep their
 * batch, 2,000 documents each, and their settled response) and a 100 MB file peaked at ~500 MB RSS.
 * Priorities are not used anywhere in this project, so plain FIFO order is all it needs.
 */
export class FifoQueue {
  #items: ({ run: RunFunction; id: string | undefined } | undefined)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  enqueue(run: RunFunction, options?: Partial<QueueAddOptions>): void {
    this.#items.push({ run, id: options?.id });
  }

  dequeue(): RunFunction | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // the task is the caller's now; keep nothing of it
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item?.run;
  }

  filter(_options: Readonly<Partial<QueueAddOptions>>): RunFunction[] {
    const out: RunFunction[] = [];
    for (let i = this.#head; i < this.#items.length; i++) out.push(this.#items[i]!.run);
    return out;
  }

  remove(id: string): void {
    const i = this.#items.findIndex((item, k) => k >= this.#head && item?.id === id);
    if (i !== -1) this.#items.splice(i, 1);
  }

  setPriority(_id: string, _priority: number): void {
    throw new Error("FifoQueue has no priorities");
  }
}

/** A p-queue that holds nothing of the tasks it has started (see FifoQueue). */
export type TaskQueue = PQueue<FifoQueue, QueueAddOptions>;

export function createTaskQueue(concurrency: number): TaskQueue {
  return new PQueue({ concurrency, queueClass: FifoQueue });
}
