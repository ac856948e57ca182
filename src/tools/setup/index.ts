export { type ImportReport, type ImportResult, importDashboards } from "./dashboards-import.ts";
export {
  checkTemplates,
  DEFAULT_RETENTION_DAYS,
  parseDays,
  pruneIndices,
  runSetup,
  type SetupAction,
  type SetupOptions,
  type SetupReport,
} from "./setup.ts";
