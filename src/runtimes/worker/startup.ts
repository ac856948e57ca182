import type { Client } from "@opensearch-project/opensearch";
import type { Config } from "../../platform/config/index.ts";
import type { Logger } from "../../platform/logger.ts";
import { checkTemplates, runSetup } from "../../tools/setup/index.ts";

/** At start-up: templates present? Warn, or install them with --auto-setup. Never fatal for a warning. */
export async function ensureTemplates(
  client: Client,
  config: Pick<Config, "indexPrefix" | "autoSetup"> & Partial<Pick<Config, "indexPeriod">>,
  logger: Logger,
): Promise<void> {
  try {
    const { missing, outdated } = await checkTemplates(client, config.indexPrefix);
    if (missing.length === 0 && outdated.length === 0) return;
    if (config.autoSetup) {
      logger.info({ missing, outdated }, "installing index templates (--auto-setup)");
      await runSetup(client, { indexPrefix: config.indexPrefix, indexPeriod: config.indexPeriod }, logger);
    } else {
      logger.warn(
        { missing, outdated },
        "index templates are missing or outdated: run `twingate-ingest setup` (or start with --auto-setup); documents will get dynamic mappings",
      );
    }
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, "could not check index templates");
  }
}
