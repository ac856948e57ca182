/**
 * The things a Twingate network is made of, built once from the seed: users with their devices,
 * connectors in remote networks, resources behind them, relays, service accounts, admins, DNS domains
 * and DLP policies. Events draw from these pools, so the same ids, names and addresses repeat as they do
 * in a real network (and a dashboard over the demo data has something to group by).
 */
import { Rng } from "./prng.ts";

export interface User {
  /** Numeric id as in network events (`"890123"`). */
  id: string;
  /** Base64 GraphQL id as in the audit log (`"VXNlcjo4OTAxMjM="` = `User:890123`). */
  graphId: string;
  email: string;
  name: string;
  isAdmin: boolean;
  devices: Device[];
  homeIp: string;
  /** The home line's IPv6 address (dual stack): some connections come from it. */
  homeIp6: string;
  location: Location;
}

export interface Device {
  id: string;
  graphId: string;
  name: string;
  model: { hostname: string; local_name: string; serial_number: string } | null;
}

interface Location {
  city: string;
  lat: number;
  lon: number;
}

interface RemoteNetwork {
  id: string;
  graphId: string;
  name: string;
  connectors: Connector[];
  /** The network's IPv6 unique local /48 (`fd12:3456:789a`): its resources' IPv6 addresses. */
  ula: string;
}

export interface Connector {
  id: string;
  graphId: string;
  name: string;
}

export interface Resource {
  id: string;
  graphId: string;
  name: string;
  address: string;
  /** How the resource is defined: by a DNS name (possibly a wildcard) or by an IP address or range. */
  addressType: "DNS" | "IP";
  appliedRule: string;
  /** IPs the address resolves to (empty for a name that does not resolve). */
  ips: string[];
  /** The name's AAAA answer (a unique local IPv6 address), for resources addressed by a name that resolves. */
  ip6?: string;
  ports: number[];
  protocol: "tcp" | "udp" | "icmp";
  network: RemoteNetwork;
}

interface Relay {
  ip: string;
  /** The relay's IPv6 address: a client on an IPv6 network reaches it there. */
  ip6: string;
  name: string;
  port: number;
}

interface ServiceAccount {
  id: string;
  graphId: string;
  name: string;
  key: string;
  keyId: string;
  ip: string;
  /** The headless client's device. */
  deviceId: string;
}

interface DnsDomain {
  domain: string;
  root: string;
  /** A category that a filtering profile may block, when the domain has one. */
  category?: { id: string; name: string };
  /** Security verdicts (malware, phishing, ...) that block regardless of profile. */
  threat?: { id: string; name: string };
}

interface DlpPolicy {
  id: string;
  name: string;
}

interface DlpApp {
  address: string;
  appliedRule: string;
  id: string;
}

export interface Pools {
  company: string;
  emailDomain: string;
  internalDomain: string;
  users: User[];
  admins: User[];
  networks: RemoteNetwork[];
  connectors: Connector[];
  resources: Resource[];
  relays: Relay[];
  serviceAccounts: ServiceAccount[];
  apiKeys: { id: string; name: string }[];
  groups: { id: string; name: string }[];
  domains: DnsDomain[];
  dlpPolicies: DlpPolicy[];
  dlpApps: DlpApp[];
}

