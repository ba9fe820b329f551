import { StoreError } from '../../errors/index.js';
import { definedFields } from '../../_internals/definedFields.js';
import { present } from '../../_internals/present.js';

/** One node (or the DNS name of a cluster) a connection string names. */
export interface EsdbEndpoint {
  host: string;
  port: number;
}

/** A parsed EventStoreDB connection string. */
export interface EsdbConnection {
  /** `esdb+discover://`: the host is a DNS name whose records list the cluster's nodes. */
  discover: boolean;
  /** One node, or several gossip seeds of a cluster. */
  hosts: EsdbEndpoint[];
  /** TLS is on unless the string says `tls=false` (an insecure development node). */
  tls: boolean;
  username?: string;
  /** The query options, with their canonical names. */
  options: Readonly<Record<string, string | number | boolean>>;
  /** The string to hand to the client: canonical option names, nothing else changed. */
  connectionString: string;
  /** The string for messages and logs: the password replaced by `***`. */
  display: string;
}

export const ESDB_EXPECTED =
  "expected esdb://host:2113?tls=false (one node), esdb://host1:2113,host2:2113,host3:2113 (a cluster's gossip seeds) or esdb+discover://cluster.example.com:2113 (a cluster found through DNS)";

type OptionKind = 'boolean' | 'integer' | 'string' | 'nodePreference';

/** The options the client understands, by canonical name (the client matches them without case, `-` or `_`). */
const OPTIONS: Readonly<Record<string, OptionKind>> = {
  tls: 'boolean',
  tlsVerifyCert: 'boolean',
  tlsCAFile: 'string',
  userCertFile: 'string',
  userKeyFile: 'string',
  connectionName: 'string',
  maxDiscoverAttempts: 'integer',
  discoveryInterval: 'integer',
  gossipTimeout: 'integer',
  nodePreference: 'nodePreference',
  defaultDeadline: 'integer',
  keepAliveInterval: 'integer',
  keepAliveTimeout: 'integer',
  throwOnAppendFailure: 'boolean',
};

const NODE_PREFERENCES: Readonly<Record<string, string>> = {
  leader: 'leader',
  follower: 'follower',
  random: 'random',
  readonlyreplica: 'read_only_replica',
};

const flat = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
const CANONICAL = new Map(Object.keys(OPTIONS).map((k) => [flat(k), k]));

// A DNS name or an IPv4 address: letters, digits, '-', '_' and dots between labels.
const HOST = /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;

/**
 * A store string safe to print: whatever stands before the last `@` after the scheme (the
 * credentials) becomes `user:***`, on the raw text, before any parsing, whatever the scheme
 * (`esdb://`, a mistyped `esdbs://` or `tcp://`, no `//`, a leading space) and whatever the
 * password holds (`/`, `?`, `@`). Hosts never hold `@`, so cutting at the last one can only
 * hide too much, never too little (a `postgres://` user alone, `bot@`, is shown: it is a name,
 * the password coming from PGPASSWORD). A `password=` or `sslpassword=` parameter's value becomes
 * `***` too. `sqlite:` and `memory:` strings carry no credentials and are returned as they are.
 *
 * @example
 * ```ts
 * redactStoreString('esdbs://admin:p@ss/w?rd@db:2113') // 'esdbs://admin:***@db:2113'
 * ```
 */
