/**
 * Structural checks of deploy/terraform (terraform itself is not available where the tests run):
 * every file is balanced and indented like `terraform fmt`, every reference resolves (variables, locals,
 * resources, data sources, module outputs), variables and outputs are documented, and the worker's IAM
 * actions are exactly the documented least-privilege list.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MODULE = join(ROOT, "deploy", "terraform");

function tfFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".tf"))
    .map((e) => join(dir, e.name));
}
const EXAMPLES = readdirSync(join(MODULE, "examples"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => join(MODULE, "examples", e.name));
const CONFIGS = [MODULE, ...EXAMPLES];

/** Source without full-line comments and without the text of string literals (kept: `${...}` parts). */
function code(src: string): string {
  const noComments = src
    .split("\n")
    .map((l) => (/^\s*(#|\/\/)/.test(l) ? "" : l))
    .join("\n");
  return noComments.replace(/"(?:[^"\\$]|\\.|\$(?!\{)|\$\{[^}]*\})*"/g, (s) => {
    const interps = s.match(/\$\{[^}]*\}/g) ?? [];
    return `"${interps.join(" ")}"`;
  });
}

/** Top-level blocks: `kind "label" "label" {` at column 0. */
function blocks(src: string, kind: string): string[][] {
  const re = new RegExp(`^${kind}((?:\\s+"[^"]+")*)\\s*\\{`, "gm");
  return [...src.matchAll(re)].map((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!));
}

/** The body of the top-level block that starts at the given header. */
function blockBody(src: string, header: string): string {
  const start = src.indexOf(header);
  assert.ok(start >= 0, `no block ${header}`);
  let depth = 0;
  for (let i = src.indexOf("{", start); i < src.length; i++) {
    if (src[i] === "{") depth++;
    else if (src[i] === "}" && --depth === 0) return src.slice(start, i + 1);
  }
  throw new Error(`unbalanced block ${header}`);
}

/** Every string in the `actions = [...]` lists of a policy document, sorted. */
function actionsIn(block: string): string[] {
  return [...block.matchAll(/\bactions += \[([^\]]*)\]/g)]
    .flatMap((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!))
    .sort();
}

function readConfig(dir: string) {
  const files = tfFiles(dir).map((f) => ({ path: f, src: readFileSync(f, "utf8") }));
  const all = files.map((f) => f.src).join("\n");
  return { files, all, code: code(all) };
}

