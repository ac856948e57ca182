/**
 * Import saved objects (NDJSON) into OpenSearch Dashboards through its Saved Objects API:
 * POST <url>/api/saved_objects/_import?overwrite=true, multipart field "file", header `osd-xsrf`.
 */

export interface ImportResult {
  type: string;
  id: string;
  title?: string;
  /** "ok", or the error type Dashboards returned (conflict, missing_references, unsupported_type, ...). */
  result: string;
  message?: string;
}

export interface ImportReport {
  success: boolean;
  successCount: number;
  results: ImportResult[];
}

interface ImportOptions {
  username?: string;
  password?: string;
  /** Abort after this many milliseconds (default 60 s). */
  timeoutMs?: number;
  /** Dashboards tenant (security plugin), sent as `securitytenant`. */
  tenant?: string;
}

interface SavedObjectLine {
  type: string;
  id: string;
  attributes?: { title?: string };
}

interface ImportResponse {
  success?: boolean;
  successCount?: number;
  errors?: { type: string; id: string; title?: string; error?: { type?: string; message?: string } }[];
  successResults?: { type: string; id: string }[];
  statusCode?: number;
  message?: string;
}

/**
 * A Dashboards API URL under `base` and the headers to call it with. Credentials written in the URL
 * (`https://user:pass@host/`) move to a Basic authorization header (fetch refuses such URLs, and its
 * error quoted the password); explicit ones win. The URL returned never holds credentials.
 */
export function dashboardsRequest(
  base: string,
  path: string,
  creds: { username?: string | undefined; password?: string | undefined } = {},
): { url: URL; headers: Record<string, string> } {
  let url: URL;
  try {
    url = new URL(path, base.endsWith("/") ? base : `${base}/`);
  } catch {
    throw new Error("--dashboards-url is not a valid URL");
  }
  let username = creds.username;
  let password = creds.password;
  if (url.username || url.password) {
    if (!(username && password)) {
      username = decodeURIComponent(url.username);
      password = decodeURIComponent(url.password);
    }
    url.username = "";
    url.password = "";
  }
  const headers: Record<string, string> = { "osd-xsrf": "true" };
  if (username && password)
    headers["authorization"] = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  return { url, headers };
}

export async function importDashboards(
  dashboardsUrl: string,
  ndjson: string,
  opts: ImportOptions = {},
): Promise<ImportReport> {
  const objects = ndjson
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as SavedObjectLine);
  const { url, headers } = dashboardsRequest(dashboardsUrl, "api/saved_objects/_import", opts);
  url.searchParams.set("overwrite", "true");
  const form = new FormData();
  form.append("file", new Blob([ndjson], { type: "application/ndjson" }), "twingate.ndjson");
  if (opts.tenant) headers["securitytenant"] = opts.tenant;
  const res = await fetch(url, {
    method: "POST",
    headers,
    body: form,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
  });
  const text = await res.text();
  let body: ImportResponse;
  try {
    body = JSON.parse(text) as ImportResponse;
  } catch {
    throw new Error(`Dashboards import: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  if (!res.ok) {
    throw new Error(`Dashboards import: HTTP ${res.status}: ${body.message ?? text.slice(0, 300)}`);
  }
  const errors = new Map((body.errors ?? []).map((e) => [`${e.type}/${e.id}`, e]));
  const ok = new Set((body.successResults ?? []).map((s) => `${s.type}/${s.id}`));
  const results: ImportResult[] = objects.map((o) => {
    const key = `${o.type}/${o.id}`;
    const err = errors.get(key);
    const title = o.attributes?.title;
    const base = { type: o.type, id: o.id, ...(title ? { title } : {}) };
    if (err) {
      return {
        ...base,
        result: err.error?.type ?? "error",
        ...(err.error?.message ? { message: err.error.message } : {}),
      };
    }
    // Older versions send no successResults: with success=true every object was imported.
    return { ...base, result: ok.has(key) || (body.success && !body.successResults) ? "ok" : "not_reported" };
  });
  return {
    success: Boolean(body.success) && results.every((r) => r.result === "ok"),
    successCount: body.successCount ?? results.filter((r) => r.result === "ok").length,
    results,
  };
}
