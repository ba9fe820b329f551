// Mutation testing of the decider and the reconciler (issue 17): `npm run test:mutation`, off CI.
//
// What is mutated, and why these files:
// - src/commands: the decider. decide.ts (the dispatcher and the recovery gate's call) and every decide*
//   module it dispatches to (positions, orders, adopted orders, breaker, reconciliation, recovery,
//   symbols, batches); the risk rules: entryRules.ts (what refuses an Enter/AdoptOrphan), exitRules.ts
//   (loss streaks, daily loss, cooldowns after an exit), breaker.ts (whether a trip still refuses),
//   groupOf.ts (which correlation group a symbol's risk counts in), pnl.ts (the P&L every loss rule
//   reads); transitions.ts (the state machine's refusals); evolve.ts (the fold: a fill counted twice
//   would be here).
//   Not mutated: state/schemas/policy (types and zod schemas, checked at the boundary by their own
//   tests), handler/snapshot* (storage and caching around the decider), clientOrderId/fingerprint/
//   signals/format/time (derivations and formatting, no rule).
// - src/reconcile: the planner (plan.ts per id, planNetting.ts netting and hedge, planCloseAll.ts
//   close_all), the per-symbol policy it decides with (policyFor, lines 68-85 of policy.ts; the rest
//   of that file is the zod schema) and the executor (executePlan.ts). The adapters, the simulated
//   exchange, the scheduler and the order resolution are outside this scope.
//
// Equivalent mutants are marked where they are, with `// Stryker disable next-line <mutator>: <reason>`
// in the source (the reason is shown in the report), never by leaving a file out. Marked so far:
// - src/commands/groupOf.ts, the `symbol === undefined` guard (ConditionalExpression): the group lists hold
//   strings, so without the guard the loop finds no group for undefined and returns undefined as well.
// - The exhaustive `default:` of each switch over a command or event type (decide.ts, decideBreaker.ts,
//   decideOrder.ts three times, decidePosition.ts, decideReconcile.ts, decideRecovery.ts, decideSymbol.ts,
//   evolve.ts twice, executePlan.ts; ConditionalExpression, BlockStatement): the compiler proves the cases
//   cover every type, so no input reaches it.
// - src/commands/transitions.ts, the hint's last two lines (ConditionalExpression, StringLiteral): every
//   status check in the decider that leaves out WATCHING names IN or UNKNOWN, so the lines above answer
//   first; the fallback stays for a future check.
// - src/reconcile/planNetting.ts: a group's `all` list seeded with a string (ArrayDeclaration: `recent` finds no
//   entry time on it and answers false); the shortcut past keys with nothing IN and nothing outside, and the
//   reappeared loop's guard when nothing is outside (ConditionalExpression: the branches plan nothing for them
//   either way); `>` against `>=` where `same` has already answered for equal quantities, `left >= q` where
//   `same(left, q)` covers equality, `left <= 0` where `same(left, 0)` covers 0, and the two orderings whose
//   operands are never equal (groups by key and side, positions by id) (EqualityOperator).
// - src/commands/decideAdoptOrder.ts, two guards the compiler needs (ConditionalExpression): `only === undefined`
//   after `candidates.length !== 1`, and `cmd.price !== undefined` before `cmd.price > 0`.
// - src/commands/decideOrder.ts, the hint for a refusal in a live state (all mutators): no refusal reaches
//   PENDING_SUBMIT, OPEN or PARTIALLY_FILLED without a reason of its own.
// - src/commands/decideBatch.ts: the fork's 'scratch' label (StringLiteral: it only picks the cheaper overlay),
//   the guards on a missing command id (ConditionalExpression: no fingerprint is read and no command found without
//   one), the `positionId` key test in the reused-id message (a parsed command sets no key to undefined), and an
//   undefined bookId passed on (decide reads it as none).

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/commands/decide*.ts',
    'src/commands/evolve.ts',
    'src/commands/entryRules.ts',
    'src/commands/exitRules.ts',
    'src/commands/breaker.ts',
    'src/commands/groupOf.ts',
    'src/commands/pnl.ts',
    'src/commands/transitions.ts',
    'src/reconcile/plan.ts',
    'src/reconcile/planNetting.ts',
    'src/reconcile/planCloseAll.ts',
    'src/reconcile/policy.ts:68-85',
    'src/reconcile/executePlan.ts',
  ],
  // Static mutants (module-level constants such as the verbs table) would need a fresh module
  // environment for every test run; they are counted as "ignored" in the report instead.
  ignoreStatic: true,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'html', 'json', 'progress-append-only'],
  clearTextReporter: { reportTests: false, reportMutants: false, logTests: false, allowColor: false },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // vitest does not type-check, and test/reconcile/readmeBrokerAdapter.mjs must stay byte-equal to the README
  // block: no `// @ts-nocheck` headers in the sandbox.
  disableTypeChecks: false,
  // Two cores, shared: one test runner each.
  concurrency: 2,
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 85, break: null },
};

export default config;
