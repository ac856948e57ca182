import { readFileSync } from "node:fs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Client, type ClientOptions } from "@opensearch-project/opensearch";
import { AwsSigv4Signer } from "@opensearch-project/opensearch/aws";
import { type Config, ConfigError } from "../config/index.ts";
import type { Logger } from "../logger.ts";

type OpenSearchSettings = Pick<
  Config,
  | "opensearchUrl"
  | "opensearchUsername"
  | "opensearchPassword"
  | "opensearchCaFile"
  | "opensearchTlsInsecure"
  | "opensearchAwsSigv4"
  | "opensearchTimeoutMs"
  | "awsRegion"
>;

/**
 * The client options for the settings, without building a client (so they can be tested).
 * Retries are off: the bulk sink retries per item with its own backoff, and setup's calls are idempotent.
 */
export function openSearchClientOptions(config: OpenSearchSettings, logger?: Logger): ClientOptions {
  const nodes = config.opensearchUrl;
  if (!nodes || nodes.length === 0)
    throw new ConfigError("Missing setting --opensearch-url / OPENSEARCH_URL");
  const opts: ClientOptions = {
    nodes,
    maxRetries: 0,
    requestTimeout: config.opensearchTimeoutMs ?? 60_000,
    agent: { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 64, maxFreeSockets: 16 },
    suggestCompression: false,
  };

  const ssl: NonNullable<ClientOptions["ssl"]> = {};
  if (config.opensearchCaFile) {
    try {
      ssl.ca = readFileSync(config.opensearchCaFile);
    } catch (err) {
      throw new ConfigError(
        `--opensearch-ca-file / OPENSEARCH_CA_FILE: cannot read ${config.opensearchCaFile}: ${(err as Error).message}`,
        "opensearchCaFile",
      );
    }
  }
  if (config.opensearchTlsInsecure) {
    ssl.rejectUnauthorized = false;
    logger?.warn(
      { setting: "OPENSEARCH_TLS_INSECURE" },
      "TLS VERIFICATION OF OPENSEARCH IS DISABLED: anyone on the path can read and alter the data. Use OPENSEARCH_CA_FILE instead outside a lab.",
    );
  }
  if (Object.keys(ssl).length > 0) opts.ssl = ssl;

  const sigv4 = config.opensearchAwsSigv4 ?? "none";
  if (sigv4 !== "none") {
    if (config.opensearchUsername || config.opensearchPassword) {
      throw new ConfigError(
        "OPENSEARCH_AWS_SIGV4 and OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD are exclusive: choose one way to authenticate",
        "opensearchAwsSigv4",
      );
    }
    const region = config.awsRegion ?? process.env["AWS_DEFAULT_REGION"];
    if (!region) {
      throw new ConfigError(
        "Missing setting --aws-region / AWS_REGION: SigV4 signing of OpenSearch requests needs the domain's region",
        "awsRegion",
      );
    }
    // The SDK's default chain: environment, profile, web identity (IRSA), ECS and instance roles; refreshed when they expire.
    const credentials = defaultProvider();
    const signer = AwsSigv4Signer({ region, service: sigv4, getCredentials: () => credentials() });
    opts.Connection = signer.Connection;
    opts.Transport = signer.Transport;
  } else if (config.opensearchUsername || config.opensearchPassword) {
    if (!config.opensearchUsername || !config.opensearchPassword) {
      throw new ConfigError(
        "Basic auth needs both --opensearch-username / OPENSEARCH_USERNAME and --opensearch-password / OPENSEARCH_PASSWORD",
        config.opensearchUsername ? "opensearchPassword" : "opensearchUsername",
      );
    }
    opts.auth = { username: config.opensearchUsername, password: config.opensearchPassword };
  }
  return opts;
}

/** An OpenSearch client for the settings. Never logs credentials. */
export function createOpenSearchClient(config: OpenSearchSettings, logger?: Logger): Client {
  const opts = openSearchClientOptions(config, logger);
  logger?.debug(
    {
      nodes: config.opensearchUrl.map(redactUrl),
      auth: opts.auth ? "basic" : (config.opensearchAwsSigv4 ?? "none") !== "none" ? "sigv4" : "none",
    },
    "OpenSearch client",
  );
  return new Client(opts);
}

/** A URL without any user:password it may carry, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    return u.toString().replace(/\/$/, "");
  } catch {
    return "[invalid url]";
  }
}
