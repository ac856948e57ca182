#!/usr/bin/env node
/**
 * Bundle the Lambda handler (src/runtimes/lambda.ts) into one ESM file with every dependency (AWS SDK v3, the
 * OpenSearch client, pino, zod) and zip it for the Lambda runtime:
 *
 *   dist/lambda/index.mjs                        the bundle (handler: index.handler)
 *   dist/lambda/index.mjs.map                    its source map (also in the zip; NODE_OPTIONS=--enable-source-maps)
 *   dist/lambda/twingate-ingest-lambda.zip       what deploy/terraform uploads
 *
 * The zip is written here (deflate + CRC-32 from node:zlib), so no zip tool is needed, and with fixed
 * timestamps, so the same sources give the same bytes (terraform's source_code_hash stays put).
 * Logs go to stdout through pino's synchronous-capable fd destination: no worker-thread transport.
 *
 *   node scripts/build-lambda.mjs [--outdir dist/lambda] [--minify]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ZIP_NAME = "twingate-ingest-lambda.zip";

/** A ZIP archive (deflate, or stored when deflate does not help) of the given files; DOS time 1980-01-01. */
export function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const DOS_TIME = 0;
  const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
  for (const { name, data } of files) {
    const nameBuf = Buffer.from(name, "utf8");
    const deflated = deflateRawSync(data, { level: 9 });
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const method = stored ? 0 : 8;
    const crc = crc32(data);
    if (data.length >= 0xffffffff || offset >= 0xffffffff)
      throw new Error(`${name}: too large for a ZIP32 archive`);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(((0o100644 << 16) >>> 0) >>> 0, 38); // -rw-r--r--
    central.writeUInt32LE(offset, 42);

    locals.push(local, nameBuf, body);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + body.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}

/** Build the bundle and the zip; returns their paths. */
export async function buildLambda({ outdir = join(ROOT, "dist", "lambda"), minify = false } = {}) {
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, "index.mjs");
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, "src", "runtimes", "lambda.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    mainFields: ["module", "main"],
    sourcemap: "linked",
    minify,
    legalComments: "none",
    logLevel: "warning",
    metafile: true,
    // CommonJS dependencies (the OpenSearch client, pino) call require() and use __dirname: give the ESM
    // bundle both, as Node gives a CommonJS module.
    banner: {
      js: [
        'import { createRequire as __tgCreateRequire } from "node:module";',
        'import { fileURLToPath as __tgFileURLToPath } from "node:url";',
        'import { dirname as __tgDirname } from "node:path";',
        "const require = __tgCreateRequire(import.meta.url);",
        "const __filename = __tgFileURLToPath(import.meta.url);",
        "const __dirname = __tgDirname(__filename);",
      ].join("\n"),
    },
  });
  const zipPath = join(outdir, ZIP_NAME);
  writeFileSync(
    zipPath,
    zip([
      { name: "index.mjs", data: readFileSync(outfile) },
      { name: "index.mjs.map", data: readFileSync(`${outfile}.map`) },
    ]),
  );
  const inputs = Object.keys(result.metafile.inputs).length;
  return { outfile, zipPath, inputs };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf("--outdir");
  const outdir = at >= 0 && args[at + 1] ? resolve(args[at + 1]) : undefined;
  const { outfile, zipPath, inputs } = await buildLambda({
    ...(outdir ? { outdir } : {}),
    minify: args.includes("--minify"),
  });
  const size = (p) => `${(readFileSync(p).length / 1024 / 1024).toFixed(1)} MiB`;
  process.stdout.write(
    `bundled ${inputs} modules into ${relative(process.cwd(), outfile)} (${size(outfile)})\n` +
      `wrote ${relative(process.cwd(), zipPath)} (${size(zipPath)}); handler: index.handler, runtime nodejs24.x (nodejs22.x works too)\n`,
  );
}
