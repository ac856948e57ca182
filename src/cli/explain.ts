/**
 * What a command that failed on an error says: for the errors a setting or a permission causes (wrong
 * OpenSearch credentials or CA, a queue or bucket that does not exist, access denied, no AWS credentials, a
 * path that does not exist) one line that names the setting, in doctor's words, and exit 2 (configuration);
 * OpenSearch not answering is exit 1 with a line naming OPENSEARCH_URL. No stack trace for any of these:
 * `undefined` (anything else) keeps the trace, since that is a bug to report.
 */
import { TemplatesMissingError } from "../core/sink/index-guard.ts";

export interface Explained {
  message: string;
  /** 2: usage or configuration; 1: the work could not be done (a dependency down). */
  code: 1 | 2;
}

interface AnyError {
  name?: string;
  message?: string;
  code?: string;
  path?: string;
  syscall?: string;
  $metadata?: { httpStatusCode?: number };
  meta?: { statusCode?: number | null; body?: unknown };
  statusCode?: number;
  Code?: string;
}

const TLS = /certificate|self[- ]signed|CERT_|altnames|unable to verify|wrong version number|SSL routines/i;
const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|socket hang up/i;

export function explainError(err: unknown): Explained | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const e = err as AnyError;
  const name = e.name ?? "";
  const message = String(e.message ?? "").slice(0, 500);
  if (err instanceof TemplatesMissingError) return { message, code: 2 };
  if (e.$metadata !== undefined || /CredentialsProviderError/.test(name)) return explainAws(e, name, message);
  if (e.meta !== undefined || /ConnectionError|ResponseError|TimeoutError|NoLivingConnections/.test(name))
    return explainOpenSearch(e, name, message);
  if (e.code === "ENOENT" && typeof e.path === "string")
    return { message: `no such file or folder: ${e.path}`, code: 2 };
  if ((e.code === "EACCES" || e.code === "EPERM") && typeof e.path === "string")
    return { message: `permission denied: ${e.path}`, code: 2 };
  return undefined;
}

function explainOpenSearch(e: AnyError, name: string, message: string): Explained | undefined {
  const status = typeof e.meta?.statusCode === "number" ? e.meta.statusCode : e.statusCode;
  const reason = openSearchReason(e.meta?.body) ?? message;
  if (status === 401) {
    return {
      message: `OpenSearch refused the credentials (HTTP 401): check OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD (--opensearch-username / --opensearch-password), or OPENSEARCH_AWS_SIGV4 and the role's access to the domain`,
      code: 2,
    };
  }
  if (status === 403) {
    return {
      message: `OpenSearch refused the request (HTTP 403: ${reason}): the user or role lacks a permission this command needs (docs/SECURITY.md lists them per command; with OPENSEARCH_AWS_SIGV4, the domain's access policy must allow the role es:ESHttp*)`,
      code: 2,
    };
  }
  if (TLS.test(message)) {
    const hint = /altnames|Hostname/i.test(message)
      ? "check OPENSEARCH_URL: its host must be a name the node's certificate names"
      : "give OPENSEARCH_CA_FILE (--opensearch-ca-file) the CA that signed the node's certificate";
    return { message: `OpenSearch's TLS certificate was not accepted (${message}): ${hint}`, code: 2 };
  }
  if (
    status === undefined &&
    (UNREACHABLE.test(message) || /ConnectionError|NoLivingConnections|TimeoutError/.test(name))
  ) {
    return {
      message: `OpenSearch does not answer (${message}): check OPENSEARCH_URL and that the network (security groups, VPC endpoint) lets this host in`,
      code: /ENOTFOUND/.test(message) ? 2 : 1,
    };
  }
  return undefined;
}

function explainAws(e: AnyError, name: string, message: string): Explained | undefined {
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? name;
  if (/CredentialsProviderError/.test(name)) {
    return {
      message: `no AWS credentials (${message}): give the workload a role (ECS task role, Lambda execution role, IRSA) or set AWS_PROFILE / AWS_ACCESS_KEY_ID`,
      code: 2,
    };
  }
  if (/QueueDoesNotExist|NonExistentQueue/i.test(code) || /NonExistentQueue/.test(message)) {
    return {
      message: `the queue does not exist (${message}): check SQS_QUEUE_URL / --queue-url (account and region in the URL), or create it with deploy/terraform`,
      code: 2,
    };
  }
  if (/NoSuchBucket/.test(code)) {
    return { message: `the bucket does not exist (${message}): check --bucket / BUCKET_ALLOWLIST`, code: 2 };
  }
  if (
    /InvalidClientTokenId|UnrecognizedClientException|SignatureDoesNotMatch|ExpiredToken|InvalidAccessKeyId/.test(
      code,
    )
  ) {
    return {
      message: `AWS refused the credentials (${code}: ${message}): refresh the session, or fix the role the workload runs with`,
      code: 2,
    };
  }
  if (status === 403 || /AccessDenied|Forbidden|AuthorizationError/i.test(code)) {
    return {
      message: `access denied by AWS (${code}: ${message}): the role this runs with lacks an action this command needs (docs/SECURITY.md lists them; the deploy/terraform module grants them), or KMS denies the key`,
      code: 2,
    };
  }
  return undefined;
}

function openSearchReason(body: unknown): string | undefined {
  const err = (body as { error?: { reason?: string; type?: string } | string } | undefined)?.error;
  if (typeof err === "string") return err.slice(0, 300);
  if (err?.reason) return `${err.type ? `${err.type}: ` : ""}${err.reason}`.slice(0, 300);
  return undefined;
}
