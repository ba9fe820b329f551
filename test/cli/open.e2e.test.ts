import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/events/index.js';
import { ptrack, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/* `ptrack open`: one process, one append, the refusals and exit codes of track then enter. */

const ENV: NodeJS.ProcessEnv = { PTRACK_CONFIG: undefined, DEBUG: undefined };

function sandbox(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-open-');
  onTestFinished(cleanup);
  const run = (...args: string[]): Promise<CliResult> => ptrack(args, { cwd: dir, env: ENV, timeoutMs: 60_000 });
  const count = async (): Promise<number> => (JSON.parse((await run('head', '--json')).stdout) as { count: number }).count;
  return { run, count };
}

describe('ptrack open', () => {
  it('tracks and enters in one append: both events, consecutive positions, one commit time', async ({ onTestFinished }) => {
    const { run, count } = sandbox(onTestFinished);
    expect((await run('init')).code).toBe(0);
    const r = await run('open', 'A1', '--symbol', 'AAPL', '--value', '1000', '--qty', '10', '--price', '100', '--stop', '95', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { events: RecordedEvent[]; position: { status: string } };
    expect(out.events.map((e) => e.type)).toEqual(['PositionTracked', 'PositionEntered']);
    expect(out.events[1]!.position).toBe(out.events[0]!.position + 1);
    expect(out.events[1]!.metadata.recordedAt).toBe(out.events[0]!.metadata.recordedAt);
    expect(out.events[1]!.data).toMatchObject({ symbol: 'AAPL', value: 1000, quantity: 10, price: 100, stop: 95 });
    expect(out.position.status).toBe('IN');
    expect(await count()).toBe(2);
    const text = await run('open', 'B1', '--symbol', 'MSFT', '--value', '500');
    expect(text).toMatchObject({ code: 0, stderr: '', stdout: 'B1: WATCHING MSFT long\nB1: IN at value 500\n' });
  });

  it('a refused open appends nothing, with the message and exit code of track then enter', async ({ onTestFinished }) => {
    const a = sandbox(onTestFinished);
    const b = sandbox(onTestFinished);
    for (const s of [a, b]) {
      expect((await s.run('init')).code).toBe(0);
      expect((await s.run('open', 'A1', '--symbol', 'AAPL', '--value', '1000')).code).toBe(0);
    }
    const opened = await a.run('open', 'A2', '--symbol', 'AAPL', '--value', '1000');
    expect(opened.code).toBe(3);
    expect(await a.count()).toBe(2);
    expect((await b.run('track', 'A2', '--symbol', 'AAPL')).code).toBe(0);
    const entered = await b.run('enter', 'A2', '--value', '1000');
    expect(entered.code).toBe(3);
    expect(opened.stderr).toBe(entered.stderr);
    expect(opened.stderr).toMatch(/^ptrack: cannot enter "A2": rule duplicateSymbol/);
    const again = await a.run('open', 'A1', '--value', '10');
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^ptrack: cannot track "A1": it is IN/);
    expect(await a.count()).toBe(2);
  });

  it('bad input is exit 2 naming the flag, and appends nothing; --help is exit 0', async ({ onTestFinished }) => {
    const { run, count } = sandbox(onTestFinished);
    expect((await run('init')).code).toBe(0);
    const bad = await run('open', 'A1', '--value', 'ten');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('ptrack: --value: expected a number, got "ten"\n');
    const missing = await run('open', 'A1');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--value/);
    const side = await run('open', 'A1', '--value', '10', '--side', 'up');
    expect(side.code).toBe(2);
    expect(await count()).toBe(0);
    const help = await run('open', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: ptrack open \[options\] <id>/);
  });
});
