export {
  ALL_CHECKS,
  checkClock,
  checkCredentials,
  checkDashboards,
  checkNewestFile,
  checkNotification,
  checkOpenSearch,
  checkQueue,
  checkRedrive,
  checkTemplatesInstalled,
  DEFAULT_MAX_SKEW_SECONDS,
  DEFAULT_STALE_FILE_SECONDS,
  describeCredentialSource,
} from "./checks.ts";
export { ClockProbe, type DateSample, worstSkewSeconds } from "./clock.ts";
export { checkDeviations, deviationFindings, NEW_DEVIATION_SECONDS } from "./data-quality.ts";
export { checkOpenSearchPermissions, missingPermission, PERMISSION_PROBES } from "./permissions.ts";
export { type DoctorReport, formatResult, formatSummary, runDoctor } from "./run.ts";
export type {
  Check,
  CheckResult,
  CheckStatus,
  DoctorDeps,
  DoctorOptions,
  ResolvedCredentials,
} from "./types.ts";
