export { ccxtAdapter, CcxtAdapterOptions } from './ccxtAdapter.js';
export type { CcxtAdapter } from './ccxtAdapter.js';
export { CCXT_ENV, ccxtOptionsFromEnv, ccxtFromEnv, prepare } from './fromCli.js';
