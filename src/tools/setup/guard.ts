/**
 * No index without the templates: the `IndexGuard` every writer of documents (worker, Lambda, backfill,
 * `gaps --repair`, replay) is given, and the start-up check built on it.
 *
 * Before the first write to an index name (and again once the answer is `recheckMs` old), the templates are
 * checked; when they are missing or outdated they are installed (`AUTO_SETUP`, the default) or, when that
 * is off or refused, the write is held with a reason that names `setup` (a write never goes ahead and lets
 * OpenSearch give the index dynamic mappings). Concurrent checks share one request round.
 */
import type { Client } from "@opensearch-project/opensearch";
import type { IndexPeriod } from "../../core/documents/period.ts";
import { type IndexGuard, TemplatesMissingError } from "../../core/sink/index-guard.ts";
import { classifyRequestError, httpStatusOf } from "../../core/sink/write-failure.ts";
import type { Logger } from "../../platform/logger.ts";
import { TEMPLATE_REVISION } from "../../platform/opensearch/templates.ts";
import { checkTemplates, runSetup } from "./setup.ts";

export { TemplatesMissingError } from "../../core/sink/index-guard.ts";

export interface TemplateGuardOptions {
  indexPrefix: string;
  indexPeriod?: IndexPeriod | undefined;
  /** Install (or update) the templates when missing or outdated (AUTO_SETUP). */
  autoSetup: boolean;
  /** How long a good answer for an index name holds before it is checked again (default 60 s). */
  recheckMs?: number;
  now?: () => number;
}

const DEFAULT_RECHECK_MS = 60_000;
/** Index names remembered at most (a backfill over years of daily indices); the oldest answers go first. */
const MAX_KNOWN = 10_000;

export class TemplateGuard implements IndexGuard {
  private readonly known = new Map<string, number>();
  private checking: Promise<void> | undefined;
  /** What the last check found wrong (templates missing and not installable), for /readyz; undefined once fine. */
  problem: string | undefined;
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Client,
    private readonly opts: TemplateGuardOptions,
    private readonly logger: Logger,
  ) {
    this.recheckMs = opts.recheckMs ?? DEFAULT_RECHECK_MS;
    this.now = opts.now ?? Date.now;
  }

  ready(index: string): boolean {
    const at = this.known.get(index);
    return at !== undefined && this.now() - at < this.recheckMs;
  }

  async ensure(index: string): Promise<void> {
    await this.check();
    this.known.delete(index);
    this.known.set(index, this.now());
    if (this.known.size > MAX_KNOWN) this.known.delete(this.known.keys().next().value as string);
  }

  /** One check (and install) at a time; callers arriving meanwhile share it. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce()
      .then(
        () => {
          this.problem = undefined;
        },
        (err: unknown) => {
          if (err instanceof TemplatesMissingError) this.problem = err.message;
          throw err;
        },
      )
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const prefix = this.opts.indexPrefix;
    const first = await checkTemplates(this.client, prefix);
    this.noteNewer(first.newer);
    if (first.missing.length === 0 && first.outdated.length === 0) return;
    const problem = templatesProblem(prefix, first);
    if (!this.opts.autoSetup) {
      throw new TemplatesMissingError(
        `${problem}: run \`twingate-ingest setup\` (or set AUTO_SETUP=true to let this process install them); nothing is written until then`,
      );
    }
    this.logger.warn({ ...first }, `${problem}: installing them (AUTO_SETUP)`);
    try {
      await runSetup(this.client, { indexPrefix: prefix, indexPeriod: this.opts.indexPeriod }, this.logger);
    } catch (err) {
      const status = httpStatusOf(err);
      const v = classifyRequestError(err);
      // A permission refused (not a block: a read-only cluster is waited for like any write)
      if ((status === 401 || status === 403) && v.kind === "hold" && v.cause === "permission") {
        throw new TemplatesMissingError(
          `${problem}, and installing them was refused (HTTP ${status}: ${errMessage(err)}): run \`twingate-ingest setup\` as a user that may (docs/SECURITY.md); nothing is written until then`,
        );
      }
      throw err;
    }
    const again = await checkTemplates(this.client, prefix);
    if (again.missing.length > 0 || again.outdated.length > 0) {
      throw new TemplatesMissingError(
        `${templatesProblem(prefix, again)} after installing them: run \`twingate-ingest setup\``,
      );
    }
  }

  private newerNoted = "";

  /**
   * A newer version's templates (a rolling upgrade): written with, never overwritten; said once per
   * change, not at every check.
   */
  private noteNewer(newer: string[]): void {
    const key = newer.join(",");
    if (key === this.newerNoted) return;
    this.newerNoted = key;
    if (newer.length === 0) return;
    this.logger.warn(
      { newer, revision: TEMPLATE_REVISION },
      `the index templates ${newer.join(", ")} were installed by a newer version of twingate-ingest: writing with them, not overwriting them (finish the rolling upgrade: docs/DEPLOY.md)`,
    );
  }
}

function templatesProblem(prefix: string, s: { missing: string[]; outdated: string[] }): string {
  const parts = [
    ...(s.missing.length > 0 ? [`missing: ${s.missing.join(", ")}`] : []),
    ...(s.outdated.length > 0 ? [`outdated: ${s.outdated.join(", ")}`] : []),
  ];
  return `the index templates for INDEX_PREFIX=${prefix} are not this version's (${parts.join("; ")})`;
}

function errMessage(err: unknown): string {
  const body = (err as { meta?: { body?: { error?: { reason?: string } | string } } } | null)?.meta?.body;
  const e = body?.error;
  const text = typeof e === "string" ? e : (e?.reason ?? (err instanceof Error ? err.message : String(err)));
  return text.slice(0, 300);
}
