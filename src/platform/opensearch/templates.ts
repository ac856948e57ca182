/**
 * What `setup` installs, as plain data: component templates (settings, common mappings, one per stream,
 * quarantine), composable index templates for `<prefix>-<event_type>-*` and `<prefix>-quarantine-*`,
 * and an ISM retention policy. No ingest pipeline: the minimal distribution has no ingest modules, so
 * derived fields (dns.reasons, ingest.lag_ms) are computed by the document builder.
 * Each body carries `_meta.hash` (of its content) so `setup` and the worker's start-up check can tell
 * "installed and current" from "installed but different" without comparing OpenSearch's normalised echo,
 * and `_meta.revision` (TEMPLATE_REVISION) so that, of two versions running at once (a rolling upgrade with
 * AUTO_SETUP), the older never overwrites the newer's templates: it writes with them (docs/DEPLOY.md).
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../core/documents/index.ts";
import {
  type IndexPeriod,
  type PeriodRange,
  parsePeriodSuffix,
  periodMaxDays,
} from "../../core/documents/period.ts";
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import { commonMappings, eventMappings, LOWERCASE_ANALYSIS, quarantineMappings } from "./mappings.ts";

const MANAGED_BY = "twingate-ingest";

/**
 * The revision of the templates' content: raised by one whenever a change to the mappings, the index
 * templates or the components changes a hash (test/unit/setup.test.ts pins each revision's hashes, so a
 * change without a new revision fails there). A process never overwrites an object of a higher revision.
 */
export const TEMPLATE_REVISION = 1;

interface TemplateOptions {
  prefix: string;
  /** Primary shards per daily index. */
  shards: number;
  /** Replicas; 0 on a single-node cluster (setup detects it). */
  replicas: number;
  /** Default 5s: files arrive every ~5 minutes, so 1s refreshes would only cost merges. */
  refreshInterval: string;
}

export type Kind = "component_template" | "index_template";

export interface Managed {
  kind: Kind;
  name: string;
  /** Hash of the content, stored in the object's `_meta.hash`. */
  hash: string;
  /** TEMPLATE_REVISION, stored in the object's `_meta.revision`. */
  revision: number;
  body: Record<string, unknown>;
}

const indexPattern = (prefix: string, stream: EventType | "quarantine") => `${prefix}-${stream}-*`;
const aliasName = (prefix: string, type: EventType) => `${prefix}-${type}`;
export const ismPolicyName = (prefix: string) => `${prefix}-retention`;

function contentHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex").slice(0, 16);
}

function managed(kind: Kind, name: string, content: Record<string, unknown>): Managed {
  const hash = contentHash(content);
  const revision = TEMPLATE_REVISION;
  return {
    kind,
    name,
    hash,
    revision,
    body: { ...content, _meta: { managed_by: MANAGED_BY, hash, revision } },
  };
}

/** The hash stored in an installed template (as GET returns it), or undefined when it carries none. */
export function installedHash(installed: Record<string, unknown>): string | undefined {
  const meta = installed["_meta"] as Record<string, unknown> | undefined;
  return typeof meta?.["hash"] === "string" ? meta["hash"] : undefined;
}

/**
 * The revision stored in an installed template; 0 when it carries none (installed before revisions were
 * recorded, or not by this tool).
 */
export function installedRevision(installed: Record<string, unknown>): number {
  const meta = installed["_meta"] as Record<string, unknown> | undefined;
  const r = meta?.["revision"];
  return typeof r === "number" && Number.isInteger(r) && r >= 0 ? r : 0;
}

/**
 * An installed object against this version's: `current` (same content), `newer` (a higher revision: a
 * newer version of the tool installed it; left as it is) or `outdated` (a lower or equal revision with other
 * content: this version installs its own).
 */
export function compareInstalled(
  installed: Record<string, unknown>,
  m: Pick<Managed, "hash" | "revision">,
): "current" | "newer" | "outdated" {
  if (installedHash(installed) === m.hash) return "current";
  return installedRevision(installed) > m.revision ? "newer" : "outdated";
}

