export { TWINGATE_KEY_PATTERN } from "../../core/twingate.ts";
export { ConfigError, loadConfig, requireSetting, settingOptions } from "./load.ts";
export {
  type Config,
  flagName,
  parseSize,
  SETTINGS,
  type SettingKey,
} from "./settings.ts";

import type { SettingKey } from "./settings.ts";
/** Settings shared by the commands that talk to OpenSearch. */
export const OPENSEARCH_SETTINGS: SettingKey[] = [
  "opensearchUrl",
  "opensearchUsername",
  "opensearchPassword",
  "opensearchCaFile",
  "opensearchTlsInsecure",
  "opensearchAwsSigv4",
  "opensearchTimeoutMs",
  "indexPrefix",
  "indexPeriod",
];
/** Settings shared by the commands that talk to AWS. */
export const AWS_SETTINGS: SettingKey[] = [
  "awsRegion",
  "s3Endpoint",
  "sqsEndpoint",
  "snsEndpoint",
  "s3ForcePathStyle",
];
export const READER_SETTINGS: SettingKey[] = [
  "maxRecordBytes",
  "maxFileBytes",
  "maxDecompressionRatio",
  "maxRejectsPerReason",
  "maxEventTimeDeviationHours",
];
export const BULK_SETTINGS: SettingKey[] = ["bulkMaxDocs", "bulkMaxBytes", "bulkConcurrency", "holdLimit"];
