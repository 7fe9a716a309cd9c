import { BlockList, isIP } from 'node:net';

/**
 * Addresses a fetched URL may never reach unless explicitly allowed: what lives inside the host or
 * its network (loopback, private, link-local with the cloud metadata service at 169.254.169.254,
 * unique-local), and what is no single host (unspecified, multicast, broadcast, reserved). IPv4-mapped
 * IPv6 is refused whole, since it is an IPv4 address in disguise.
 */
const REFUSED: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

// One list per family: a BlockList matches an IPv4 address against IPv6 rules through its mapped form.
const refused = { ipv4: new BlockList(), ipv6: new BlockList() };
for (const [network, prefix, type] of REFUSED) refused[type].addSubnet(network, prefix, type);

/** ::ffff:a.b.c.d in any spelling, read through the URL parser's canonical form. */
const isMapped = (address: string) => /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(new URL(`http://[${address}]`).hostname.slice(1, -1));

export type AddressPolicy = (address: string) => string | undefined;

/** Parse "10.0.0.0/8,fd00::/8" into a BlockList of networks the operator allows. */
export function parseCidrs(text: string): { list: BlockList; errors: string[] } {
  const list = new BlockList();
  const errors: string[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [network, prefixText] = entry.split('/');
    const type = isIP(network) === 4 ? 'ipv4' : isIP(network) === 6 ? 'ipv6' : undefined;
    const prefix = prefixText === undefined ? (type === 'ipv4' ? 32 : 128) : Number(prefixText);
    if (!type || !/^\d+$/.test(prefixText ?? '0') || prefix > (type === 'ipv4' ? 32 : 128)) {
      errors.push(entry);
      continue;
    }
    list.addSubnet(network, prefix, type);
  }
  return { list, errors };
}

/** Why `address` may not be fetched from, or undefined when it may. `allowed` holds the operator's exceptions. */
export function addressPolicy(allowed?: BlockList): AddressPolicy {
  return (address) => {
    const type = isIP(address) === 4 ? 'ipv4' : isIP(address) === 6 ? 'ipv6' : undefined;
    if (!type) return `"${address}" is not an IP address`;
    if (allowed?.check(address, type)) return undefined;
    if (refused[type].check(address, type) || (type === 'ipv6' && isMapped(address))) {
      return `${address} is a loopback, private, link-local, multicast or otherwise internal address (allow it with LUMEN_FACE_URL_FETCH_ALLOW_PRIVATE)`;
    }
    return undefined;
  };
}