const COMPANIES = ["twindemo", "acme", "globex", "initech", "umbrellacorp", "hooli", "piedpiper", "soylent"];
const FIRST = [
  "jane",
  "john",
  "maria",
  "wei",
  "aisha",
  "lukas",
  "sofia",
  "raj",
  "emma",
  "noah",
  "olivia",
  "liam",
  "yuki",
  "fatima",
  "carlos",
  "anna",
  "mohammed",
  "chloe",
  "ivan",
  "priya",
  "lucas",
  "mia",
  "kwame",
  "elena",
  "omar",
  "hannah",
  "diego",
  "sara",
  "tom",
  "nina",
  "leo",
  "zara",
  "ben",
  "ines",
  "sam",
  "ava",
  "jonas",
  "lea",
  "arjun",
];
const LAST = [
  "doe",
  "smith",
  "garcia",
  "chen",
  "khan",
  "muller",
  "rossi",
  "patel",
  "brown",
  "kim",
  "nguyen",
  "silva",
  "tanaka",
  "okafor",
  "novak",
  "johansson",
  "dubois",
  "kowalski",
  "haddad",
  "murphy",
  "schmidt",
  "lopez",
  "ivanova",
  "mensah",
  "fischer",
  "costa",
  "sato",
  "ahmed",
  "wilson",
  "martin",
];
const ADJECTIVES = [
  "faithful",
  "brave",
  "quiet",
  "lucky",
  "amber",
  "swift",
  "gentle",
  "noble",
  "rapid",
  "silver",
  "cosmic",
  "fearless",
  "humble",
  "jolly",
  "mellow",
  "proud",
  "sturdy",
  "witty",
  "zealous",
  "crimson",
];
const ANIMALS = [
  "pigeon",
  "otter",
  "falcon",
  "lynx",
  "badger",
  "heron",
  "panda",
  "walrus",
  "gecko",
  "marmot",
  "ibis",
  "koala",
  "mongoose",
  "narwhal",
  "ocelot",
  "puffin",
  "quokka",
  "raven",
  "tapir",
  "wombat",
];
const NETWORK_NAMES = [
  "aws-us-east-1-dev",
  "aws-us-east-1-prod",
  "aws-eu-west-1-prod",
  "gcp-europe-west1-staging",
  "azure-eastus-prod",
  "office-nyc",
  "office-london",
  "datacenter-fra",
];
const SERVICES: { name: string; ports: number[]; protocol: "tcp" | "udp" | "icmp" }[] = [
  { name: "argocd.eks", ports: [80, 443], protocol: "tcp" },
  { name: "grafana", ports: [443, 3000], protocol: "tcp" },
  { name: "jenkins", ports: [8080, 443], protocol: "tcp" },
  { name: "gitlab", ports: [443, 22], protocol: "tcp" },
  { name: "postgres-main", ports: [5432], protocol: "tcp" },
  { name: "mysql-billing", ports: [3306], protocol: "tcp" },
  { name: "redis-cache", ports: [6379], protocol: "tcp" },
  { name: "kibana", ports: [5601], protocol: "tcp" },
  { name: "vault", ports: [8200], protocol: "tcp" },
  { name: "wiki", ports: [443, 80], protocol: "tcp" },
  { name: "ssh-bastion", ports: [22], protocol: "tcp" },
  { name: "rdp-win01", ports: [3389], protocol: "tcp" },
  { name: "ntp", ports: [123], protocol: "udp" },
  { name: "dns-internal", ports: [53], protocol: "udp" },
  { name: "syslog", ports: [514], protocol: "udp" },
  { name: "k8s-api", ports: [6443], protocol: "tcp" },
  { name: "prometheus", ports: [9090], protocol: "tcp" },
  { name: "jira", ports: [443], protocol: "tcp" },
  { name: "smb-files", ports: [445], protocol: "tcp" },
  { name: "printer-3f", ports: [631, 9100], protocol: "tcp" },
];
const LOCATIONS: Location[] = [
  { city: "New York", lat: 40.71, lon: -74.01 },
  { city: "San Francisco", lat: 37.77, lon: -122.42 },
  { city: "Kansas", lat: 39.84, lon: -100.04 },
  { city: "London", lat: 51.51, lon: -0.13 },
  { city: "Berlin", lat: 52.52, lon: 13.4 },
  { city: "Paris", lat: 48.86, lon: 2.35 },
  { city: "Bangalore", lat: 12.97, lon: 77.59 },
  { city: "Tokyo", lat: 35.68, lon: 139.69 },
  { city: "Sao Paulo", lat: -23.55, lon: -46.63 },
  { city: "Sydney", lat: -33.87, lon: 151.21 },
  { city: "Toronto", lat: 43.65, lon: -79.38 },
  { city: "Lagos", lat: 6.52, lon: 3.38 },
];
const MODELS: { kind: string; local: string; host: string }[] = [
  { kind: "MacBook Pro", local: "MacBook Pro (16-inch, M1 Pro, Late 2021)", host: "mbpro" },
  { kind: "MacBook Air", local: "MacBook Air (M2, 2022)", host: "mbair" },
  { kind: "ThinkPad", local: "ThinkPad X1 Carbon Gen 11", host: "x1" },
  { kind: "Dell XPS", local: "XPS 13 9340", host: "xps" },
  { kind: "iPhone", local: "iPhone 15", host: "iphone" },
  { kind: "Pixel", local: "Pixel 8", host: "pixel" },
  { kind: "Surface", local: "Surface Laptop 5", host: "surface" },
];
const CATEGORIES = {
  social: { id: "category:social-networks", name: "Social Networks" },
  gaming: { id: "category:gaming", name: "Gaming" },
  streaming: { id: "category:video-streaming", name: "Video Streaming" },
  gambling: { id: "category:gambling", name: "Gambling" },
  ads: { id: "category:ads-trackers", name: "Ads & Trackers" },
  adult: { id: "category:adult-content", name: "Adult Content" },
};
const THREATS = {
  malware: { id: "security:malware", name: "Malware" },
  phishing: { id: "security:phishing", name: "Phishing" },
  cryptojacking: { id: "security:cryptojacking", name: "Cryptojacking" },
  newDomain: { id: "security:newly-registered-domains", name: "Newly Registered Domains" },
};
const PUBLIC_DOMAINS: DnsDomain[] = [
  { domain: "www.google.com", root: "google.com" },
  { domain: "global.help-panel.docs.aws.a2z.com", root: "a2z.com" },
  { domain: "api.github.com", root: "github.com" },
  { domain: "slack.com", root: "slack.com" },
  { domain: "wss-primary.slack.com", root: "slack.com" },
  { domain: "outlook.office365.com", root: "office365.com" },
  { domain: "login.microsoftonline.com", root: "microsoftonline.com" },
  { domain: "s3.us-east-1.amazonaws.com", root: "amazonaws.com" },
  { domain: "registry.npmjs.org", root: "npmjs.org" },
  { domain: "zoom.us", root: "zoom.us" },
  { domain: "update.googleapis.com", root: "googleapis.com" },
  { domain: "time.apple.com", root: "apple.com" },
  { domain: "www.notion.so", root: "notion.so" },
  { domain: "connect.twingate.com", root: "twingate.com" },
  { domain: "www.facebook.com", root: "facebook.com", category: CATEGORIES.social },
  { domain: "www.instagram.com", root: "instagram.com", category: CATEGORIES.social },
  { domain: "www.tiktok.com", root: "tiktok.com", category: CATEGORIES.social },
  { domain: "store.steampowered.com", root: "steampowered.com", category: CATEGORIES.gaming },
  { domain: "www.netflix.com", root: "netflix.com", category: CATEGORIES.streaming },
  { domain: "www.pokerstars.com", root: "pokerstars.com", category: CATEGORIES.gambling },
  { domain: "securepubads.g.doubleclick.net", root: "doubleclick.net", category: CATEGORIES.ads },
  { domain: "pixel.tracker-analytics.io", root: "tracker-analytics.io", category: CATEGORIES.ads },
  { domain: "update-flash-player.xyz", root: "update-flash-player.xyz", threat: THREATS.malware },
  { domain: "login-micros0ft-secure.com", root: "login-micros0ft-secure.com", threat: THREATS.phishing },
  { domain: "coinhive-pool.top", root: "coinhive-pool.top", threat: THREATS.cryptojacking },
  { domain: "x9q2kd.example-new.click", root: "example-new.click", threat: THREATS.newDomain },
];
const DLP_POLICY_NAMES = [
  "DLP-AllActions-AllContent",
  "DLP-Block-GenAI-Uploads",
  "DLP-SourceCode-Exfiltration",
  "DLP-PII-Paste",
];
const DLP_APPS: { address: string; rule: string }[] = [
  { address: "chatgpt.com", rule: "*chatgpt.com" },
  { address: "claude.ai", rule: "*claude.ai" },
  { address: "gemini.google.com", rule: "gemini.google.com" },
  { address: "drive.google.com", rule: "*.google.com" },
  { address: "www.dropbox.com", rule: "*dropbox.com" },
  { address: "wetransfer.com", rule: "*wetransfer.com" },
  { address: "pastebin.com", rule: "pastebin.com" },
];

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Twingate's GraphQL ids are base64 of `<Type>:<number>`. */
export function graphId(type: string, numericId: string): string {
  return Buffer.from(`${type}:${numericId}`, "utf8").toString("base64");
}

