/** Compiles a TypeScript entry as the product ships it (one ESM file, dependencies left external, no tsx). */
export async function bundle(entry: string, out: string): Promise<string> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  return out;
}
