/**
 * Where indices are born: OpenSearch creates an index on the first write to a new name, from whatever
 * templates match it then. A sink given an `IndexGuard` asks it before the first write to each index name
 * (and again once `ready` says the answer is stale), so that no index is born without the tool's templates
 * (dynamic mappings: IPs as text, no geo_point, no alias) whatever happened to them since start-up.
 */
export interface IndexGuard {
  /** Synchronous and cheap (called per record when the index name changes): checked recently and fine. */
  ready(index: string): boolean;
  /**
   * Makes sure a write to `index` may create it from the templates (installing them when allowed). Throws
   * `TemplatesMissingError` when they are missing or outdated and may not be installed (the writer holds
   * and retries), or the request's own error (classified like a bulk request's).
   */
  ensure(index: string, signal?: AbortSignal): Promise<void>;
}

/** The templates are missing or outdated and this process may not install them: writes are held. */
export class TemplatesMissingError extends Error {
  override name = "TemplatesMissingError";
}