function uniqueNumericIds(rng: Rng, count: number, digits: number, taken: Set<string>): string[] {
  const out: string[] = [];
  const lo = 10 ** (digits - 1);
  const hi = 10 ** digits - 1;
  while (out.length < count) {
    const id = String(rng.int(lo, hi));
    if (taken.has(id)) continue;
    taken.add(id);
    out.push(id);
  }
  return out;
}

const hex4 = (rng: Rng) => rng.int(0, 0xffff).toString(16);

/** A public IPv6 address in a home or mobile ISP's range (compressed form, lower case). */
function publicIp6(rng: Rng): string {
  const prefix = rng.pick(["2600:1700", "2a02:c7f", "2001:56a", "2607:fb90", "2a01:e0a", "2406:3003"]);
  return `${prefix}:${hex4(rng)}:${hex4(rng)}::${hex4(rng)}`;
}

function publicIp(rng: Rng): string {
  // Avoid private, loopback, multicast and reserved first octets.
  const first = rng.pick([3, 12, 18, 23, 34, 44, 52, 64, 73, 81, 92, 104, 142, 151, 176, 185, 203, 212]);
  return `${first}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

interface PoolSizes {
  users: number;
  resources: number;
}

const DEFAULT_POOL_SIZES: PoolSizes = { users: 40, resources: 30 };

export function buildPools(seed: number | string, sizes: PoolSizes = DEFAULT_POOL_SIZES): Pools {
  const rng = new Rng(seed, "pools");
  const taken = new Set<string>();
  const company = rng.pick(COMPANIES);
  const emailDomain = `${company}.com`;
  const internalDomain = `${company}.int`;

  // Users and their devices.
  const names = new Set<string>();
  const users: User[] = [];
  const userIds = uniqueNumericIds(rng, sizes.users, 6, taken);
  for (const id of userIds) {
    let first: string;
    let last: string;
    do {
      first = rng.pick(FIRST);
      last = rng.pick(LAST);
    } while (names.has(`${first}.${last}`));
    names.add(`${first}.${last}`);
    const display = `${first[0]!.toUpperCase()}${first.slice(1)} ${last[0]!.toUpperCase()}${last.slice(1)}`;
    const deviceCount = rng.weighted([
      [1, 6],
      [2, 3],
      [3, 1],
    ] as const);
    const devices: Device[] = [];
    for (const devId of uniqueNumericIds(rng, deviceCount, 7, taken)) {
      const model = rng.pick(MODELS);
      const hasModel = rng.chance(0.85);
      devices.push({
        id: devId,
        graphId: graphId("Device", devId),
        name: `${display.split(" ")[0]}'s ${model.kind}`,
        model: hasModel
          ? {
              hostname: `${first[0]}${last[0]}-${model.host}.local`,
              local_name: model.local,
              serial_number: rng.chars(rng.int(7, 12), "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
            }
          : null,
      });
    }
    users.push({
      id,
      graphId: graphId("User", id),
      email: `${first}${last}@${emailDomain}`,
      name: display,
      isAdmin: false,
      devices,
      homeIp: publicIp(rng),
      homeIp6: publicIp6(rng),
      location: rng.pick(LOCATIONS),
    });
  }
  const adminCount = Math.max(1, Math.round(users.length / 10));
  for (const i of rng.sample(users.length, adminCount)) users[i]!.isAdmin = true;
  const admins = users.filter((u) => u.isAdmin);

  // Remote networks with their connectors (two per network, for redundancy, as Twingate recommends).
  const networkCount = rng.int(3, 5);
  const networkNames = rng.sample(NETWORK_NAMES.length, networkCount).map((i) => NETWORK_NAMES[i]!);
  const connectorNames = new Set<string>();
  const networks: RemoteNetwork[] = networkNames.map((name) => {
    const [id] = uniqueNumericIds(rng, 1, 6, taken);
    const connectors = uniqueNumericIds(rng, 2, 6, taken).map((cid) => {
      let cname: string;
      do cname = `${rng.pick(ADJECTIVES)}-${rng.pick(ANIMALS)}`;
      while (connectorNames.has(cname));
      connectorNames.add(cname);
      return { id: cid, graphId: graphId("Connector", cid), name: cname };
    });
    const ula = `fd${rng.int(0, 255).toString(16).padStart(2, "0")}:${hex4(rng)}:${hex4(rng)}`;
    return { id: id!, graphId: graphId("RemoteNetwork", id!), name, connectors, ula };
  });
  const connectors = networks.flatMap((n) => n.connectors);

  // Resources: DNS names (some under a wildcard rule), bare IPs and a CIDR.
  const resources: Resource[] = [];
  const resourceIds = uniqueNumericIds(rng, sizes.resources, 7, taken);
  resourceIds.forEach((rid, i) => {
    const svc = SERVICES[i % SERVICES.length]!;
    const network = rng.pick(networks);
    const envName = network.name.split("-").slice(-1)[0]!;
    const subnet = `10.${rng.int(0, 40)}.${rng.int(0, 255)}`;
    const shape = rng.weighted([
      ["fqdn", 6],
      ["wildcard", 2],
      ["ip", 1],
      ["ip6", 1],
      ["cidr", 1],
    ] as const);
    const suffix = i >= SERVICES.length ? `-${Math.floor(i / SERVICES.length) + 1}` : "";
    const host = `${svc.name}${suffix}.${envName}.${internalDomain}`;
    const ip = `${subnet}.${rng.int(2, 250)}`;
    let address = host;
    let appliedRule = host;
    const ip6 = `${network.ula}:${rng.int(1, 0xff).toString(16)}::${hex4(rng)}`;
    let ips = [ip];
    let aaaa: string | undefined = ip6;
    if (shape === "wildcard") {
      appliedRule = `*.${envName}.${internalDomain}`;
    } else if (shape === "ip") {
      address = ip;
      appliedRule = ip;
      aaaa = undefined;
    } else if (shape === "ip6") {
      // A resource defined by its IPv6 address: the address is the IP (no name to resolve).
      address = ip6;
      appliedRule = ip6;
      ips = [ip6];
      aaaa = undefined;
    } else if (shape === "cidr") {
      appliedRule = `${subnet}.0/24`;
      address = ip;
      ips = [ip];
      aaaa = undefined;
    }
    // A few names (never the busiest resources) do not resolve: every connection to them fails to resolve.
    if (shape === "fqdn" && i >= 5 && rng.chance(0.1)) {
      ips = [];
      aaaa = undefined;
    }
    resources.push({
      id: rid,
      graphId: graphId("Resource", rid),
      name: `${svc.name}${suffix} (${envName})`,
      address,
      addressType: shape === "fqdn" || shape === "wildcard" ? "DNS" : "IP",
      appliedRule,
      ips,
      ...(aaaa !== undefined ? { ip6: aaaa } : {}),
      ports: svc.ports,
      protocol: svc.protocol,
      network,
    });
  });

  const relayIp6 = () => `2600:1900:${hex4(rng)}:${hex4(rng)}::${hex4(rng)}`;
  const relays: Relay[] = [
    {
      ip: publicIp(rng),
      ip6: relayIp6(),
      name: "relaybalancer+https://relays-prm.twingate.com",
      port: 30501,
    },
    {
      ip: publicIp(rng),
      ip6: relayIp6(),
      name: "relaybalancer+https://relays-prm.twingate.com",
      port: 30502,
    },
    {
      ip: publicIp(rng),
      ip6: relayIp6(),
      name: `relay-${rng.pick(["us-east", "eu-west", "ap-south"])}.twingate.com`,
      port: 443,
    },
    { ip: publicIp(rng), ip6: relayIp6(), name: "relay-eu-central.twingate.com", port: 443 },
  ];

  const serviceAccounts: ServiceAccount[] = ["ci-deployer", "backup-agent", "monitoring-probe"].map(
    (name) => {
      const [id] = uniqueNumericIds(rng, 1, 6, taken);
      return {
        id: graphId("ServiceAccount", id!),
        graphId: graphId("ServiceAccount", id!),
        name,
        key: rng.chars(24, BASE64_ALPHABET),
        keyId: graphId("ServiceAccountKey", uniqueNumericIds(rng, 1, 6, taken)[0]!),
        ip: publicIp(rng),
        deviceId: uniqueNumericIds(rng, 1, 7, taken)[0]!,
      };
    },
  );

  const apiKeys = ["TerraformKey", "SIEM-Export", "PulumiKey"].map((name) => ({
    id: graphId("PublicAPIKey", uniqueNumericIds(rng, 1, 6, taken)[0]!),
    name,
  }));
  const groups = ["Engineering", "Finance", "IT Admins", "Contractors", "Everyone"].map((name) => ({
    id: graphId("Group", uniqueNumericIds(rng, 1, 6, taken)[0]!),
    name,
  }));

  const internalDomains: DnsDomain[] = resources
    .filter((r) => r.addressType === "DNS")
    .slice(0, 8)
    .map((r) => ({ domain: r.address, root: internalDomain }));
  // Public domains first (most traffic), then internal ones; order matters for the skewed picks.
  const domains = [...PUBLIC_DOMAINS.slice(0, 14), ...internalDomains, ...PUBLIC_DOMAINS.slice(14)];

  const dlpPolicies = DLP_POLICY_NAMES.map((name) => ({ id: rng.chars(26, BASE64_ALPHABET), name }));
  const dlpApps = DLP_APPS.map((a) => ({
    address: a.address,
    appliedRule: a.rule,
    id: uniqueNumericIds(rng, 1, 6, taken)[0]!,
  }));

  return {
    company,
    emailDomain,
    internalDomain,
    users,
    admins,
    networks,
    connectors,
    resources,
    relays,
    serviceAccounts,
    apiKeys,
    groups,
    domains,
    dlpPolicies,
    dlpApps,
  };
}
