/**
 * What the rest of the package takes from the CLI: its one table from error code to exit code
 * (public, see src/index.ts). The CLI itself starts at main.ts, which nothing in src imports.
 */
export { ExitCode, exitCodeOf } from './exitCodes.js';
