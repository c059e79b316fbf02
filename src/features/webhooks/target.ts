import { BlockList, isIP } from 'node:net';
import type { FieldError } from '../../http/problem.js';

/**
 * Where webhooks may be sent. Only https, except to hosts the deployment allows
 * (WEBHOOK_ALLOW_HOSTS: loopback in tests, an internal system); and never to a private,
 * loopback, link-local or otherwise non-public address unless the host is allowed, so that a
 * subscription cannot make the service call into its own network (SSRF). An address literal is
 * refused when the subscription is saved; a host name is resolved at every delivery and
 * refused then (a name may point elsewhere tomorrow), and the connection goes to the address
 * that was checked.
 */
const nonPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  nonPublic.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (IPv4 or IPv6, IPv4-mapped included) is not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return nonPublic.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 4) return nonPublic.check(address, 'ipv4');
  if (family === 6) return nonPublic.check(address, 'ipv6');
  return true;
}

/** The URL's host name without IPv6 brackets, lower case. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export function isAllowedHost(url: URL, allowHosts: readonly string[]): boolean {
  const host = hostOf(url);
  return allowHosts.some((allowed) => allowed.replace(/^\[(.*)\]$/, '$1') === host);
}

/** Every reason `value` cannot be a webhook target (at `path` in the request). */
export function targetUrlProblems(
  value: string,
  allowHosts: readonly string[],
  path = 'body.url',
): FieldError[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [{ path, message: 'is not an absolute URL', code: 'invalid_url' }];
  }
  const problems: FieldError[] = [];
  const allowed = isAllowedHost(url, allowHosts);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
    problems.push({ path, message: 'must be an https URL', code: 'https_required' });
  }
  if (url.username || url.password) {
    problems.push({ path, message: 'must not contain credentials', code: 'credentials' });
  }
  if (url.hash) {
    problems.push({ path, message: 'must not contain a fragment', code: 'fragment' });
  }
  const host = hostOf(url);
  if (!allowed && (isIP(host) !== 0 ? isNonPublicAddress(host) : host === 'localhost')) {
    problems.push({
      path,
      message: 'must not point to a private, loopback or link-local address',
      code: 'private_address',
    });
  }
  return problems;
}
