import { BlockList, isIP } from 'node:net';
import { ValidationError } from './errors.js';

/**
 * Addresses a webhook or token request must not reach unless WEBHOOK_ALLOW_PRIVATE_NETWORKS
 * is set: otherwise a tenant's URL could probe the platform's own network (cloud metadata,
 * databases, admin ports) and read the answer in `attempt_history[].response_head`.
 * Ranges from IANA's IPv4 and IPv6 special-purpose address registries.
 */
const RANGES: [kind: string, cidrs: string[]][] = [
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7', 'fec0::/10', '64:ff9b:1::/48']],
  ['shared (CGNAT)', ['100.64.0.0/10']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  ['reserved', [
    '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
    '::/96', '::ffff:0:0:0/96', '100::/64', '2001::/32', '2001:2::/48', '2001:db8::/32', '3fff::/20',
  ]],
];

// First match names the kind: `::` and `::1` are listed before the reserved `::/96` around them.
const LISTS = RANGES.map(([kind, cidrs]) => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/') as [string, string];
    list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return { kind, list };
});

/**
 * Why a request must not go to this IP address (`a private address`, ...), or null when it may.
 * IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) match the IPv4 ranges (BlockList does that);
 * NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are judged by the IPv4 address inside.
 */
export function addressRefusal(ip: string): string | null {
  const address = ip.replace(/%.*$/, ''); // an IPv6 zone id is not part of the address
  const family = isIP(address);
  if (family === 0) return null;
  for (const { kind, list } of LISTS) {
    if (list.check(address, family === 6 ? 'ipv6' : 'ipv4')) return `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} address`;
  }
  if (family === 6) {
    const g = ipv6Groups(address);
    const inner: [number, number] | null = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0) ? [g[6]!, g[7]!]
      : g[0] === 0x2002 ? [g[1]!, g[2]!] : null;
    if (inner) {
      const v4 = [inner[0] >> 8, inner[0] & 0xff, inner[1] >> 8, inner[1] & 0xff].join('.');
      const why = addressRefusal(v4);
      if (why) return `${why} (${g[0] === 0x2002 ? '6to4' : 'NAT64'} of ${v4})`;
    }
  }
  return null;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail folded in). */
function ipv6Groups(ip: string): number[] {
  let s = ip;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((x) => parseInt(x, 16));
}

/** The host of a URL as an address: IPv6 literals without their brackets. */
export function urlHost(url: string): string {
  return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The save-time check: a URL whose host is an IP literal or `localhost` in a refused range is
 * refused at once, naming the field. Other names are judged when connecting (after DNS), so a
 * name that points somewhere else by then is still refused.
 */
export function checkWebhookDestination(field: string, url: string | null | undefined, allowPrivateNetworks: boolean): void {
  if (!url || allowPrivateNetworks) return;
  const host = urlHost(url);
  const why = /(^|\.)localhost\.?$/i.test(host) ? 'a loopback address' : addressRefusal(host);
  if (why) throw new ValidationError(field, `must not point to a private or local network: ${host} is ${why}`);
}
