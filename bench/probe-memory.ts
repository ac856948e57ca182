/**
 * Where the memory of one real ingestion goes: S3 (emulator) -> pipeline -> OpenSearch, sampling RSS,
 * heap and buffers every 250 ms, and the live heap after a forced GC every 2 s.
 *   node --expose-gc --import tsx bench/probe-memory.ts [--mb 100]   (needs the stack env)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { generate } from "./lib/records.ts";
import {
  awsClients,
  DEFAULTS,
  dropPrefix,
  MB,
  opensearchClient,
  putFile,
  runPipeline,
  setupPrefix,
  stackEnv,
  uniqueName,
} from "./lib/stack.ts";

const i = process.argv.indexOf("--mb");
const mb = i === -1 ? 100 : Number(process.argv[i + 1]);
const env = stackEnv();
const aws = awsClients(env);
const os = opensearchClient(env);
const dir = mkdtempSync(join(tmpdir(), "tg-probe-"));
const file = join(dir, "f.json");
await generate(file, mb * MB);
const bucket = uniqueName("probe");
await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
const key = "2025-07-25T19:00:00+00:00.json";
await putFile(aws.s3, bucket, key, file);
await setupPrefix(os, bucket);
const gc = (globalThis as { gc?: () => void }).gc;
const m = (x: number) => Math.round(x / MB);
let peak = 0;
let n = 0;
const t = setInterval(() => {
  const u = process.memoryUsage();
  peak = Math.max(peak, u.rss);
  let live = "";
  if (gc && ++n % 8 === 0) {
    gc();
    const g = process.memoryUsage();
    live = ` live=${m(g.heapUsed)} liveBuffers=${m(g.arrayBuffers)} rssAfterGc=${m(g.rss)}`;
  }
  console.log(
    `rss=${m(u.rss)} heapTotal=${m(u.heapTotal)} heapUsed=${m(u.heapUsed)} external=${m(u.external)} arrayBuffers=${m(u.arrayBuffers)}${live}`,
  );
}, 250);
const snapAt = process.argv.includes("--snapshot")
  ? setTimeout(async () => {
      gc?.();
      const { writeHeapSnapshot } = await import("node:v8");
      console.log(`snapshot: ${writeHeapSnapshot(join(tmpdir(), "probe.heapsnapshot"))}`);
    }, 5000)
  : undefined;
const r = await runPipeline({ os, s3: aws.s3, bucket, keys: [key], prefix: bucket, settings: DEFAULTS });
clearInterval(t);
if (snapAt) clearTimeout(snapAt);
console.log(
  `indexed ${r.indexed} in ${r.seconds.toFixed(1)} s; peak rss ${m(peak)} MB; maxRSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
);
await dropPrefix(os, bucket);
aws.destroy();
await os.close();
rmSync(dir, { recursive: true, force: true });
