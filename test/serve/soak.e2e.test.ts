import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * #14 the soak script (`npm run soak`), run for ten seconds: it starts `ptrack serve` with the
 * simulated exchange reconciling every second, drives commands, samples the daemon's RSS and open
 * descriptors from /proc, prints them with a verdict, and leaves nothing behind (the daemon
 * stopped, its temporary directory removed). Its bounds are checked (exit 2 naming the flag).
 * The ten-minute run and its figures are in the README, not here: no test judges speed or size.
 */

const SCRIPT = fileURLToPath(new URL('../../scripts/soak.mjs', import.meta.url));

function run(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PTRACK_CONFIG: undefined },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const soakDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('ptrack-soak-'));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('#14 the soak script', () => {
  it('samples the daemon’s RSS and descriptors while it reconciles every second and commands arrive, then cleans up', async () => {
    const before = new Set(soakDirs());
    const r = await run(['--seconds', '12', '--sample', '1', '--rate', '4', '--warmup', '2', '--json']);
    expect([0, 1], r.stderr).toContain(r.code);
    const out = JSON.parse(r.stdout) as {
      samples: { t: number; rssMb: number; heapMb: number; externalMb: number; fds: number; head: number }[];
      verdict: {
        daemonPid: number;
        commands: number;
        reconciliations: number;
        flat: boolean;
        rssMb: { growthPct: number };
        heapMb: { early: number; late: number };
        windows: { early: [number, number]; late: [number, number] };
        heapSnapshots?: unknown;
      };
    };
    expect(out.samples.length).toBeGreaterThanOrEqual(5);
    for (const s of out.samples) {
      expect(s.rssMb).toBeGreaterThan(10);
      expect(s.fds).toBeGreaterThan(3);
      // The daemon's own heap in use, read from its /metrics: below its RSS, never absent.
      expect(s.heapMb).toBeGreaterThan(1);
      expect(s.heapMb).toBeLessThan(s.rssMb);
      expect(s.externalMb).toBeGreaterThan(0);
    }
    expect(out.verdict.heapMb.late).toBeGreaterThan(1);
    // The early window starts after the warm-up asked for; each is a third of a short run.
    expect(out.verdict.windows).toEqual({ early: [2, 6], late: [8, 12] });
    // No snapshots unless asked for.
    expect(out.verdict.heapSnapshots).toBeUndefined();
    // The log grows as commands arrive, and the daemon reconciled repeatedly.
    expect(out.samples.at(-1)!.head).toBeGreaterThan(out.samples[0]!.head);
    expect(out.verdict.commands).toBeGreaterThan(10);
    expect(out.verdict.reconciliations).toBeGreaterThanOrEqual(3);
    expect(out.verdict.flat).toBe(r.code === 0);
    expect(alive(out.verdict.daemonPid)).toBe(false);
    expect(soakDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 120_000);

  it('with --heap-snapshots, the daemon writes two heap snapshots and the script prints the kinds of object that grew', async () => {
    const before = new Set(soakDirs());
    const r = await run(['--seconds', '10', '--sample', '2', '--heap-snapshots', '--json'], 180_000);
    expect([0, 1], r.stderr).toContain(r.code);
    const out = JSON.parse(r.stdout) as {
      verdict: { heapSnapshots: { earlyMb: number; lateMb: number; grew: { kind: string; count: number; kb: number }[] } };
    };
    const h = out.verdict.heapSnapshots;
    expect(h.earlyMb).toBeGreaterThan(1);
    expect(h.lateMb).toBeGreaterThan(1);
    expect(h.grew.length).toBeGreaterThan(0);
    expect(h.grew.length).toBeLessThanOrEqual(12);
    // Sorted by growth, each a kind of object with its count and size change.
    for (let i = 1; i < h.grew.length; i += 1) expect(h.grew[i - 1]!.kb).toBeGreaterThanOrEqual(h.grew[i]!.kb);
    for (const g of h.grew) expect(g.kind).toMatch(/^(\(.+\)|object .*|closure .*)$/);
    // The snapshots went with the temporary directory.
    expect(soakDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 200_000);

  it('refuses bad bounds with exit 2, naming the flag', async () => {
    for (const [args, message] of [
      [['--minutes', '61'], '--minutes: expected a number from 1 to 60, got "61"'],
      [['--seconds', '5'], '--seconds: expected a number from 10 to 3600, got "5"'],
      [['--rate', 'fast'], '--rate: expected a number from 0.1 to 50, got "fast"'],
      [['--minutes', '2', '--seconds', '20'], '--minutes and --seconds: give one of them'],
      // Two 10-second windows in a 30-second run leave at most 10 s of warm-up before the first.
      [['--seconds', '30', '--warmup', '25'], '--warmup: expected a number from 0 to 10, got "25"'],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`soak: ${message}\n`);
    }
  }, 60_000);
});
