/**
 * The secured OpenSearch node of scripts/stack.sh (STACK_SECURITY=1: the real security plugin, TLS with the
 * stack's own CA, basic auth) for end-to-end tests: brought up on first use (port STACK_SECURE_OPENSEARCH_PORT,
 * 9250 by default, beside the plain node everyone shares), an admin client, and least-privilege users made
 * from the documented roles (deploy/opensearch/security-roles.json) through the security plugin's REST API.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@opensearch-project/opensearch";
import { uniqueName } from "./stack.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const STACK = fileURLToPath(new URL("../../scripts/stack.sh", import.meta.url));
export const ROLES_FILE = fileURLToPath(
  new URL("../../deploy/opensearch/security-roles.json", import.meta.url),
);

export interface SecuredStack {
  url: string;
  caFile: string;
  admin: { username: string; password: string };
}

export interface RoleDefinition {
  description?: string;
  cluster_permissions: string[];
  index_permissions: { index_patterns: string[]; allowed_actions: string[] }[];
}

function stackScript(command: string, stdio: "pipe" | "inherit") {
  const port = process.env["STACK_SECURE_OPENSEARCH_PORT"] ?? "9250";
  return spawnSync("bash", [STACK, command], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", stdio === "inherit" ? "ignore" : "pipe", stdio === "inherit" ? "inherit" : "pipe"],
    env: { ...process.env, STACK_SECURITY: "1", STACK_OPENSEARCH_PORT: port },
    timeout: 600_000,
  });
}

/** Starts the secured node when it is not running (scripts/stack.sh up is idempotent) and says where it is. */
export function securedStack(): SecuredStack {
  const up = stackScript("up", "inherit");
  if (up.status !== 0) throw new Error("STACK_SECURITY=1 scripts/stack.sh up failed (see its log above)");
  const env = stackScript("env", "pipe");
  const vars: Record<string, string> = {};
  for (const line of String(env.stdout).split("\n")) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  const url = vars["OPENSEARCH_URL"];
  const caFile = vars["OPENSEARCH_CA_FILE"];
  const pwFile = vars["STACK_ADMIN_PASSWORD_FILE"];
  if (!url?.startsWith("https://") || !caFile || !pwFile) {
    throw new Error(`the secured stack's env is incomplete: ${JSON.stringify(Object.keys(vars))}`);
  }
  return {
    url,
    caFile,
    admin: {
      username: vars["OPENSEARCH_USERNAME"] ?? "admin",
      password: readFileSync(pwFile, "utf8").trim(),
    },
  };
}

/** The CLI's settings for a user of the secured node (TLS verified against the stack's CA). */
export function cliEnv(stack: SecuredStack, user: { username: string; password: string }): NodeJS.ProcessEnv {
  return {
    OPENSEARCH_URL: stack.url,
    OPENSEARCH_CA_FILE: stack.caFile,
    OPENSEARCH_USERNAME: user.username,
    OPENSEARCH_PASSWORD: user.password,
  };
}

export function adminClient(stack: SecuredStack): Client {
  return new Client({
    node: stack.url,
    auth: stack.admin,
    ssl: { ca: readFileSync(stack.caFile) },
    requestTimeout: 30_000,
  });
}

/** The documented roles, their `twingate-*` index patterns moved to the given prefix. */
export function documentedRoles(prefix: string): Record<string, RoleDefinition> {
  const roles = JSON.parse(readFileSync(ROLES_FILE, "utf8")) as Record<string, RoleDefinition>;
  for (const role of Object.values(roles)) {
    for (const ip of role.index_permissions) {
      ip.index_patterns = ip.index_patterns.map((p) => p.replace(/^twingate-/, `${prefix}-`));
    }
  }
  return roles;
}

async function securityApi(os: Client, method: "PUT" | "DELETE", path: string, body?: unknown) {
  const res = await os.transport.request(
    { method, path: `/_plugins/_security/api/${path}`, ...(body ? { body: body as never } : {}) },
    { ignore: [404] },
  );
  return res.body as unknown;
}

export async function putRole(os: Client, name: string, role: RoleDefinition): Promise<void> {
  await securityApi(os, "PUT", `roles/${encodeURIComponent(name)}`, role);
}

/**
 * A user with its own role (a copy of `role`) mapped to it; returns its credentials and the role's name.
 * `drop` removes user, role and mapping.
 */
export async function makeUser(
  os: Client,
  name: string,
  role: RoleDefinition,
): Promise<{ username: string; password: string; role: string; drop: () => Promise<void> }> {
  const username = uniqueName(name);
  const roleName = `${username}-role`;
  const password = `Pw-${uniqueName("canary")}-9`;
  await putRole(os, roleName, role);
  await securityApi(os, "PUT", `internalusers/${encodeURIComponent(username)}`, { password });
  await mapRole(os, roleName, [username]);
  return {
    username,
    password,
    role: roleName,
    drop: async () => {
      await securityApi(os, "DELETE", `rolesmapping/${encodeURIComponent(roleName)}`);
      await securityApi(os, "DELETE", `internalusers/${encodeURIComponent(username)}`);
      await securityApi(os, "DELETE", `roles/${encodeURIComponent(roleName)}`);
    },
  };
}

export async function mapRole(os: Client, role: string, users: string[]): Promise<void> {
  await securityApi(os, "PUT", `rolesmapping/${encodeURIComponent(role)}`, { users });
}

/** Sets an internal user's password (as an administrator rotating it would). */
export async function setPassword(os: Client, username: string, password: string): Promise<void> {
  await securityApi(os, "PUT", `internalusers/${encodeURIComponent(username)}`, { password });
}
