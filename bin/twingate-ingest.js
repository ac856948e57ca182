#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` has produced dist/, otherwise the TypeScript
// sources through tsx (the development and `npx` path). Both are the same code, unless dist/ is older
// than the sources: TWINGATE_INGEST_FROM_SOURCE=1 always takes the sources (the test runner sets it).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const compiled = join(root, "dist", "cli", "main.js");
if (existsSync(compiled) && process.env.TWINGATE_INGEST_FROM_SOURCE !== "1") {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
