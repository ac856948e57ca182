import type { CommandModule } from "yargs";
import { loadConfig, OPENSEARCH_SETTINGS, settingOptions } from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { createOpenSearchClient, redactUrl } from "../../platform/opensearch/client.ts";
import { buildSavedObjects, toNdjson } from "../../tools/setup/dashboards-source.ts";
import { importDashboards } from "../../tools/setup/index.ts";
import { DEFAULT_RETENTION_DAYS, parseDays, runSetup, type SetupReport } from "../../tools/setup/setup.ts";
import { upgradeIndices } from "../../tools/setup/upgrade.ts";
import { UsageError } from "../errors.ts";

function printReport(r: SetupReport, out: NodeJS.WritableStream): void {
  const verb = r.dryRun ? "would " : "";
  out.write(
    `OpenSearch: ${r.dataNodes} data node(s) -> ${r.shards} shard(s), ${r.replicas} replica(s); ISM plugin: ${r.ism ? "yes" : "no"}\n`,
  );
  for (const a of r.actions) {
    const label = a.result === "unchanged" ? "unchanged" : `${verb}${a.result}`;
    out.write(`  ${label.padEnd(16)} ${a.kind.padEnd(19)} ${a.name}${a.detail ? `  (${a.detail})` : ""}\n`);
  }
  for (const w of r.warnings) out.write(`warning: ${w}\n`);
  out.write(
    r.changed === 0
      ? "Nothing to change.\n"
      : `${r.changed} object(s) ${r.dryRun ? "would change (dry run: nothing done)" : "changed"}.\n`,
  );
}

export const setupCommand: CommandModule = {
  command: "setup",
  describe: "Install index templates, mappings and retention in OpenSearch; optionally import dashboards",
  builder: (y) =>
    y
      .options(settingOptions([...OPENSEARCH_SETTINGS, "awsRegion", "logLevel"]))
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "Print what would change; change nothing",
      })
      .option("shards", { type: "number", default: 1, describe: "Primary shards per daily index" })
      .option("replicas", {
        type: "number",
        describe: "Replicas per index (default: 0 on a single data node, else 1)",
      })
      .option("refresh-interval", { type: "string", default: "5s", describe: "Index refresh interval" })
      .option("retention-days", {
        type: "number",
        default: DEFAULT_RETENTION_DAYS,
        describe: "Days after which the ISM policy deletes an index (when the ISM plugin exists)",
      })
      .option("prune-older-than", {
        type: "string",
        describe: "Delete this tool's daily indices older than this (e.g. 90d) - for clusters without ISM",
      })
      .option("dashboards-url", {
        type: "string",
        describe: "OpenSearch Dashboards URL: import the bundled saved objects (overwrite)",
      })
      .option("dashboards-tenant", { type: "string", describe: "Dashboards tenant (security plugin)" })
      .option("upgrade-indices", {
        type: "boolean",
        default: false,
        describe:
          'Bring indices written before the ECS layout to it, in place (same ids; docs/MAPPINGS.md, "Upgrading")',
      })
      .option("json", { type: "boolean", default: false, describe: "Print the report as JSON" }),
  handler: async (argv) => {
    const config = loadConfig(argv);
    const logger = createLogger(config.logLevel);
    const int = (name: string, min: number): number | undefined => {
      const v = argv[name];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
        throw new UsageError(`--${name} must be an integer >= ${min}`);
      }
      return v;
    };
    let pruneDays: number | undefined;
    if (typeof argv["prune-older-than"] === "string") {
      try {
        pruneDays = parseDays(argv["prune-older-than"]);
      } catch (err) {
        throw new UsageError(`--prune-older-than: ${(err as Error).message}`);
      }
    }
    const interval = String(argv["refresh-interval"]);
    if (!/^(-1|\d+(ms|s|m|h))$/.test(interval)) throw new UsageError("--refresh-interval: like 5s, 1m or -1");
    const dryRun = argv["dry-run"] === true;
    const shards = int("shards", 1);
    const replicas = int("replicas", 0);
    const retentionDays = int("retention-days", 1);
    const client = createOpenSearchClient(config, logger);
    try {
      const report = await runSetup(
        client,
        {
          indexPrefix: config.indexPrefix,
          indexPeriod: config.indexPeriod,
          dryRun,
          refreshInterval: interval,
          ...(shards !== undefined ? { shards } : {}),
          ...(replicas !== undefined ? { replicas } : {}),
          ...(retentionDays !== undefined ? { retentionDays } : {}),
          ...(pruneDays !== undefined ? { pruneOlderThanDays: pruneDays } : {}),
        },
        logger,
      );
      // Indices of the layout before ECS: upgraded when asked, else named in a warning (docs/MAPPINGS.md)
      const upgrade = argv["upgrade-indices"] === true;
      const upgrades = await upgradeIndices(
        client,
        { indexPrefix: config.indexPrefix, dryRun: dryRun || !upgrade },
        logger,
      );
      const pending = upgrades.filter((u) => u.pending > 0);
      if (pending.length > 0 && (dryRun || !upgrade))
        report.warnings.push(
          `${pending.length} index(es) hold ${pending.reduce((n, u) => n + u.pending, 0)} document(s) of the layout before ECS (${pending
            .slice(0, 3)
            .map((u) => u.index)
            .join(
              ", ",
            )}${pending.length > 3 ? ", ..." : ""}): run \`twingate-ingest setup --upgrade-indices\` (docs/MAPPINGS.md, "Upgrading")`,
        );
      const dashboardsUrl = argv["dashboards-url"];
      let imported: Awaited<ReturnType<typeof importDashboards>> | undefined;
      if (typeof dashboardsUrl === "string" && dashboardsUrl.length > 0) {
        const objects = buildSavedObjects(config.indexPrefix);
        if (dryRun) {
          process.stdout.write(
            `would import ${objects.length} saved objects into ${redactUrl(dashboardsUrl)}\n`,
          );
        } else {
          const tenant = argv["dashboards-tenant"];
          imported = await importDashboards(dashboardsUrl, toNdjson(objects), {
            ...(config.opensearchUsername ? { username: config.opensearchUsername } : {}),
            ...(config.opensearchPassword ? { password: config.opensearchPassword } : {}),
            ...(typeof tenant === "string" ? { tenant } : {}),
            timeoutMs: config.opensearchTimeoutMs,
          });
        }
      }
      if (argv["json"] === true) {
        process.stdout.write(
          `${JSON.stringify({ ...report, upgrades, ...(imported ? { dashboards: imported } : {}) })}\n`,
        );
      } else {
        printReport(report, process.stdout);
        for (const u of upgrade && !dryRun ? upgrades : [])
          if (u.pending > 0 || u.normalizerAdded || u.fieldsAdded > 0)
            process.stdout.write(
              `  upgraded         ${u.index}: ${u.rewritten} document(s) rewritten, ${u.fieldsAdded} field(s) added${u.skipped ? `, ${u.skipped} left as they were` : ""}\n`,
            );
        if (imported) {
          for (const r of imported.results) {
            process.stdout.write(
              `  ${r.result.padEnd(16)} ${r.type.padEnd(19)} ${r.id}${r.message ? `  (${r.message})` : ""}\n`,
            );
          }
          process.stdout.write(
            `Dashboards: ${imported.successCount} of ${imported.results.length} saved objects imported.\n`,
          );
        }
      }
      if (imported && !imported.success) argv["exitCode"] = 1;
    } finally {
      await client.close();
      logger.flush();
    }
  },
};
