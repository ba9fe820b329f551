import { StoreError } from '../../errors/index.js';
import { quote } from '../../_internals/zodIssues.js';
import { redactStoreString } from '../esdb/connectionString.js';

/** A parsed PostgreSQL store string. */
export interface PostgresConnection {
  /** What the `pg` driver is given: the string without `schema=` (it holds the password, if any). */
  connectionString: string;
  /** The schema the trade log lives in. */
  schema: string;
  /** The string with its password as `***`: the only form ever printed or logged. */
  display: string;
}

export const DEFAULT_SCHEMA = 'ptrack';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const PG_EXPECTED = "expected 'postgres://user:password@host:5432/database' (or postgresql://), optionally with ?schema=<name>";

/**
 * Checks a schema name: lower-case letters, digits and `_`, starting with a letter or `_`, at
 * most 63 characters (PostgreSQL's limit), so it never needs quoting rules explained.
 */
export function validateSchemaName(schema: unknown): string {
  if (typeof schema === 'string' && SCHEMA_NAME.test(schema) && !schema.startsWith('pg_')) return schema;
  throw new StoreError(
    `schema: expected a name of 1-63 lower-case letters, digits and _ (starting with a letter or _, not pg_), got ${quote(schema)}`,
  );
}

/**
 * Parses a `postgres://` or `postgresql://` store string before anything is dialled. `?schema=`
 * names the schema (default `ptrack`, or `schema` when given); every other parameter goes to the
 * driver. An error names the string with its password as `***`, never the password.
 *
 * @example
 * ```ts
 * parsePostgresConnectionString('postgres://bot:s3cret@db:5432/trading?schema=desk1')
 * // { connectionString: 'postgres://bot:s3cret@db:5432/trading', schema: 'desk1', display: 'postgres://bot:***@db:5432/trading?schema=desk1' }
 * ```
 */
export function parsePostgresConnectionString(spec: string, schema?: string): PostgresConnection {
  const text = spec.trim();
  const display = redactStoreString(text);
  const fail = (what: string): never => {
    throw new StoreError(`store "${display}": ${what}; ${PG_EXPECTED}`);
  };
  if (!/^postgres(ql)?:\/\//.test(text)) return fail('not a PostgreSQL connection string (write the scheme in lower case, with //)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid URL (a port above 65535, a space, or a password with an unescaped @ : / ? # must be percent-encoded)');
  }
  const named = url.searchParams.getAll('schema');
  if (named.length > 1) fail('schema= is given more than once');
  let chosen = schema ?? named[0] ?? DEFAULT_SCHEMA;
  try {
    chosen = validateSchemaName(chosen);
  } catch (error) {
    return fail((error as Error).message);
  }
  url.searchParams.delete('schema');
  return { connectionString: url.toString(), schema: chosen, display };
}

/**
 * Splits a `postgres://` store string into the string without its password (the form a config
 * file may hold: `user:pass@` becomes `user@`, a `?password=` parameter, which `pg` also reads,
 * is dropped) and the password itself, percent-decoded, or `null` when the string holds none
 * (an empty one counts as none). The password then reaches the driver through `PGPASSWORD`,
 * which `pg` reads when the string names none. A string that does not parse is a StoreError,
 * with the password as `***`.
 *
 * @example
 * ```ts
 * splitPostgresPassword('postgres://bot:s%40cret@db:5432/trading?schema=desk1')
 * // { spec: 'postgres://bot@db:5432/trading?schema=desk1', password: 's@cret' }
 * ```
 */
export function splitPostgresPassword(spec: string): { spec: string; password: string | null } {
  parsePostgresConnectionString(spec); // refuses a bad string, redacted, before anything is taken apart
  const url = new URL(spec.trim());
  let password: string | null = null;
  try {
    password = url.password === '' ? null : decodeURIComponent(url.password);
  } catch {
    throw new StoreError(`store "${redactStoreString(spec.trim())}": the password is not valid percent-encoding (write % as %25)`);
  }
  url.password = '';
  const inQuery = url.searchParams.get('password');
  if (inQuery !== null) {
    password = inQuery === '' ? password : inQuery;
    url.searchParams.delete('password');
  }
  return { spec: url.toString(), password };
}
