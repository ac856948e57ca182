/** The reason a call given up on by `withDeadline` rejects with. */
export class DeadlineError extends Error {
  override name = "DeadlineError";
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${ms} ms`);
  }
}

/**
 * Runs `call` with a signal that aborts after `ms` or when `parent` aborts, and settles no later than
 * that even if the call ignores its signal: an answer that never comes (a connection silently dropped,
 * an endpoint that hangs) cannot keep the caller waiting. The call may still take effect remotely, so
 * use this only for calls that are safe to repeat or to give up on.
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  parent: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  if (parent?.aborted) throw parent.reason;
  const onParent = () => ac.abort(parent?.reason);
  parent?.addEventListener("abort", onParent, { once: true });
  const timer = setTimeout(() => ac.abort(new DeadlineError(what, ms)), ms);
  const gaveUp = new Promise<never>((_, reject) =>
    ac.signal.addEventListener("abort", () => reject(ac.signal.reason), { once: true }),
  );
  gaveUp.catch(() => undefined);
  try {
    const answer = call(ac.signal);
    answer.catch(() => undefined); // once given up on, its late failure is nobody's business
    return await Promise.race([answer, gaveUp]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", onParent);
  }
}
