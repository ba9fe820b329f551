export { runDemoPhase1, runDemoPhase2, demoSettings } from './demo.js';
export type { DemoOptions, DemoSettings } from './demo.js';
