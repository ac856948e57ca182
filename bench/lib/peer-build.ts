/**
 * The peer of `npm run bench:peer`: Benthos v4.27.0 (MIT), built from source with the ordinary Go
 * toolchain from the wrapper module in bench/peer/ (go.mod requires the exact version: `go install
 * ...@v4.27.0` fails where the module proxy serves the version but no version list). The binary goes to
 * .cache/peer/ (git-ignored) and is reused while it is newer than the wrapper's files.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const PEER_NAME = "Benthos";
export const PEER_VERSION = "v4.27.0";
const HERE = import.meta.dirname;
const MODULE_DIR = join(HERE, "..", "peer");
const OUT_DIR = join(HERE, "..", "..", ".cache", "peer");
export const PEER_BINARY = join(OUT_DIR, `benthos-${PEER_VERSION}`);

export type PeerBuild = { ok: true; binary: string; built: boolean } | { ok: false; reason: string };

/** `go version`, or undefined where no Go toolchain is on PATH. */
export function goVersion(): string | undefined {
  const r = spawnSync("go", ["version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function fresh(binary: string): boolean {
  if (!existsSync(binary)) return false;
  const built = statSync(binary).mtimeMs;
  return ["go.mod", "go.sum", "main.go"].every((f) => statSync(join(MODULE_DIR, f)).mtimeMs <= built);
}

/**
 * The peer's binary: reused when up to date, else built (unless `build` is false). One package compiled
 * at a time and at low priority (`-p 1`, nice): slow (tens of minutes on 2 busy cores), but it leaves the
 * machine usable. Never throws: where Go or the module is not available, says why.
 */
export async function peerBinary(opts: { build: boolean; log: (line: string) => void }): Promise<PeerBuild> {
  if (fresh(PEER_BINARY)) return { ok: true, binary: PEER_BINARY, built: false };
  const go = goVersion();
  if (!go) return { ok: false, reason: "no Go toolchain on PATH (`go version` failed)" };
  if (!opts.build)
    return {
      ok: false,
      reason: `${PEER_NAME} ${PEER_VERSION} is not built yet (run \`npm run bench:peer\`)`,
    };
  mkdirSync(OUT_DIR, { recursive: true });
  opts.log(`building ${PEER_NAME} ${PEER_VERSION} with ${go} into ${PEER_BINARY} (one package at a time)...`);
  const t0 = Date.now();
  // A temporary name, renamed when complete: an interrupted build never leaves a binary that looks fresh.
  const tmp = `${PEER_BINARY}.partial`;
  const code = await new Promise<number | null>((resolve) => {
    const c = spawn("nice", ["-n", "10", "go", "build", "-p", "1", "-trimpath", "-o", tmp, "."], {
      cwd: MODULE_DIR,
      // GOTOOLCHAIN=local: build with the Go on PATH, never download another toolchain.
      env: {
        ...process.env,
        GOTOOLCHAIN: "local",
        GOFLAGS: `${process.env["GOFLAGS"] ?? ""} -mod=readonly`.trim(),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    c.on("error", () => resolve(null));
    c.on("exit", (status) => resolve(status));
  });
  if (code !== 0)
    return {
      ok: false,
      reason: `\`go build\` of ${PEER_NAME} ${PEER_VERSION} failed (exit ${code}): the module or its dependencies are not reachable from this machine, or the toolchain is too old`,
    };
  const { renameSync } = await import("node:fs");
  renameSync(tmp, PEER_BINARY);
  opts.log(`built in ${Math.round((Date.now() - t0) / 1000)} s`);
  return { ok: true, binary: PEER_BINARY, built: true };
}
