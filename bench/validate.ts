/**
 * Validation: zod's parser of the streams' declarations against the check compiled from the same
 * declarations (what ingestion runs), on the same records: CPU microseconds per record of each, and their
 * ratio. The records are the benchmark generator's (bench/lib/records.ts: the four streams, 70/20/5/5), parsed
 * once beforehand. `npm run bench:validate [-- --records 200000 --rounds 5]`.
 */
import { fastAccept, TwingateRecordSchema } from "../src/core/events/index.ts";
import { record } from "./lib/records.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
}
const n = arg("records", 200_000);
const rounds = arg("rounds", 5);
const records = Array.from(
  { length: 2000 },
  (_, i) => JSON.parse(record(i, Date.UTC(2025, 6, 25))) as unknown,
);

function time(f: (r: unknown) => boolean): number {
  let ok = 0;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) if (f(records[i % records.length])) ok++;
  const t = process.cpuUsage(t0);
  if (ok !== n) throw new Error(`only ${ok} of ${n} records accepted`);
  return (t.user + t.system) / n;
}
const zod = (r: unknown) => TwingateRecordSchema.safeParse(r).success;
time(zod); // warm both up
time(fastAccept);
const rows: [number, number][] = [];
for (let i = 0; i < rounds; i++) rows.push([time(zod), time(fastAccept)]);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const z = med(rows.map((r) => r[0]));
const c = med(rows.map((r) => r[1]));
process.stdout.write(
  `validation, ${n} records x ${rounds} rounds (node ${process.versions.node}):\n` +
    rows
      .map(([a, b], i) => `  round ${i + 1}: zod ${a.toFixed(3)} us, compiled ${b.toFixed(3)} us\n`)
      .join("") +
    `  median: zod safeParse ${z.toFixed(3)} us/record, compiled check ${c.toFixed(3)} us/record, zod / compiled ${(z / c).toFixed(1)}x\n`,
);