/** Everything setup installs, in dependency order (components before the index templates using them). */
export function managedObjects(o: TemplateOptions): Managed[] {
  const p = o.prefix;
  const out: Managed[] = [];
  const settings = {
    number_of_shards: o.shards,
    number_of_replicas: o.replicas,
    refresh_interval: o.refreshInterval,
  };
  out.push(managed("component_template", `${p}-settings`, { template: { settings: { index: settings } } }));
  // The mapping components carry the normalizer their case-blind keywords use: OpenSearch validates each
  // component on its own, so one defined in the settings component is not found there.
  const analysis = { analysis: LOWERCASE_ANALYSIS };
  out.push(
    managed("component_template", `${p}-mappings-common`, {
      template: { settings: analysis, mappings: commonMappings() },
    }),
  );
  for (const t of EVENT_TYPES) {
    out.push(
      managed("component_template", `${p}-mappings-${t}`, {
        template: { settings: analysis, mappings: eventMappings(t) },
      }),
    );
  }
  out.push(
    managed("component_template", `${p}-mappings-quarantine`, {
      template: { mappings: quarantineMappings() },
    }),
  );
  for (const t of EVENT_TYPES) {
    out.push(
      managed("index_template", `${p}-${t}`, {
        index_patterns: [indexPattern(p, t)],
        priority: 200,
        composed_of: [`${p}-settings`, `${p}-mappings-common`, `${p}-mappings-${t}`],
        template: { aliases: { [aliasName(p, t)]: {} } },
      }),
    );
  }
  out.push(
    managed("index_template", `${p}-quarantine`, {
      index_patterns: [indexPattern(p, "quarantine")],
      priority: 200,
      composed_of: [`${p}-settings`, `${p}-mappings-quarantine`],
    }),
  );
  return out;
}

/**
 * ISM policy: delete the tool's indices `days` after creation, plus the rest of their period for week and
 * month indices (ISM only knows an index's creation, at its period's first document: a month index is kept
 * `days` + 30 days, so that its last day's documents are kept `days`).
 */
export function ismPolicyBody(
  prefix: string,
  days: number,
  period: IndexPeriod = "day",
): Record<string, unknown> {
  const age = days + periodMaxDays(period) - 1;
  const policy = {
    default_state: "hot",
    states: [
      {
        name: "hot",
        actions: [],
        transitions: [{ state_name: "delete", conditions: { min_index_age: `${age}d` } }],
      },
      { name: "delete", actions: [{ delete: {} }], transitions: [] },
    ],
    ism_template: [
      {
        index_patterns: [
          ...EVENT_TYPES.map((t) => indexPattern(prefix, t)),
          indexPattern(prefix, "quarantine"),
        ],
        priority: 100,
      },
    ],
  };
  return {
    policy: {
      description: `${MANAGED_BY} retention ${days}d${period === "day" ? "" : ` (${period} indices)`} hash:${contentHash(policy)}`,
      ...policy,
    },
  };
}

/**
 * The index names this tool writes, of any period (`<prefix>-<stream>-YYYY.MM.DD`, `-YYYY.wWW`, `-YYYY.MM`):
 * the period they hold, or null for any other name.
 */
export function periodIndexRange(prefix: string, index: string): PeriodRange | null {
  for (const s of [...EVENT_TYPES, "quarantine"]) {
    const head = `${prefix}-${s}-`;
    if (index.startsWith(head)) return parsePeriodSuffix(index.slice(head.length));
  }
  return null;
}

/** The daily index names this tool writes: `<prefix>-<stream>-YYYY.MM.DD`. Returns the day (UTC) or null. */
export function dailyIndexDate(prefix: string, index: string): Date | null {
  const streams = [...EVENT_TYPES, "quarantine"];
  for (const s of streams) {
    const head = `${prefix}-${s}-`;
    if (!index.startsWith(head)) continue;
    const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(index.slice(head.length));
    if (!m) return null;
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (
      d.getUTCFullYear() !== Number(m[1]) ||
      d.getUTCMonth() !== Number(m[2]) - 1 ||
      d.getUTCDate() !== Number(m[3])
    ) {
      return null;
    }
    return d;
  }
  return null;
}
