/**
 * libpq's multi-host connection URLs, which node-postgres (8.23) cannot read: its parser uses
 * WHATWG `new URL` and throws on `h1:p1,h2:p2`, and it knows nothing of target_session_attrs.
 *
 *   postgres://user:pw@h1:5432,h2:5433/db?target_session_attrs=read-write&sslmode=disable
 *
 * This module only splits the host list and target_session_attrs off; everything else (user,
 * password, database, sslmode, application_name, …) stays text that node-postgres reads itself,
 * one host at a time (`urlForHost`), so its meaning does not change. Pure: no I/O.
 */

export const DEFAULT_PORT = 5432;

/** Which server a connection may use: `read-write` = only one that accepts writes (the primary). */
export const targetSessionAttrs = ['any', 'read-write'] as const;
export type TargetSessionAttrs = (typeof targetSessionAttrs)[number];

export interface HostPort {
  host: string;
  port: number;
}

export interface ConnectionString {
  /** In the URL's order (libpq tries them in this order); empty: node-postgres' default host. */
  hosts: HostPort[];
  targetSessionAttrs: TargetSessionAttrs;
  user: string;
  password: string;
  database: string;
  /** The query parameters but target_session_attrs, decoded. */
  params: Record<string, string>;
  /** The URL's text before the host list (`postgres://user:pw@`) and after it, without
   * target_session_attrs: what `urlForHost` joins around one host. */
  prefix: string;
  suffix: string;
}

export class ConnectionStringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionStringError';
  }
}

const URL_SHAPE = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/;
const PORT = /^[0-9]{1,5}$/;

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConnectionStringError(`${what} has an invalid percent-encoding`);
  }
}

function parseHost(text: string): HostPort {
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] as string;
    port = bracketed[2];
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') !== colon) {
      throw new ConnectionStringError(
        `host "${text}": write an IPv6 address in brackets, e.g. [::1]:5432`,
      );
    }
    host = colon < 0 ? text : text.slice(0, colon);
    port = colon < 0 ? undefined : text.slice(colon + 1);
  }
  host = decode(host, 'a host');
  if (host === '') throw new ConnectionStringError('a host of the list is empty');
  if (port === undefined || port === '') return { host, port: DEFAULT_PORT };
  const n = Number(port);
  if (!PORT.test(port) || n < 1 || n > 65535) {
    throw new ConnectionStringError(`host ${host}: port "${port}" is not a number from 1 to 65535`);
  }
  return { host, port: n };
}

/**
 * Reads a postgres:// or postgresql:// URL with one host or several (`h1:p1,h2:p2`, IPv6 in
 * brackets, default port 5432). Throws a ConnectionStringError saying what is wrong (never the
 * password).
 */
export function parseConnectionString(url: string): ConnectionString {
  const shape = URL_SHAPE.exec(url);
  if (!shape) throw new ConnectionStringError('must be a postgres:// or postgresql:// URL');
  const scheme = shape[1] as string;
  const authority = shape[2] as string;
  const tail = shape[3] as string;
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  const colon = userinfo.indexOf(':');
  const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), 'the user name');
  const password = colon < 0 ? '' : decode(userinfo.slice(colon + 1), 'the password');

  // No host at all (`postgres:///db`): node-postgres' default, left to it.
  const hosts = hostList === '' ? [] : hostList.split(',').map(parseHost);

  const hash = tail.indexOf('#');
  const beforeHash = hash < 0 ? tail : tail.slice(0, hash);
  const question = beforeHash.indexOf('?');
  const path = question < 0 ? beforeHash : beforeHash.slice(0, question);
  const query = question < 0 ? '' : beforeHash.slice(question + 1);
  if (path !== '' && !path.startsWith('/')) throw new ConnectionStringError('has no valid path');
  const database = decode(path.slice(1), 'the database name');

  const params: Record<string, string> = {};
  const kept: string[] = [];
  let target: string | undefined;
  for (const pair of query.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = decode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '), 'a parameter');
    const value = decode((eq < 0 ? '' : pair.slice(eq + 1)).replace(/\+/g, ' '), 'a parameter');
    if (key === 'target_session_attrs') {
      target = value;
    } else {
      params[key] = value;
      kept.push(pair);
    }
  }
  if (target !== undefined && !(targetSessionAttrs as readonly string[]).includes(target)) {
    throw new ConnectionStringError(
      `target_session_attrs=${target} is not supported (only read-write or any)`,
    );
  }
  if (hosts.length === 0 && target !== undefined && target !== 'any') {
    throw new ConnectionStringError(`target_session_attrs=${target} needs a host in the URL`);
  }
  if (hosts.length > 1 && 'host' in params) {
    throw new ConnectionStringError('names hosts both in the host list and in ?host=');
  }
  return {
    hosts,
    targetSessionAttrs: (target ?? 'any') as TargetSessionAttrs,
    user,
    password,
    database,
    params,
    prefix: `${scheme}${at < 0 ? '' : `${userinfo}@`}`,
    suffix: `${path}${kept.length > 0 ? `?${kept.join('&')}` : ''}`,
  };
}

function formatHost({ host, port }: HostPort): string {
  const name = host.includes(':') ? `[${host}]` : encodeURIComponent(host);
  return `${name}:${port}`;
}

/** The URL for one host of the list, without target_session_attrs: what node-postgres reads. */
export function urlForHost(cs: ConnectionString, host: HostPort): string {
  return `${cs.prefix}${formatHost(host)}${cs.suffix}`;
}

/** The URL of these parts (percent-encoded); parseConnectionString reads them back. */
export function formatConnectionString(parts: {
  hosts: HostPort[];
  targetSessionAttrs?: TargetSessionAttrs;
  user?: string;
  password?: string;
  database?: string;
  params?: Record<string, string>;
}): string {
  const user = parts.user ? encodeURIComponent(parts.user) : '';
  const password = parts.password ? `:${encodeURIComponent(parts.password)}` : '';
  const userinfo = user || password ? `${user}${password}@` : '';
  const params = Object.entries(parts.params ?? {}).map(
    ([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`,
  );
  if (parts.targetSessionAttrs && parts.targetSessionAttrs !== 'any') {
    params.push(`target_session_attrs=${parts.targetSessionAttrs}`);
  }
  return (
    `postgres://${userinfo}${parts.hosts.map(formatHost).join(',')}` +
    `/${encodeURIComponent(parts.database ?? '')}${params.length > 0 ? `?${params.join('&')}` : ''}`
  );
}

/** Where the URL points, for messages: hosts, database and user, never the password. */
export function describeConnectionString(cs: ConnectionString): string {
  const hosts = cs.hosts.map(formatHost).join(',');
  return `PostgreSQL database ${cs.database || '(default)'} on ${hosts} as ${cs.user || '(default user)'}`;
}