describe("deploy/terraform", () => {
  for (const dir of CONFIGS) {
    const name = relative(ROOT, dir);
    const { files, all, code: body } = readConfig(dir);

    test(`${name}: files are balanced and formatted like terraform fmt`, () => {
      assert.ok(files.length > 0);
      for (const { path, src } of files) {
        const c = code(src);
        for (const [open, close] of [
          ["{", "}"],
          ["[", "]"],
          ["(", ")"],
        ] as const) {
          let depth = 0;
          for (const ch of c) {
            if (ch === open) depth++;
            else if (ch === close) depth--;
            assert.ok(depth >= 0, `${relative(ROOT, path)}: ${close} without ${open}`);
          }
          assert.equal(depth, 0, `${relative(ROOT, path)}: unbalanced ${open}${close}`);
        }
        assert.ok(src.endsWith("\n") && !src.endsWith("\n\n"), `${path}: one trailing newline`);
        src.split("\n").forEach((line, i) => {
          const where = `${relative(ROOT, path)}:${i + 1}`;
          assert.ok(!line.includes("\t"), `${where}: tab`);
          assert.ok(!/\s$/.test(line), `${where}: trailing space`);
          assert.equal(/^ */.exec(line)![0].length % 2, 0, `${where}: indent not a multiple of 2`);
        });
        // terraform fmt aligns the = of consecutive one-line attributes in a block.
        const lines = src.split("\n");
        let group: { col: number; line: number }[] = [];
        const flush = () => {
          const cols = new Set(group.map((g) => g.col));
          assert.ok(cols.size <= 1, `${relative(ROOT, path)}:${group[0]?.line}: = not aligned in a group`);
          group = [];
        };
        let prevIndent = -1;
        lines.forEach((line, i) => {
          const m = /^( *)([A-Za-z0-9_"-]+) +=(?!=) /.exec(line);
          const opens = /[{[(]\s*$/.test(line);
          if (!m || opens) {
            flush();
            prevIndent = -1;
            return;
          }
          if (m[1]!.length !== prevIndent) flush();
          prevIndent = m[1]!.length;
          group.push({ col: line.indexOf("="), line: i + 1 });
        });
        flush();
      }
    });

    test(`${name}: every reference resolves`, () => {
      const variables = new Set(blocks(all, "variable").map((l) => l[0]!));
      const resources = new Set(blocks(all, "resource").map(([t, n]) => `${t}.${n}`));
      const data = new Set(blocks(all, "data").map(([t, n]) => `${t}.${n}`));
      const locals = new Set<string>();
      for (const m of all.matchAll(/^locals \{/gm)) {
        const b = blockBody(all.slice(m.index), "locals {");
        for (const a of b.matchAll(/^ {2}([a-z0-9_]+) +=/gm)) locals.add(a[1]!);
      }
      for (const m of body.matchAll(/\bvar\.([a-z0-9_]+)/g)) {
        assert.ok(variables.has(m[1]!), `var.${m[1]} is not declared`);
      }
      for (const v of variables)
        assert.match(body, new RegExp(`\\bvar\\.${v}\\b`), `variable ${v} is unused`);
      for (const m of body.matchAll(/\blocal\.([a-z0-9_]+)/g)) {
        assert.ok(locals.has(m[1]!), `local.${m[1]} is not declared`);
      }
      for (const m of body.matchAll(/(?<![.\w])(aws_[a-z0-9_]+)\.([a-z0-9_]+)/g)) {
        assert.ok(resources.has(`${m[1]}.${m[2]}`), `resource ${m[1]}.${m[2]} is not declared`);
      }
      for (const m of body.matchAll(/\bdata\.(aws_[a-z0-9_]+)\.([a-z0-9_]+)/g)) {
        assert.ok(data.has(`${m[1]}.${m[2]}`), `data ${m[1]}.${m[2]} is not declared`);
      }
      if (dir !== MODULE) {
        const moduleOutputs = new Set(blocks(readConfig(MODULE).all, "output").map((l) => l[0]!));
        const moduleVars = new Set(blocks(readConfig(MODULE).all, "variable").map((l) => l[0]!));
        for (const m of body.matchAll(/\bmodule\.twingate_sync\.([a-z0-9_]+)/g)) {
          assert.ok(moduleOutputs.has(m[1]!), `module output ${m[1]} does not exist`);
        }
        const call = blockBody(all, 'module "twingate_sync"');
        for (const a of call.matchAll(/^ {2}([a-z0-9_]+) +=/gm)) {
          if (a[1] === "source") continue;
          assert.ok(moduleVars.has(a[1]!), `the module has no variable ${a[1]}`);
        }
        assert.match(call, /source += "\.\.\/\.\."/);
      }
    });

    test(`${name}: variables and outputs are documented`, () => {
      for (const kind of ["variable", "output"]) {
        for (const [label] of blocks(all, kind)) {
          const b = blockBody(all, `${kind} "${label}"`);
          assert.match(b, /description += "[^"]{10,}/, `${kind} ${label} has no description`);
          if (kind === "variable") assert.match(b, /^ {2}type +=/m, `variable ${label} has no type`);
        }
      }
    });
  }

  test("the worker's IAM actions are exactly the least-privilege list", () => {
    const { all } = readConfig(MODULE);
    const worker = blockBody(all, 'data "aws_iam_policy_document" "worker"');
    const actions = actionsIn(worker);
    assert.deepEqual(actions, [
      "es:ESHttpGet",
      "es:ESHttpHead",
      "es:ESHttpPost",
      "es:ESHttpPut",
      "kms:Decrypt",
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:ListBucket",
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:ReceiveMessage",
    ]);
    assert.doesNotMatch(worker, /"\*"|"[a-z0-9]+:\*"/, "no wildcard resources or actions");
  });

  test("a deleted file is a 404 under key_prefix: the worker's ListBucket has no s3:prefix condition", () => {
    const { all } = readConfig(MODULE);
    const worker = blockBody(all, 'data "aws_iam_policy_document" "worker"');
    const list = worker.slice(worker.indexOf('sid       = "ListTwingateFiles"'));
    assert.doesNotMatch(list.slice(0, list.indexOf("statement")), /s3:prefix/);
  });

  test("SigV4: es:ESHttp* on the domain when its ARN is given, and the examples pass it", () => {
    const { all } = readConfig(MODULE);
    const worker = blockBody(all, 'data "aws_iam_policy_document" "worker"');
    assert.match(
      worker,
      /for_each = var\.opensearch_domain_arn != "" \? \[var\.opensearch_domain_arn\] : \[\]/,
    );
    assert.match(worker, /resources = \[statement\.value, "\$\{statement\.value\}\/\*"\]/);
    for (const ex of EXAMPLES) {
      assert.match(readConfig(ex).all, /opensearch_domain_arn += var\.opensearch_domain_arn/, ex);
    }
    const deploy = readFileSync(join(ROOT, "docs", "DEPLOY.md"), "utf8");
    assert.match(deploy, /es:ESHttp/);
    assert.match(deploy, /access policy/);
  });

  test("the ECS example has an ECR repository, and DEPLOY.md builds the image for ARM64 with buildx and pushes it", () => {
    const { all } = readConfig(join(MODULE, "examples", "ecs-fargate"));
    assert.match(all, /resource "aws_ecr_repository" "worker"/);
    assert.match(all, /cpu_architecture += "ARM64"/);
    const deploy = readFileSync(join(ROOT, "docs", "DEPLOY.md"), "utf8");
    assert.match(deploy, /docker buildx build --platform linux\/arm64,linux\/amd64/);
    assert.match(deploy, /docker login --username AWS --password-stdin/);
  });

  test("the Lambda example reserves no concurrency by default (accounts at a new account's quota refuse any)", () => {
    const { all } = readConfig(join(MODULE, "examples", "lambda"));
    assert.match(blockBody(all, 'variable "reserved_concurrency"'), /default += -1/);
    assert.match(
      blockBody(all, 'resource "aws_lambda_function" "worker"'),
      /reserved_concurrent_executions = var\.reserved_concurrency/,
    );
  });

  test("only the backfill policy may send to the queue", () => {
    const { all } = readConfig(MODULE);
    const backfill = blockBody(all, 'data "aws_iam_policy_document" "backfill"');
    assert.deepEqual(
      [...new Set(actionsIn(backfill))],
      ["kms:Decrypt", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject", "sqs:SendMessage"],
    );
    assert.doesNotMatch(backfill, /"\*"|"[a-z0-9]+:\*"/, "no wildcard resources or actions");
    assert.doesNotMatch(blockBody(all, 'data "aws_iam_policy_document" "worker"'), /sqs:SendMessage/);
  });

  test("Twingate's role matches the vendor's OIDC trust and permissions", () => {
    const { all } = readConfig(MODULE);
    const role = blockBody(all, 'resource "aws_iam_role" "twingate_sync"');
    assert.match(role, /sts:AssumeRoleWithWebIdentity/);
    assert.match(role, /:sub" = "events_sync"/);
    assert.match(role, /:aud" = var\.twingate_network/);
    const provider = blockBody(all, 'resource "aws_iam_openid_connect_provider" "twingate"');
    assert.match(provider, /url += "https:\/\/\$\{local\.twingate_oidc_host\}"/);
    assert.match(all, /twingate_oidc_host = .*"\$\{var\.twingate_network\}\.twingate\.com\/oidc"/);
    const perms = blockBody(all, 'data "aws_iam_policy_document" "twingate_sync"');
    const actions = actionsIn(perms);
    assert.deepEqual(actions, ["kms:Decrypt", "kms:GenerateDataKey*", "s3:PutObject"]);
  });

  test("the queue takes messages only from the bucket, with a dead-letter queue", () => {
    const { all } = readConfig(MODULE);
    const policy = blockBody(all, 'resource "aws_sqs_queue_policy" "notifications"');
    assert.match(policy, /Service = "s3\.amazonaws\.com"/);
    assert.match(policy, /"aws:SourceArn" = local\.bucket_arn/);
    assert.match(policy, /Action += "sqs:SendMessage"/);
    const queue = blockBody(all, 'resource "aws_sqs_queue" "notifications"');
    assert.match(queue, /deadLetterTargetArn = aws_sqs_queue\.dlq\.arn/);
    const notification = blockBody(all, 'resource "aws_s3_bucket_notification" "sync"');
    assert.match(notification, /events += \["s3:ObjectCreated:\*"\]/);
    assert.match(notification, /depends_on = \[aws_sqs_queue_policy\.notifications\]/);
  });

  test("the Lambda example reports partial batch failures and bounds concurrency", () => {
    const { all } = readConfig(join(MODULE, "examples", "lambda"));
    const mapping = blockBody(all, 'resource "aws_lambda_event_source_mapping" "notifications"');
    assert.match(mapping, /function_response_types = \["ReportBatchItemFailures"\]/);
    assert.match(mapping, /maximum_concurrency = /);
    assert.match(mapping, /batch_size += \d+/);
    const fn = blockBody(all, 'resource "aws_lambda_function" "worker"');
    assert.match(fn, /handler += "index\.handler"/);
    assert.match(fn, /reserved_concurrent_executions = /);
    assert.match(all, /twingate-ingest-lambda\.zip/);
  });
});
