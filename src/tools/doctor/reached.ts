import type { DoctorContext } from "./types.ts";

/** The runs whose OpenSearch check reached the cluster: the OpenSearch checks after it skip otherwise. */
const opensearchUp = new WeakSet<DoctorContext>();

export function markOpenSearchUp(ctx: DoctorContext): void {
  opensearchUp.add(ctx);
}

export function isOpenSearchUp(ctx: DoctorContext): boolean {
  return opensearchUp.has(ctx);
}
