/*
 * The adapters shipped with the package, by the name `--adapter` gives them. Each is imported
 * only when named (a dynamic import), and an adapter's module imports its venue's client library
 * only when an adapter is made, so `ptrack --help` and every other command never load one.
 * A name is `<prefix>` or `<prefix>:<argument>`.
 */

import type { ExternalSystem } from '../reconcile/index.js';

/** Makes a built-in adapter from what follows its prefix (`live` in `alpaca:live`) and the environment. */
export type BuiltInAdapterFactory = (argument: string | undefined, env: NodeJS.ProcessEnv) => Promise<ExternalSystem>;

const BUILT_IN = new Map<string, () => Promise<BuiltInAdapterFactory>>([
  ['alpaca', async () => (await import('./alpaca/index.js')).alpacaFromEnv],
  [
    'ccxt',
    async () => {
      const ccxt = await import('./ccxt/index.js');
      // ccxt itself (a hundred exchanges, a second or more) is loaded here, bounded apart from making the adapter.
      await ccxt.prepare();
      return ccxt.ccxtFromEnv;
    },
  ],
]);

/** A built-in adapter's name taken apart, and how to load its factory. */
export interface BuiltInAdapter {
  prefix: string;
  argument: string | undefined;
  load: () => Promise<BuiltInAdapterFactory>;
}

/**
 * The built-in adapter `name` names (`alpaca`, `alpaca:live`), or undefined when it is not one
 * (it is then a module path).
 *
 * @example
 * ```ts
 * const builtIn = builtInAdapter('alpaca:live'); // { prefix: 'alpaca', argument: 'live', load }
 * ```
 */
export function builtInAdapter(name: string): BuiltInAdapter | undefined {
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? name : name.slice(0, colon);
  const load = BUILT_IN.get(prefix);
  if (load === undefined) return undefined;
  return { prefix, argument: colon < 0 ? undefined : name.slice(colon + 1), load };
}