export function redactStoreString(spec: string): string {
  const m = /^(\s*)([A-Za-z][A-Za-z0-9+.-]*):(\/*)(.*)$/s.exec(spec);
  if (!m) {
    const at = spec.lastIndexOf('@');
    return at < 0 ? spec : `***${spec.slice(at)}`;
  }
  const [, lead, scheme, slashes, rest] = m as unknown as [string, string, string, string, string];
  if (/^(sqlite|memory)$/i.test(scheme)) return spec;
  const at = rest.lastIndexOf('@');
  if (at < 0) return redactSecretParams(spec);
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(':');
  // A postgres:// userinfo without a colon is a user name (the password comes from PGPASSWORD); elsewhere it may be a token.
  const shown = colon >= 0 ? `${userinfo.slice(0, colon)}:***` : /^postgres(ql)?$/i.test(scheme) ? userinfo : '***';
  return redactSecretParams(`${lead}${scheme}:${slashes}${shown}${rest.slice(at)}`);
}

/** `?password=` and `?sslpassword=` (which the `pg` driver reads from a postgres:// string) become `=***`. */
function redactSecretParams(spec: string): string {
  return spec.replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

const redact = redactStoreString;

/**
 * Parses an EventStoreDB connection string before anything is loaded or dialled, so a typo
 * is a clear error naming the part that is wrong, never a hang or an option silently ignored
 * (the client itself only warns about unknown options).
 *
 * @example
 * ```ts
 * parseEsdbConnectionString('esdb://localhost:2113?tls=false')
 * // { discover: false, hosts: [{ host: 'localhost', port: 2113 }], tls: false, ... }
 * ```
 */
export function parseEsdbConnectionString(spec: string): EsdbConnection {
  const display = redact(spec.trim());
  // Typed on the name, so a call narrows like a throw (`if (x === undefined) fail(...)`).
  const fail: (what: string) => never = (what) => {
    throw new StoreError(`store "${display}": ${what}; ${ESDB_EXPECTED}`);
  };
  const text = spec.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(text);
  if (!m) return fail('not an EventStoreDB connection string');
  const scheme = present(m[1], 'the scheme group');
  if (scheme !== 'esdb' && scheme !== 'esdb+discover') {
    return fail(`unknown scheme "${scheme}://"${scheme.toLowerCase().startsWith('esdb') ? ' (write it in lower case)' : ''}`);
  }
  const discover = scheme === 'esdb+discover';
  let rest = present(m[2], 'the rest group');

  // user:password@ : everything before the last '@' (hosts never hold one), so no piece of a
  // password can reach a later message as a "host" or a "path".
  let username: string | undefined;
  let credentials = '';
  const lastAt = rest.lastIndexOf('@');
  if (lastAt >= 0) {
    const userinfo = rest.slice(0, lastAt);
    if (/[/?@]/.test(userinfo)) fail('the user name or password holds "/", "?" or "@": percent-encode them (%2F, %3F, %40)');
    const colon = userinfo.indexOf(':');
    if (colon < 0) fail('credentials must be user:password@');
    const [user, password] = [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
    if (user === '' || password === '') fail('the credentials must be user:password@ with neither part empty');
    try {
      username = decodeURIComponent(user);
      decodeURIComponent(password);
    } catch {
      fail('the credentials are not valid percent-encoding');
    }
    credentials = `${userinfo}@`;
    rest = rest.slice(lastAt + 1);
  }

  const q = rest.indexOf('?');
  let hostPart = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  hostPart = hostPart.replace(/\/+$/, '');
  if (hostPart.includes('/')) fail(`unexpected path "${hostPart.slice(hostPart.indexOf('/'))}" after the hosts`);
  if (hostPart === '') fail('no host');

  const hosts: EsdbEndpoint[] = hostPart.split(',').map((raw) => {
    const h = raw.trim();
    if (h === '') fail('an empty host in the list (two commas, or a trailing comma)');
    if (h.startsWith('[') || h.split(':').length > 2) fail(`"${h}": IPv6 addresses are not supported by the client, use a host name`);
    const [host, port] = h.split(':') as [string, string | undefined];
    if (!HOST.test(host)) fail(`"${host}" is not a host name or IPv4 address`);
    if (port === undefined) return { host, port: 2113 };
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      fail(`port "${port}" of ${host}: expected a number from 1 to 65535`);
    return { host, port: Number(port) };
  });
  if (discover && hosts.length > 1) {
    fail('esdb+discover:// takes one DNS name; to list several nodes use esdb://host1:2113,host2:2113,host3:2113');
  }

  const options: Record<string, string | number | boolean> = {};
  const canonicalPairs: string[] = [];
  if (q >= 0) {
    if (query === '') fail('nothing after "?"');
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) fail(`option "${pair}": expected key=value`);
      const rawKey = pair.slice(0, eq);
      const raw = pair.slice(eq + 1).trim();
      const key = CANONICAL.get(flat(rawKey));
      if (key === undefined) fail(`unknown option "${rawKey}" (known: ${Object.keys(OPTIONS).join(', ')})`);
      const k = key;
      if (k in options) fail(`option "${k}" is given twice`);
      let value: string | number | boolean;
      switch (present(OPTIONS[k], `the kind of option ${k}`)) {
        case 'boolean':
          if (raw !== 'true' && raw !== 'false') fail(`option ${k}: expected true or false, got "${raw}"`);
          value = raw === 'true';
          break;
        case 'integer':
          if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) fail(`option ${k}: expected a whole number, got "${raw}"`);
          value = Number(raw);
          break;
        case 'nodePreference': {
          const p = NODE_PREFERENCES[flat(raw)];
          if (p === undefined) fail(`option nodePreference: expected leader, follower, random or read_only_replica, got "${raw}"`);
          value = p;
          break;
        }
        case 'string':
          try {
            value = decodeURIComponent(raw);
          } catch {
            return fail(`option ${k}: not valid percent-encoding`);
          }
          break;
      }
      options[k] = value;
      canonicalPairs.push(`${k}=${raw}`);
    }
  }
  if (options.throwOnAppendFailure === false) {
    fail('throwOnAppendFailure=false is not supported: the engine relies on a failed append raising its error');
  }
  if (options.defaultDeadline === 0) fail('option defaultDeadline: expected a positive number of milliseconds');

  const hostsText = hosts.map((h) => `${h.host}:${h.port}`).join(',');
  const connectionString = `${scheme}://${credentials}${hostsText}${canonicalPairs.length > 0 ? `?${canonicalPairs.join('&')}` : ''}`;
  return {
    discover,
    hosts,
    tls: options.tls !== false,
    ...definedFields({ username }),
    options,
    connectionString,
    display: redact(connectionString),
  };
}
