import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fmt, num } from '../../src/cli/format.js';
import { runMain } from '../helpers/inProcess.js';
import { tempDir } from '../helpers/tmp.js';

describe('#10.28 quantities and prices print with the precision they have', () => {
  it('#10.28 num keeps small quantities and prices, in plain digits, without float noise; money keeps two decimals', () => {
    expect(num(0.0001)).toBe('0.0001');
    expect(num(0.004)).toBe('0.004');
    expect(num(1e-7)).toBe('0.0000001');
    expect(num(-2.5e-8)).toBe('-0.000000025');
    expect(num(0.3 * 100)).toBe('30');
    expect(num(50_123.456789)).toBe('50123.456789');
    expect(num(0)).toBe('0');
    expect(fmt(1234.5678)).toBe('1234.57');
    expect(fmt(-0.001)).toBe('0');
  });

  it('#10.28 replay prints a quantity of 0.0001, log and exit print a fraction of 0.0005', async ({ onTestFinished }) => {
    const { dir, cleanup } = tempDir('ptrack-fmt-');
    onTestFinished(cleanup);
    const store = `sqlite:${join(dir, 'trades.db')}`;
    const ok = async (...args: string[]): Promise<string> => {
      const r = await runMain(['--store', store, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await ok('track', 'BTC-1', '--symbol', 'BTC');
    await ok('enter', 'BTC-1', '--value', '5', '--qty', '0.0001', '--price', '50000');
    expect(await ok('replay', '--until', '2', '--position', 'BTC-1')).toContain('qty 0.0001');
    expect(await ok('exit', 'BTC-1', '--value', '5', '--fraction', '0.0005')).toContain('exited 0.05%, still IN');
    expect(await ok('log', '--position', 'BTC-1')).toContain('fraction=0.0005');
  });
});
