import { describe, expect, it } from 'vitest';
import { durationFlag } from '../../src/cli/args.js';
import { duration } from '../../src/cli/commands/projections.js';
import { ValidationError } from '../../src/errors/index.js';
import { runMain } from '../helpers/inProcess.js';

describe('#10.30 durations: --for and --every read what ptrack prints', () => {
  it('#10.30 compound durations are accepted, in seconds, and read back what duration() prints', () => {
    expect(durationFlag('--for', '1d 2h')).toBe(93_600);
    expect(durationFlag('--for', '1m 30s')).toBe(90);
    expect(durationFlag('--for', '2h30m')).toBe(9000);
    expect(durationFlag('--for', '1d 2h 3m 4s')).toBe(93_784);
    expect(durationFlag('--for', ' 90 ')).toBe(90);
    expect(durationFlag('--for', '1.5h')).toBe(5400);
    for (const s of [45, 90, 7200, 93_600, 86_400 * 3 + 3600, 3600 + 60]) {
      const printed = duration(s);
      expect(durationFlag('--every', printed), printed).toBe(s);
    }
  });

  it('#10.30 a malformed duration is a ValidationError naming the flag and the value', () => {
    for (const bad of ['1h 1h', '30s 1m', '1x', '1h30', 'h', '', '-5', '1d,2h', '1 d 2']) {
      expect(() => durationFlag('--every', bad), bad).toThrow(ValidationError);
      expect(() => durationFlag('--every', bad), bad).toThrow(`--every: expected a duration like`);
    }
  });

  it('#10.30 ptrack cooldown --for "1d 2h" cools down for 26 hours', async () => {
    const r = await runMain(['--store', 'memory:', 'cooldown', 'AAPL', '--for', '1d 2h', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const event = (JSON.parse(r.stdout) as { events: { type: string; data: { seconds?: number; until: string; at?: string } }[] })
      .events[0]!;
    expect(event.type).toBe('CooldownStarted');
    expect(event.data.seconds ?? (Date.parse(event.data.until) - Date.now()) / 1000).toBeGreaterThan(93_600 - 60);
  });
});

describe('#10.31 cooldown and breaker errors name the flag the user typed', () => {
  it('#10.31 --for, not --seconds; <symbol>, not --symbol', async () => {
    const zero = await runMain(['--store', 'memory:', 'cooldown', 'AAPL', '--for', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/^ptrack: --for: /);
    expect(zero.stderr).not.toContain('--seconds');

    const trip = await runMain(['--store', 'memory:', 'breaker', 'trip', '--reason', 'manual', '--for', '0']);
    expect(trip.code).toBe(2);
    expect(trip.stderr).toMatch(/^ptrack: --for: /);

    const empty = await runMain(['--store', 'memory:', 'cooldown', '', '--for', '1h']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^ptrack: <symbol>: /);
    expect(empty.stderr).not.toContain('--symbol');

    // track's symbol is still its --symbol flag.
    const track = await runMain(['--store', 'memory:', 'track', 'A1', '--symbol', '']);
    expect(track.code).toBe(2);
    expect(track.stderr).toMatch(/--symbol: /);
  });
});
