#!/usr/bin/env node
// Runs the compiled CLI (built by `npm install` through the `prepare` script).
import { main } from '../dist/cli/ptrack.mjs';

const code = await main(process.argv.slice(2));
// A command has answered once main returns (long-running ones return when stopped): leave even if
// a client library keeps a handle open (gRPC connections do), after stdout and stderr drain.
process.exitCode = code;
let pending = 2;
const done = () => {
  if (--pending === 0) process.exit(code);
};
process.stdout.write('', done);
process.stderr.write('', done);
