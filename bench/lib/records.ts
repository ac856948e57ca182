/** Generated Twingate-like records for the benchmarks (deterministic, no randomness). */
import { createWriteStream } from "node:fs";

// ---- data ---------------------------------------------------------------------------------------

function pick<T>(xs: readonly T[], i: number): T {
  return xs[i % xs.length]!;
}

export function record(i: number, base: number): string {
  const time = new Date(base + i * 37)
    .toISOString()
    .replace("Z", `${String(i % 1000).padStart(3, "0")}+00:00`);
  const ip = `${10 + (i % 200)}.${(i >> 8) & 255}.${(i >> 3) & 255}.${i & 255}`;
  const k = i % 20;
  if (k < 14) {
    return JSON.stringify({
      event_type: "network_access",
      event: {
        version: 1,
        time,
        status: pick(
          ["established_connection", "closed_connection", "denied_access", "failed_to_connect"],
          i,
        ),
        connection: {
          client_ip: ip,
          protocol: pick(["tcp", "udp", "icmp"], i),
          bytes_received: i * 13,
          bytes_transferred: i * 7,
        },
        connector: {
          id: String(100000 + (i % 50)),
          name: pick(["faithful-pigeon", "brave-otter", "calm-heron"], i),
        },
        remote_network: { id: String(789000 + (i % 9)), name: "aws-us-east-1-dev" },
        resource: {
          address: `svc-${i % 300}.eks.twindemo.int`,
          applied_rule: "*.eks.twindemo.int",
          id: String(1234567 + (i % 300)),
          ip: `10.11.${(i >> 8) & 255}.${i & 255}`,
          port: pick([80, 443, 5432, 22], i),
        },
        relays: [{ ip: "1.2.3.4", name: "relaybalancer+https://relays-prm.twingate.com", port: 30501 }],
        device: { id: String(5000000 + (i % 2000)) },
        user: { id: String(890000 + (i % 500)), email: `user${i % 500}@twindemo.com` },
        location: { lat: ((i % 1800) - 900) / 10, lon: ((i % 3600) - 1800) / 10 },
      },
    });
  }
  if (k < 18) {
    return JSON.stringify({
      event_type: "dns_filtering",
      event: {
        version: 1,
        time,
        domain: `host${i % 1000}.help-panel.docs.example${i % 40}.com`,
        root: `example${i % 40}.com`,
        device: {
          id: `RGV2a${i % 2000}=`,
          name: "Jane's MacBook Pro",
          model: {
            hostname: "jd-mbpro.local",
            local_name: "MacBook Pro (16-inch, M1 Pro, Late 2021)",
            serial_number: "XYZABC1",
          },
        },
        connection: { client_ip: ip, protocol: "DNS-over-HTTPS" },
        status: pick(["default", "blocked", "allowed"], i),
        reasons: i % 3 === 1 ? [{ id: "category:social-networks", name: "Social Networks" }] : [],
      },
    });
  }
  if (k < 19) {
    return JSON.stringify({
      event_type: "audit_log",
      event: {
        version: "1",
        time,
        action: pick(["create", "edit", "delete"], i),
        targets: [
          {
            version: "1.0",
            type: "PublicAPIKey",
            name: `Key${i % 10}`,
            id: `UHVi${i}`,
            permission: "read only",
            allowedIpRanges: ["0.0.0.0/0", "::/0"],
          },
        ],
        actor: {
          type: "User",
          id: "VXNlabcdefghi=",
          info: { email: "janedoe@twindemo.com", name: "Jane Doe" },
        },
      },
    });
  }
  return JSON.stringify({
    event_type: "data_loss_prevention",
    event: {
      version: 1,
      time,
      action: "block_upload",
      status: "blocked",
      data_loss_prevention_policies: [
        { id: "RGF0YUxabcd123efghijklmn456", name: "DLP-AllActions-AllContent" },
      ],
      device: { id: String(i % 2000), name: "jd-mbpro" },
      user: { id: String(8901234 + (i % 500)), email: `user${i % 500}@twindemo.com` },
      resource: { address: "chatgpt.com", applied_rule: "*chatgpt.com", id: "123456" },
    },
  });
}

/**
 * Writes about `bytes` of NDJSON records to `path`, records `first`, `first + 1`, ... (files meant to be
 * ingested together need distinct ranges: the same record twice is one document and a 409); returns how
 * many it wrote.
 */
export async function generate(path: string, bytes: number, first = 0): Promise<number> {
  const out = createWriteStream(path);
  const base = Date.UTC(2025, 6, 25, 18, 0, 0);
  let written = 0;
  let i = first;
  while (written < bytes) {
    let batch = "";
    for (let j = 0; j < 2000; j++) batch += `${record(i++, base)}\n`;
    written += Buffer.byteLength(batch);
    if (!out.write(batch)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return i - first;
}
