export { alpacaAdapter, ALPACA_KEY_ID_ENV, ALPACA_LIVE_URL, ALPACA_PAPER_URL, ALPACA_SECRET_ENV } from './alpacaAdapter.js';
export type { AlpacaAdapter, AlpacaAdapterOptions, AlpacaCloseOptions } from './alpacaAdapter.js';
export { alpacaFromEnv, ALPACA_BASE_URL_ENV } from './fromEnv.js';
