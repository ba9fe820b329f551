export { TrackerConfig, policyOf } from './schema.js';
export type { TrackerConfigInput } from './schema.js';
export { loadConfig, parseConfigText, CONFIG_FILE } from './loadConfig.js';
export type { LoadedConfig } from './loadConfig.js';
export { defaultConfigText } from './defaultConfigText.js';
