/*
 * `--adapter alpaca` on the command line: the adapter made from the environment. The paper
 * account unless the name says `alpaca:live`; `PTRACK_ALPACA_BASE_URL` points it elsewhere
 * (a proxy, a test server). Credentials only from the environment, never from the config file.
 */

import { ValidationError } from '../../errors/index.js';
import { alpacaAdapter, type AlpacaAdapter } from './alpacaAdapter.js';

/** The variable that overrides the host (wins over `alpaca:live`). */
export const ALPACA_BASE_URL_ENV = 'PTRACK_ALPACA_BASE_URL';

/**
 * The adapter `--adapter alpaca[:paper|:live]` names, from the environment.
 *
 * @example
 * ```ts
 * const external = await alpacaFromEnv('live', process.env);
 * ```
 */
export function alpacaFromEnv(argument: string | undefined, env: NodeJS.ProcessEnv): Promise<AlpacaAdapter> {
  if (argument !== undefined && argument !== 'paper' && argument !== 'live') {
    throw new ValidationError(`--adapter: alpaca:${argument}: expected alpaca, alpaca:paper or alpaca:live`);
  }
  const baseUrl = env[ALPACA_BASE_URL_ENV];
  return alpacaAdapter({
    env,
    live: argument === 'live',
    ...(baseUrl === undefined || baseUrl === '' ? {} : { baseUrl }),
  });
}
