import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Position } from '../../src/commands/index.js';
import type { RecordedEvent } from '../../src/events/index.js';
import type { RiskSummary } from '../../src/tracker/index.js';
import { ptrack, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * The ptrack binary end to end: every call is a real child process in its own temporary
 * directory, so configuration discovery (./ptrack.config.json) and the default store path
 * (./state/trades.db) are exercised as a user meets them.
 */

// The parent's environment must not leak a config file or a stack into these runs.
const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

/** The command failed with `code` and exactly one line on stderr, `ptrack: ...`, matching `pattern`. */
function expectOneLineError(r: CliResult, code: number, pattern: RegExp): string {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n'), JSON.stringify(r.stderr)).toBe(true);
  const lines = r.stderr.slice(0, -1).split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  const [line] = lines as [string];
  expect(line.startsWith('ptrack: '), line).toBe(true);
  expect(line).not.toMatch(/^\s+at /m);
  expect(line).toMatch(pattern);
  return line;
}

const jsonLines = (text: string): RecordedEvent[] =>
  text
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RecordedEvent);

/**
 * A temporary directory to run ptrack in, removed when the test finishes (the tests run
 * concurrently, so each has its own rather than a shared one set by beforeEach).
 */
function sandbox(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-cli-');
  onTestFinished(cleanup);
  const run = (...args: string[]): Promise<CliResult> => ptrack(args, { cwd: dir, env: ENV, timeoutMs: 60_000 });
  /** Runs a command that must succeed, and returns its stdout. */
  const ok = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    expect(r, `ptrack ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' });
    return r.stdout;
  };
  return {
    dir,
    run,
    ok,
    status: async (): Promise<{ book: string; positions: Position[]; risk: RiskSummary }> =>
      JSON.parse(await ok('status', '--json')) as { book: string; positions: Position[]; risk: RiskSummary },
    /** How many events the log holds (`ptrack head --json`); `args` picks the store. */
    eventCount: async (...args: string[]): Promise<number> => (JSON.parse(await ok(...args, 'head', '--json')) as { count: number }).count,
    writeConfig: (name: string, settings: Record<string, unknown>): string => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify(settings, null, 2));
      return file;
    },
  };
}

describe.concurrent('ptrack: a whole lifecycle', () => {
  it('init, track, enter, hold, partial and full exit, status, log, archive, and a new lifecycle on the same id', async ({
    onTestFinished,
  }) => {
    const { dir, ok, status, eventCount } = sandbox(onTestFinished);
    const init = await ok('init');
    expect(init).toContain(`wrote ${join(dir, 'ptrack.config.json')}`);
    expect(init).toMatch(/store sqlite .*state\/trades\.db ready \(0 events\), book main/);
    expect(existsSync(join(dir, 'ptrack.config.json'))).toBe(true);
    expect(existsSync(join(dir, 'state', 'trades.db'))).toBe(true);

    expect(await ok('track', 'AAPL-1', '--symbol', 'AAPL', '--setup', 'breakout', '--group', 'tech')).toBe(
      'AAPL-1: WATCHING AAPL long (group tech)\n',
    );
    expect(await ok('enter', 'AAPL-1', '--value', '1000', '--qty', '5', '--price', '200', '--stop', '190')).toBe(
      'AAPL-1: IN at value 1000\n',
    );
    expect(await ok('hold', 'AAPL-1', '--value', '1100')).toBe('AAPL-1: valued at 1100\n');
    expect(await ok('exit', 'AAPL-1', '--value', '1200', '--fraction', '0.5')).toBe('AAPL-1: exited 50%, still IN, realized P&L 100\n');

    // Half is closed: the rest has half the cost and half the risk (|200 - 190| x 5 / 2).
    // Reads run in parallel: each is a whole process start, and they change nothing.
    const [half, text] = await Promise.all([status(), ok('status')]);
    expect(half.book).toBe('main');
    expect(half.positions).toHaveLength(1);
    expect(half.positions[0]).toMatchObject({
      id: 'AAPL-1',
      status: 'IN',
      symbol: 'AAPL',
      setup: 'breakout',
      group: 'tech',
      side: 'long',
      origin: 'entered',
      costBasis: 500,
      value: 600,
      quantity: 2.5,
      price: 200,
      stop: 190,
      risk: 25,
      realizedPnl: 100,
    });
    expect(half.risk).toMatchObject({
      open: 1,
      maxPositions: 10,
      realizedPnl: 100,
      equity: 10_100,
      breaker: { status: 'OK' },
      cooldowns: [],
      lossStreaks: [],
    });
    expect(half.risk.todayPnl.pnl).toBe(100);
    expect(half.risk.groupRisk).toHaveLength(1);
    expect(half.risk.groupRisk[0]!.group).toBe('tech');
    expect(half.risk.groupRisk[0]!.risk).toBe(25);
    expect(half.risk.groupRisk[0]!.pct).toBeCloseTo((25 / 10_100) * 100, 9);

    expect(text).toMatch(/^book main \(sqlite .*trades\.db\): IN 1, WATCHING 0, EXITED 0, SKIPPED 0$/m);
    expect(text).toMatch(/^AAPL-1 +IN +AAPL +long +tech +600 +500 +200 /m); // value, cost, P&L realized + open
    expect(text).toMatch(/^risk: 1\/10 IN, equity 10100, realized P&L 100, day \d{4}-\d\d-\d\d P&L 100, circuit breaker ok$/m);
    expect(text).toMatch(/^ {2}group tech: risk 25 \(0\.25% of equity\)$/m);

    // A second position takes the skip path.
    expect(await ok('track', 'MSFT-1', '--symbol', 'MSFT')).toBe('MSFT-1: WATCHING MSFT long\n');
    expect(await ok('skip', 'MSFT-1', '--reason', 'no volume')).toBe('MSFT-1: SKIPPED\n');

    expect(await ok('exit', 'AAPL-1', '--value', '580')).toBe('AAPL-1: EXITED, realized P&L 80\n');
    const [done, doneText] = await Promise.all([status(), ok('status')]);
    expect(done.positions.map((p) => [p.id, p.status])).toEqual([
      ['AAPL-1', 'EXITED'],
      ['MSFT-1', 'SKIPPED'],
    ]);
    expect(done.positions[0]).toMatchObject({ status: 'EXITED', realizedPnl: 180, closedBy: 'exit' });
    expect(done.positions[1]).toMatchObject({ status: 'SKIPPED', reason: 'no volume' });
    expect(done.risk).toMatchObject({ open: 0, realizedPnl: 180, equity: 10_180, groupRisk: [] });
    expect(doneText).toMatch(/IN 0, WATCHING 0, EXITED 1, SKIPPED 1/);

    // The log: all of it, and one position's events.
    const [allText, aaplText, msftText, nopeText, lastTwo] = await Promise.all([
      ok('log', '--json'),
      ok('log', '--json', '--position', 'AAPL-1'),
      ok('log', '--position', 'MSFT-1'),
      ok('log', '--position', 'NOPE-1'),
      ok('log', '--json', '--limit', '2'),
    ]);
    const all = jsonLines(allText);
    expect(all.map((e) => e.type)).toEqual([
      'PositionTracked',
      'PositionEntered',
      'PositionValued',
      'PositionExited',
      'PositionTracked',
      'PositionSkipped',
      'PositionExited',
    ]);
    expect(all.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(all.every((e) => e.stream === 'tradelog-main')).toBe(true);
    expect(all[1]!.data).toMatchObject({ positionId: 'AAPL-1', value: 1000, quantity: 5, price: 200, stop: 190 });
    expect(all[3]!.data).toMatchObject({ fraction: 0.5, realizedPnl: 100, full: false });
    expect(all[6]!.data).toMatchObject({ fraction: 1, realizedPnl: 80, full: true });

    const aapl = jsonLines(aaplText);
    expect(aapl.map((e) => [e.revision, e.type])).toEqual([
      [0, 'PositionTracked'],
      [1, 'PositionEntered'],
      [2, 'PositionValued'],
      [3, 'PositionExited'],
      [6, 'PositionExited'],
    ]);
    const table = msftText.trimEnd().split('\n');
    expect(table[0]).toMatch(/^rev +pos +recorded +type +position +details$/);
    expect(table.slice(2).map((l) => l.split(/ +/).slice(0, 5))).toEqual([
      ['', '4', '5', expect.stringMatching(/^\d{4}-/), 'PositionTracked'],
      ['', '5', '6', expect.stringMatching(/^\d{4}-/), 'PositionSkipped'],
    ]);
    expect(table[3]).toMatch(/MSFT-1 +reason=no volume$/);
    expect(nopeText).toBe('no events for NOPE-1 in book main\n');
    expect(jsonLines(lastTwo).map((e) => e.revision)).toEqual([5, 6]);

    // Nothing is due by timeout yet; archiving by hand takes the position out of the book.
    expect(await ok('archive')).toBe('nothing to do\n');
    expect(await ok('archive', 'AAPL-1')).toBe('AAPL-1: archived (was EXITED)\n');
    expect(await ok('archive', 'MSFT-1')).toBe('MSFT-1: archived (was SKIPPED)\n');
    expect((await status()).positions).toEqual([]);

    // An archived id starts a new lifecycle: fresh P&L, and the log keeps both.
    expect(await ok('track', 'AAPL-1', '--symbol', 'AAPL')).toBe('AAPL-1: WATCHING AAPL long\n');
    expect(await ok('enter', 'AAPL-1', '--value', '300')).toBe('AAPL-1: IN at value 300\n');
    const [again, history, count] = await Promise.all([status(), ok('log', '--json', '--position', 'AAPL-1'), eventCount()]);
    expect(again.positions).toHaveLength(1);
    expect(again.positions[0]).toMatchObject({ id: 'AAPL-1', status: 'IN', costBasis: 300, realizedPnl: 0, risk: 300 });
    expect(again.positions[0]).not.toHaveProperty('setup');
    expect(again.risk).toMatchObject({ open: 1, realizedPnl: 180 });
    expect(jsonLines(history).map((e) => e.type)).toEqual([
      'PositionTracked',
      'PositionEntered',
      'PositionValued',
      'PositionExited',
      'PositionExited',
      'PositionArchived',
      'PositionTracked',
      'PositionEntered',
    ]);
    expect(count).toBe(11);
  }, 180_000);

  it('init treats an empty $PTRACK_CONFIG as unset, as every other command does', async ({ onTestFinished }) => {
    const { dir } = sandbox(onTestFinished);
    const r = await ptrack(['init'], { cwd: dir, env: { ...ENV, PTRACK_CONFIG: '' } });
    expect(r, r.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(join(dir, 'ptrack.config.json'))).toBe(true);
    expect((await ptrack(['status'], { cwd: dir, env: { ...ENV, PTRACK_CONFIG: '' } })).code).toBe(0);
  }, 60_000);

  it('a repeated --command-id returns the first result and appends nothing', async ({ onTestFinished }) => {
    const { dir, run, ok, eventCount } = sandbox(onTestFinished);
    const store = ['--store', `sqlite:${join(dir, 'trades.db')}`];
    expect(await ok(...store, 'track', 'X-1', '--symbol', 'X', '--command-id', 'c-track')).toBe('X-1: WATCHING X long\n');
    expect(await ok(...store, 'enter', 'X-1', '--value', '100', '--command-id', 'c-enter')).toBe('X-1: IN at value 100\n');
    expect(await eventCount(...store)).toBe(2);

    // Without the id, entering again would be refused (X-1 is IN); with it, the first result comes back.
    expect(await ok(...store, 'enter', 'X-1', '--value', '100', '--command-id', 'c-enter')).toBe(
      'X-1: already done by this command id; nothing appended\n',
    );
    const dup = JSON.parse(await ok(...store, 'track', 'X-1', '--symbol', 'X', '--command-id', 'c-track', '--json')) as {
      duplicate: boolean;
      events: RecordedEvent[];
    };
    expect(dup.duplicate).toBe(true);
    expect(dup.events.map((e) => [e.revision, e.type])).toEqual([[0, 'PositionTracked']]);
    expect(await eventCount(...store)).toBe(2);

    // A new id is a new command, and this one is refused by the state machine.
    expectOneLineError(await run(...store, 'enter', 'X-1', '--value', '100', '--command-id', 'c-other'), 3, /cannot enter "X-1": it is IN/);
    expect(await eventCount(...store)).toBe(2);
  }, 120_000);
});

describe.concurrent('ptrack: refusals exit 3 with one line naming the rule or the state', () => {
  it('refuses transitions the state machine does not allow', async ({ onTestFinished }) => {
    const { run, ok, eventCount } = sandbox(onTestFinished);
    await ok('init');
    await ok('track', 'A-1', '--symbol', 'A');
    expectOneLineError(
      await run('exit', 'A-1', '--value', '5'),
      3,
      /^ptrack: cannot exit "A-1": it is WATCHING, expected IN \(enter it first\)$/,
    );
    expectOneLineError(await run('hold', 'A-1', '--value', '5'), 3, /^ptrack: cannot hold "A-1": it is WATCHING, expected IN/);
    expectOneLineError(
      await run('enter', 'NOPE', '--value', '5'),
      3,
      /^ptrack: cannot enter "NOPE": it is not tracked \(unknown or archived\), expected WATCHING \(track it first\)$/,
    );
    expectOneLineError(await run('track', 'A-1'), 3, /^ptrack: cannot track "A-1": it is WATCHING, expected unknown or archived/);
    await ok('skip', 'A-1');
    expectOneLineError(await run('enter', 'A-1', '--value', '5'), 3, /^ptrack: cannot enter "A-1": it is SKIPPED, expected WATCHING/);
    expectOneLineError(await run('breaker', 'reset'), 3, /^ptrack: cannot reset the circuit breaker: it is OK/);
    // Refusals append nothing.
    expect(await eventCount()).toBe(2);
  }, 120_000);

  it('refuses an entry past maxPositions (set in a config file named by --config)', async ({ onTestFinished }) => {
    const { dir, run, ok, writeConfig } = sandbox(onTestFinished);
    const config = writeConfig('limits.json', { store: 'sqlite:./book.db', maxPositions: 2 });
    for (const id of ['A-1', 'B-1', 'C-1']) await ok('--config', config, 'track', id, '--symbol', id.slice(0, 1));
    await ok('--config', config, 'enter', 'A-1', '--value', '100');
    await ok('--config', config, 'enter', 'B-1', '--value', '100');
    expectOneLineError(
      await run('--config', config, 'enter', 'C-1', '--value', '100'),
      3,
      /^ptrack: cannot enter "C-1": rule maxPositions: 2 positions are IN, the limit is 2$/,
    );
    expect(existsSync(join(dir, 'book.db'))).toBe(true);
    // Freeing a slot lets it in.
    await ok('--config', config, 'exit', 'A-1', '--value', '100');
    expect(await ok('--config', config, 'enter', 'C-1', '--value', '100')).toBe('C-1: IN at value 100\n');
  }, 120_000);

  it('refuses a second open position on the same symbol', async ({ onTestFinished }) => {
    const { run, ok } = sandbox(onTestFinished);
    await ok('init');
    await ok('track', 'AAPL-1', '--symbol', 'AAPL');
    await ok('track', 'AAPL-2', '--symbol', 'AAPL');
    await ok('enter', 'AAPL-1', '--value', '100');
    expectOneLineError(
      await run('enter', 'AAPL-2', '--value', '100'),
      3,
      /^ptrack: cannot enter "AAPL-2": rule duplicateSymbol: AAPL is already IN \(1 open, the limit is 1/,
    );
  }, 120_000);

  it('refuses dust below minPositionValue', async ({ onTestFinished }) => {
    const { run, ok } = sandbox(onTestFinished);
    await ok('init');
    await ok('track', 'D-1', '--symbol', 'D');
    expectOneLineError(
      await run('enter', 'D-1', '--value', '0.5'),
      3,
      /^ptrack: cannot enter "D-1": rule minPositionValue: value 0\.5 is below the minimum 1$/,
    );
    expect(await ok('enter', 'D-1', '--value', '1')).toBe('D-1: IN at value 1\n');
  }, 120_000);

  it('refuses an entry that would put a correlation group over maxGroupRiskPct', async ({ onTestFinished }) => {
    const { run, ok, status, writeConfig } = sandbox(onTestFinished);
    // ./ptrack.config.json is found without --config.
    writeConfig('ptrack.config.json', { correlationGroups: { tech: ['AAPL', 'MSFT'] }, maxGroupRiskPct: 2 });
    expect(await ok('track', 'AAPL-1', '--symbol', 'AAPL')).toBe('AAPL-1: WATCHING AAPL long (group tech)\n');
    expect(await ok('track', 'MSFT-1', '--symbol', 'MSFT')).toBe('MSFT-1: WATCHING MSFT long (group tech)\n');
    await ok('enter', 'AAPL-1', '--value', '1000', '--qty', '10', '--price', '100', '--stop', '90'); // risk 100 = 1%
    expectOneLineError(
      await run('enter', 'MSFT-1', '--value', '1000', '--qty', '10', '--price', '100', '--stop', '85'), // + 150 = 2.5%
      3,
      /^ptrack: cannot enter "MSFT-1": rule maxGroupRiskPct: group "tech" would have 2\.50% of equity at risk \(open 1\.00% \+ this 1\.50%\), the limit is 2\.00%$/,
    );
    const { risk } = await status();
    expect(risk.groupRisk).toEqual([{ group: 'tech', risk: 100, pct: 1 }]);
    // A tighter stop fits under the cap.
    expect(await ok('enter', 'MSFT-1', '--value', '1000', '--qty', '10', '--price', '100', '--stop', '90')).toBe(
      'MSFT-1: IN at value 1000\n',
    );
  }, 120_000);

  it('refuses entries while the circuit breaker is tripped, and allows them after a reset', async ({ onTestFinished }) => {
    const { run, ok, status } = sandbox(onTestFinished);
    await ok('init');
    expect(await ok('breaker', 'trip', '--reason', 'x')).toBe('circuit breaker TRIPPED: x\n');
    await ok('track', 'B-1', '--symbol', 'B');
    expectOneLineError(
      await run('enter', 'B-1', '--value', '10'),
      3,
      /^ptrack: cannot enter "B-1": rule circuitBreaker: the circuit breaker is tripped \(x\) until reset$/,
    );
    expect((await status()).risk.breaker).toMatchObject({ status: 'TRIPPED', trigger: 'manual', reason: 'x' });
    expect(await ok('breaker', 'reset')).toBe('circuit breaker reset\n');
    expect(await ok('enter', 'B-1', '--value', '10')).toBe('B-1: IN at value 10\n');
  }, 120_000);

  it('refuses entries on a symbol cooling down, and only on that symbol', async ({ onTestFinished }) => {
    const { run, ok, status } = sandbox(onTestFinished);
    await ok('init');
    const before = Date.now();
    const started = await ok('cooldown', 'SYM', '--for', '1h');
    const until = /^SYM: cooldown until (\S+)\n$/.exec(started)?.[1];
    expect(until).toBeDefined();
    expect(Date.parse(until!) - before).toBeGreaterThanOrEqual(3_600_000 - 1);
    expect(Date.parse(until!) - before).toBeLessThan(3_600_000 + 30_000);
    await ok('track', 'S-1', '--symbol', 'SYM');
    await ok('track', 'T-1', '--symbol', 'OTHER');
    expectOneLineError(
      await run('enter', 'S-1', '--value', '10'),
      3,
      new RegExp(`^ptrack: cannot enter "S-1": rule cooldown: SYM is cooling down until ${until!.replace(/\./g, '\\.')} \\(it is `),
    );
    expect(await ok('enter', 'T-1', '--value', '10')).toBe('T-1: IN at value 10\n');
    expect((await status()).risk.cooldowns).toEqual([{ symbol: 'SYM', until }]);
  }, 120_000);
});

describe.concurrent('ptrack: bad input exits 2 with one line', () => {
  it('names the unknown command, the missing argument or option, and the bad value', async ({ onTestFinished }) => {
    const { run, ok, eventCount } = sandbox(onTestFinished);
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^ptrack: unknown command 'frobnicate'/],
      [['stauts'], /^ptrack: unknown command 'stauts' \(Did you mean status\?\)/],
      [['enter'], /^ptrack: .*(--value|'id')/],
      [['enter', '--value', '5'], /^ptrack: missing required argument 'id'/],
      [['enter', 'X-1'], /^ptrack: required option '--value <value>' not specified/],
      [['exit', 'X-1'], /^ptrack: required option '--value <value>' not specified/],
      [['enter', 'X-1', '--value', '-5'], /^ptrack: --value: .*>=0, got -5$/],
      [['enter', 'X-1', '--value', 'abc'], /^ptrack: --value: expected a number, got "abc"$/],
      [['enter', 'X-1', '--value', '10', '--qty', '1e'], /^ptrack: --qty: expected a number, got "1e"$/],
      [['exit', 'X-1', '--value', '5', '--fraction', '1.5'], /^ptrack: --fraction: must be at most 1, got 1\.5$/],
      [['enter', 'X-1', '--value', '5', '--bogus'], /^ptrack: unknown option '--bogus'/],
      [['track', 'X-1', '--side', 'up'], /^ptrack: option '--side <side>' argument 'up' is invalid/],
      [
        ['cooldown', 'SYM', '--for', 'soon'],
        /^ptrack: --for: expected a duration like 90, 90s, 5m, 2h, 1d or 1d 2h \(units d, h, m, s, largest first, each once\), got "soon"$/,
      ],
      [['log', '--limit', '0'], /^ptrack: --limit: expected a whole number >= 1, got 0$/],
    ];
    await ok('init');
    for (const [args, pattern] of cases) expectOneLineError(await run(...args), 2, pattern);
    // Nothing was written by any of them.
    expect(await eventCount()).toBe(0);
  }, 120_000);

  it('names the line and column of a config file that is not JSON', async ({ onTestFinished }) => {
    const { dir, run } = sandbox(onTestFinished);
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "maxPositions": 3,\n  "book": \n}\n');
    expectOneLineError(await run('--config', file, 'status'), 2, new RegExp(`^ptrack: ${file}: not valid JSON at line 4, column 1: `));
  }, 60_000);

  it('names the key and the value of a bad setting, and an unknown key', async ({ onTestFinished }) => {
    const { dir, run, writeConfig } = sandbox(onTestFinished);
    writeConfig('ptrack.config.json', { maxPositions: -3 });
    const bad = expectOneLineError(await run('status'), 2, /maxPositions/);
    expect(bad).toMatch(/ptrack\.config\.json: maxPositions: .*-3$/);
    writeConfig('ptrack.config.json', { maxPositons: 3 });
    expectOneLineError(await run('status'), 2, /ptrack\.config\.json: .*Unrecognized key: "maxPositons"/);
    writeConfig('ptrack.config.json', { correlationGroups: { tech: 'AAPL' } });
    expectOneLineError(await run('track', 'A-1'), 2, /ptrack\.config\.json: correlationGroups\.tech: .*got "AAPL"$/);
    expect(existsSync(join(dir, 'state'))).toBe(false);
  }, 120_000);

  it('refuses a --config or $PTRACK_CONFIG naming a missing file', async ({ onTestFinished }) => {
    const { dir, run } = sandbox(onTestFinished);
    expectOneLineError(
      await run('--config', 'nothere.json', 'status'),
      2,
      new RegExp(`^ptrack: config file ${join(dir, 'nothere.json')} does not exist \\(named by --config\\)$`),
    );
    const r = await ptrack(['status'], { cwd: dir, env: { ...ENV, PTRACK_CONFIG: 'gone.json' } });
    expectOneLineError(r, 2, /does not exist \(named by PTRACK_CONFIG\)$/);
  }, 60_000);

  it('adds the stack with --verbose or DEBUG', async ({ onTestFinished }) => {
    const { dir, run } = sandbox(onTestFinished);
    for (const r of [
      await run('enter', 'X-1', '--value', '-5', '--verbose'),
      await ptrack(['enter', 'X-1', '--value', '-5'], { cwd: dir, env: { ...ENV, DEBUG: '1' } }),
    ]) {
      expect(r.code).toBe(2);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThan(1);
      expect(lines[0]).toMatch(/^ptrack: --value: .*got -5$/);
      expect(r.stderr).toMatch(/ValidationError/);
      expect(r.stderr).toMatch(/^\s+at /m);
    }
  }, 120_000);
});

describe.concurrent('ptrack --help', () => {
  // The commands of the book and its reads; every other command is found in the help itself.
  const known = [
    ['init'],
    ['track'],
    ['enter'],
    ['hold'],
    ['monitor'],
    ['exit'],
    ['skip'],
    ['adopt'],
    ['archive'],
    ['breaker'],
    ['breaker', 'trip'],
    ['breaker', 'reset'],
    ['cooldown'],
    ['status'],
    ['log'],
    ['head'],
  ];

  /** The subcommands a help text lists under "Commands:" (without commander's own `help`). */
  const listed = (help: string): string[] =>
    [...(help.split('\nCommands:\n')[1] ?? '').matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');

  /** `--help` of each command, a few processes at a time (each is a whole node start). */
  const helpOf = async (run: (...args: string[]) => Promise<CliResult>, commands: string[][]): Promise<CliResult[]> => {
    const out: CliResult[] = [];
    for (let i = 0; i < commands.length; i += 4) out.push(...(await Promise.all(commands.slice(i, i + 4).map((c) => run(...c, '--help')))));
    return out;
  };

  it('prints usage and exits 0 for every command', async ({ onTestFinished }) => {
    const { run } = sandbox(onTestFinished);
    const top = await run('--help');
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout.startsWith('Usage: ptrack [options] [command]\n'), top.stdout).toBe(true);
    const first = listed(top.stdout).map((c) => [c]);
    const firstResults = await helpOf(run, first);
    // Subcommands (breaker trip, ...), one level down.
    const second = first.flatMap(([c], i) => listed(firstResults[i]!.stdout).map((sub) => [c!, sub]));
    const commands = [...first, ...second];
    const results = [...firstResults, ...(await helpOf(run, second))];
    const names = commands.map((c) => c.join(' '));
    for (const k of known) expect(names).toContain(k.join(' '));

    results.forEach((r, i) => {
      const name = ['ptrack', ...commands[i]!].join(' ');
      expect(r, name).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout.startsWith(`Usage: ${name} `), `${name}: ${r.stdout}`).toBe(true);
      expect(r.stdout, name).toMatch(/-h, --help +display help for command/);
    });
    // The book's commands take --json (breaker only groups trip and reset).
    for (const k of known.filter((c) => c.join(' ') !== 'breaker')) {
      expect(results[names.indexOf(k.join(' '))]!.stdout, k.join(' ')).toMatch(/--json/);
    }
    // Each command's own options are documented.
    expect(results[names.indexOf('enter')]!.stdout).toMatch(/--value <value>[\s\S]*--qty <quantity>[\s\S]*--stop <stop>/);
  }, 120_000);
});
