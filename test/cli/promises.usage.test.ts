import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

function book(onTestFinished: (fn: () => void) => void) {
  const { dir, cleanup } = tempDir('ptrack-usage-');
  onTestFinished(cleanup);
  const store = `sqlite:${join(dir, 'trades.db')}`;
  const run = (...args: string[]) => runMain(['--store', store, ...args]);
  return { run, dir };
}

describe('#10.7 stray arguments and repeated flags are usage errors', () => {
  it('#10.7 excess arguments are a usage error (exit 2) and change nothing', async ({ onTestFinished }) => {
    const { run } = book(onTestFinished);
    expect((await run('track', 'A1', '--symbol', 'AAPL')).code).toBe(0);
    expect((await run('enter', 'A1', '--value', '100')).code).toBe(0);
    const head = await run('head', '--json');

    const exit = await run('exit', 'A1', '0.5', '--value', '100');
    expect(exit.code, exit.stderr).toBe(2);
    expect(exit.stderr).toMatch(/^ptrack: too many arguments for 'exit'/);
    expect(exit.stdout).toBe('');
    expect((await run('head', '--json')).stdout).toBe(head.stdout);
    const status = JSON.parse((await run('status', '--json')).stdout) as { positions: { id: string; status: string }[] };
    expect(status.positions.find((p) => p.id === 'A1')?.status).toBe('IN');

    for (const args of [
      ['status', 'foo', 'bar'],
      ['head', 'x'],
      ['log', 'x'],
      ['breaker', 'reset', 'now'],
      ['verify', 'x'],
    ]) {
      const r = await run(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/too many arguments|unknown command/);
    }
  });

  it('#10.7 a single-value flag given twice is a usage error (exit 2) naming the flag, and changes nothing', async ({ onTestFinished }) => {
    const { run } = book(onTestFinished);
    expect((await run('track', 'A1')).code).toBe(0);
    const enter = await run('enter', 'A1', '--value', '100', '--value', '5');
    expect(enter.code, enter.stderr).toBe(2);
    expect(enter.stderr).toMatch(/--value is given twice \(first "100"\)/);
    const status = JSON.parse((await run('status', '--json')).stdout) as { positions: { id: string; status: string }[] };
    expect(status.positions.find((p) => p.id === 'A1')?.status).toBe('WATCHING');

    // Options with choices, and the program's own options, are held to it too.
    const side = await run('track', 'B1', '--side', 'long', '--side', 'short');
    expect(side.code).toBe(2);
    expect(side.stderr).toMatch(/--side is given twice/);
    const store = await runMain(['--store', 'memory:', '--store', 'memory:', 'head']);
    expect(store.code).toBe(2);
    expect(store.stderr).toMatch(/--store is given twice/);
    // A flag that takes no value may still be repeated; one value of each flag is still fine.
    expect((await run('status', '--json', '--json')).code).toBe(0);
    expect((await run('track', 'C1', '--side', 'short', '--symbol', 'X')).code).toBe(0);
  });
});
