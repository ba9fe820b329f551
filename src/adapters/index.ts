export { alpacaAdapter } from './alpaca/index.js';
export type { AlpacaAdapter, AlpacaAdapterOptions, AlpacaCloseOptions } from './alpaca/index.js';
export { ccxtAdapter, CcxtAdapterOptions, CCXT_ENV } from './ccxt/index.js';
export type { CcxtAdapter } from './ccxt/index.js';

// for other folders of src; not public
export { builtInAdapter } from './builtIn.js';
export type { BuiltInAdapter, BuiltInAdapterFactory } from './builtIn.js';
