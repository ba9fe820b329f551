import { defineConfig } from 'vitest/config';

// The tests `npm run test:mutation` runs against each mutant: the fast specifications, unit and
// property tests of the decider (test/commands) and the reconciler (test/reconcile). No child
// processes, PostgreSQL or browsers (*.int.test.ts, *.e2e.test.ts, the postgres race). The model
// property tests run with fewer cases (PTRACK_FC_RUNS) so a surviving mutant costs seconds, not a
// minute; their seed is still pinned and printed. One module graph for all files (isolate: false, which
// Stryker's runner allows since it switches mutants at run time): a mutant run costs a fifth of the time.
export default defineConfig({
  test: {
    include: ['test/commands/**/*.test.ts', 'test/reconcile/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/*.e2e.test.ts', '**/*.int.test.ts'],
    pool: 'threads',
    isolate: false,
    env: { PTRACK_FC_RUNS: process.env.PTRACK_FC_RUNS ?? '25' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
