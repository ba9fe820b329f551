/*
 * `--adapter ccxt:<exchangeId>`: the ccxt adapter with its settings from environment variables.
 * Credentials come only from here (never from the config file) and are never printed.
 */

import { ValidationError } from '../../errors/index.js';
import { ccxtAdapter, type CcxtAdapter, type CcxtAdapterOptions, loadCcxt } from './ccxtAdapter.js';

/** The environment variables the CLI reads for the ccxt adapter (README "The ccxt adapter"). */
export const CCXT_ENV = {
  apiKey: 'PTRACK_CCXT_API_KEY',
  secret: 'PTRACK_CCXT_SECRET',
  password: 'PTRACK_CCXT_PASSWORD',
  uid: 'PTRACK_CCXT_UID',
  sandbox: 'PTRACK_CCXT_SANDBOX',
  url: 'PTRACK_CCXT_URL',
  market: 'PTRACK_CCXT_MARKET',
  positionMode: 'PTRACK_CCXT_POSITION_MODE',
  quote: 'PTRACK_CCXT_QUOTE',
  symbols: 'PTRACK_CCXT_SYMBOLS',
  rateLimit: 'PTRACK_CCXT_RATE_LIMIT',
} as const;

const set = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[]): T | undefined {
  const v = set(env, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw new ValidationError(`${name}: expected ${choices.map((c) => `"${c}"`).join(' or ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = set(env, name);
  if (v === undefined) return fallback;
  if (v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new ValidationError(`${name}: expected 1, true, 0 or false, got ${JSON.stringify(v)}`);
}

/** The adapter's options from `ccxt:<exchangeId>` and the environment. */
export function ccxtOptionsFromEnv(argument: string | undefined, env: NodeJS.ProcessEnv): CcxtAdapterOptions {
  if (argument === undefined || argument === '') {
    throw new ValidationError('--adapter: expected ccxt:<exchangeId> (e.g. ccxt:binanceusdm), got "ccxt" without an exchange');
  }
  const credentials = Object.fromEntries(
    (['apiKey', 'secret', 'password', 'uid'] as const).flatMap((key) => {
      const v = set(env, CCXT_ENV[key]);
      return v === undefined ? [] : [[key, v]];
    }),
  );
  const url = set(env, CCXT_ENV.url);
  const market = oneOf(env, CCXT_ENV.market, ['derivatives', 'spot'] as const);
  const positionMode = oneOf(env, CCXT_ENV.positionMode, ['netting', 'hedge'] as const);
  const quote = set(env, CCXT_ENV.quote);
  const symbols = set(env, CCXT_ENV.symbols);
  return {
    exchangeId: argument,
    credentials,
    sandbox: flag(env, CCXT_ENV.sandbox, false),
    rateLimit: flag(env, CCXT_ENV.rateLimit, true),
    ...(url === undefined ? {} : { baseUrl: url }),
    ...(market === undefined ? {} : { market }),
    ...(positionMode === undefined ? {} : { positionMode }),
    ...(quote === undefined ? {} : { quote }),
    ...(symbols === undefined
      ? {}
      : {
          symbols: symbols
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== ''),
        }),
  };
}

/** Loads ccxt, so that making the adapter is bounded apart from importing the library. */
export async function prepare(): Promise<void> {
  await loadCcxt();
}

/**
 * The CLI's entry: `ccxt:<exchangeId>` with settings from the environment ({@link CCXT_ENV}).
 *
 * @example
 * ```ts
 * const venue = await ccxtFromEnv('binanceusdm', process.env);
 * ```
 */
export function ccxtFromEnv(argument: string | undefined, env: NodeJS.ProcessEnv): Promise<CcxtAdapter> {
  return ccxtAdapter(ccxtOptionsFromEnv(argument, env));
}
