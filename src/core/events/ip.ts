/** IP address text as OpenSearch's `ip` field takes it (one definition: the declarations', the normaliser's). */

/** zod's IPv4 pattern (no leading zeros, as OpenSearch's ip field). */
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;

/** IPv6 text: 8 groups, or fewer with one `::`, optionally ending in dotted IPv4; no zone id. */
function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  let text = s;
  let groupsForV4 = 0;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!IPV4.test(tail)) return false;
    text = `${s.slice(0, lastColon + 1)}0:0`;
    groupsForV4 = 0;
  }
  const dbl = text.indexOf("::");
  if (dbl !== text.lastIndexOf("::")) return false;
  const group = /^[0-9A-Fa-f]{1,4}$/;
  if (dbl < 0) {
    const parts = text.split(":");
    return parts.length === 8 + groupsForV4 && parts.every((p) => group.test(p));
  }
  const head = text.slice(0, dbl);
  const rest = text.slice(dbl + 2);
  const hp = head === "" ? [] : head.split(":");
  const rp = rest === "" ? [] : rest.split(":");
  return hp.length + rp.length <= 7 && [...hp, ...rp].every((p) => group.test(p));
}

/** An IP address OpenSearch's `ip` field takes (IPv4 dotted decimal, IPv6 without a zone). */
export function isIpText(s: string): boolean {
  return IPV4.test(s) || (s.includes(":") && isIpv6(s));
}
