export { deciderSpec } from './deciderSpec.js';
export type { DeciderSpecOptions, GivenEvent } from './deciderSpec.js';
