import { exitCodeOf } from '../../src/cli/exitCodes.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LogRegressionError,
  READ_MODEL_NAMES,
  ReadModelStore,
  rebuildReadModels,
  startProjections,
  type ProjectionAlert,
  type ProjectionLogger,
  type RunnerState,
} from '../../src/projections/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { appendAll, sampleLog, storeWith, type Appendable } from './fixtures.js';

function capture(): ProjectionLogger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_o: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
}

const read = (dir: string, name: string): { checkpoint: number; eventCount: number; data: unknown } =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
const bytes = (dir: string): Record<string, string> =>
  Object.fromEntries(READ_MODEL_NAMES.map((n) => [n, readFileSync(join(dir, `${n}.json`), 'utf8')]));

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the projection runner', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => {
    vi.restoreAllMocks();
    cleanup();
  });

  it('under a burst writes once per persistEveryEvents events, not once per event', async () => {
    const save = vi.spyOn(ReadModelStore.prototype, 'commit');
    const store = new MemoryEventStore();
    const handle = await startProjections({ store, stateDir: dir, persistEveryEvents: 50, persistEveryMs: 60_000, logger: capture() });
    await handle.whenCaughtUp();
    const before = save.mock.calls.length;
    const events = Array.from({ length: 1000 }, (_, i) => simulateHeartbeat(i));
    for (let i = 0; i < 10; i++) await appendAll(store, events.slice(i * 100, (i + 1) * 100));
    await handle.whenCaughtUp();
    const during = save.mock.calls.length - before;
    await handle.stop();
    // Five files per write: at most one write per 50 events (plus the catch-up flush), far from 1000.
    expect(during).toBeGreaterThan(5);
    expect(during).toBeLessThanOrEqual(5 * (1000 / 50 + 1));
    expect(read(dir, 'portfolio').checkpoint).toBe(1000);
  });

  it('writes at most every persistEveryMs while events trickle in', async () => {
    const save = vi.spyOn(ReadModelStore.prototype, 'commit');
    const store = new MemoryEventStore();
    const handle = await startProjections({ store, stateDir: dir, persistEveryEvents: 1_000_000, persistEveryMs: 100, logger: capture() });
    await handle.whenCaughtUp();
    const before = save.mock.calls.length;
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < 600) {
      await appendAll(store, [simulateHeartbeat(n++)]);
      await new Promise((r) => setTimeout(r, 5));
    }
    const writes = (save.mock.calls.length - before) / READ_MODEL_NAMES.length;
    await handle.stop();
    expect(n).toBeGreaterThan(30);
    // About one write per 100 ms of events (timers may run late on a busy machine, never early).
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(writes).toBeLessThanOrEqual(600 / 100 + 2);
    expect(read(dir, 'risk').checkpoint).toBe(n);
  });

  it('writes nothing between throttled writes, and everything on stop', async () => {
    const store = new MemoryEventStore();
    const handle = await startProjections({
      store,
      stateDir: dir,
      persistEveryEvents: 1_000_000,
      persistEveryMs: 60_000,
      logger: capture(),
    });
    await until(() => handle.status().state === 'live', 'the first catch-up');
    expect(read(dir, 'audit').checkpoint).toBe(0);
    await appendAll(store, sampleLog().slice(0, 40));
    await until(() => handle.status().projections.every((p) => p.checkpoint === 40), 'the events to be folded');
    expect(read(dir, 'audit').checkpoint).toBe(0);
    await handle.stop();
    for (const name of READ_MODEL_NAMES) expect(read(dir, name)).toMatchObject({ checkpoint: 40, eventCount: 40 });
  });

  it('writes nothing once stop() has returned, even with a cycle under way', async () => {
    for (let round = 0; round < 10; round++) {
      const stateDir = join(dir, `round-${round}`);
      const store = new MemoryEventStore();
      const handle = await startProjections({ store, stateDir, persistEveryMs: 2, logger: capture() });
      await handle.whenCaughtUp();
      await appendAll(store, [simulateHeartbeat(round)]);
      await new Promise((r) => setTimeout(r, round));
      await handle.stop();
      rmSync(stateDir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 30));
      expect(existsSync(stateDir), `round ${round}`).toBe(false);
    }
  });

  it('reports its state, catching up then live then stopped, and resolves `done` on stop', async () => {
    const { store } = await storeWith(sampleLog().slice(0, 30));
    const states: RunnerState[] = [];
    const handle = await startProjections({ store, stateDir: dir, logger: capture() });
    handle.status$.subscribe((s) => {
      if (states[states.length - 1] !== s.state) states.push(s.state);
    });
    await handle.whenCaughtUp();
    await until(() => handle.status().state === 'live', 'live');
    await handle.stop();
    await handle.done;
    expect(states).toEqual(['catching-up', 'live', 'stopping', 'stopped']);
    expect(handle.status().projections.map((p) => [p.name, p.checkpoint, p.persistedCheckpoint])).toEqual(
      READ_MODEL_NAMES.map((n) => [n, 30, 30]),
    );
  });

  it('resumes from its checkpoints and ignores what it already holds, also when the read models stand at different checkpoints', async () => {
    const events = sampleLog();
    const store = new MemoryEventStore();
    await appendAll(store, events.slice(0, 60));
    let handle = await startProjections({ store, stateDir: dir, logger: capture() });
    await handle.whenCaughtUp();
    await handle.stop();
    // One read model is lost and rebuilt from 0 while the others go on from 60: the runner
    // reads from 0, and the others must skip events 1..60.
    rmSync(join(dir, 'equity.json'));
    await appendAll(store, events.slice(60));
    handle = await startProjections({ store, stateDir: dir, logger: capture() });
    await handle.whenCaughtUp();
    await handle.stop();
    const { store: whole } = await storeWith(events);
    await rebuildReadModels({ store: whole, stateDir: join(dir, 'rebuilt'), logger: capture() });
    expect(bytes(dir)).toEqual(bytes(join(dir, 'rebuilt')));
  });

  it('rebuilds a read model written under other settings (another version), and leaves the others as they are', async () => {
    const { store } = await storeWith(sampleLog().slice(0, 80));
    let handle = await startProjections({ store, stateDir: dir, options: { equity: 10_000 }, logger: capture() });
    await handle.whenCaughtUp();
    await handle.stop();
    const old = bytes(dir);
    const log = capture();
    handle = await startProjections({ store, stateDir: dir, options: { equity: 20_000 }, logger: log });
    await handle.whenCaughtUp();
    await handle.stop();
    expect(
      handle
        .status()
        .projections.filter((p) => p.healed !== null)
        .map((p) => p.name),
    ).toEqual(['equity', 'risk']);
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      expect.stringMatching(/^equity\.json is of version \d+\.\d+-\w+, this build writes \d+\.\d+-\w+: rebuilding it from the log$/),
      expect.stringMatching(/^risk\.json is of version/),
    ]);
    const now = bytes(dir);
    expect(now.portfolio).toBe(old.portfolio);
    expect(now.audit).toBe(old.audit);
    expect(now.equity).not.toBe(old.equity);
    await rebuildReadModels({ store, stateDir: join(dir, 'rebuilt'), options: { equity: 20_000 }, logger: capture() });
    expect(now).toEqual(bytes(join(dir, 'rebuilt')));
  });

  it('heals a file damaged under a running worker within one cycle, and logs it', async () => {
    const { store } = await storeWith(sampleLog().slice(0, 50));
    const log = capture();
    const handle = await startProjections({ store, stateDir: dir, persistEveryMs: 30, logger: log });
    await handle.whenCaughtUp();
    const good = bytes(dir);
    writeFileSync(join(dir, 'risk.json'), good.risk!.replace('"checkpoint":50', '"checkpoint":51'));
    rmSync(join(dir, 'performance.json'));
    await until(() => {
      try {
        const now = bytes(dir);
        return now.risk === good.risk && now.performance === good.performance;
      } catch {
        return false;
      }
    }, 'the files to be written again');
    await handle.stop();
    // (The first start logged the five missing files too; these are the heals of the running worker.)
    expect(
      log.lines
        .filter((l) => l.level === 'warn' && /writing it again/.test(l.msg))
        .map((l) => l.msg)
        .sort(),
    ).toEqual([
      expect.stringMatching(/^performance\.json is missing: writing it again from the log$/),
      expect.stringMatching(/^risk\.json is damaged: checksum mismatch/),
    ]);
  });

  it('refuses to start on a log shorter than its files: alert, fatal log, files untouched, exit code 4', async () => {
    const { store } = await storeWith(sampleLog().slice(0, 40));
    const handle = await startProjections({ store, stateDir: dir, logger: capture() });
    await handle.whenCaughtUp();
    await handle.stop();
    const before = bytes(dir);
    const { store: shorter } = await storeWith(sampleLog().slice(0, 25));
    const alerts: ProjectionAlert[] = [];
    const log = capture();
    const failure = await startProjections({ store: shorter, stateDir: dir, logger: log, onAlert: (a) => alerts.push(a) }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(LogRegressionError);
    expect(exitCodeOf(failure)).toBe(4);
    expect((failure as Error).message).toBe(
      'the log regressed: it holds 25 events (last position 25) but the read models were built from 40 events up to position 40: ' +
        '15 events are missing (restore the log, or run ptrack rebuild --accept-regression to rebuild the read models from it)',
    );
    expect(alerts).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'fatal')).toHaveLength(1);
    expect(bytes(dir)).toEqual(before);
  });
});

function simulateHeartbeat(i: number): Appendable {
  const at = new Date(Date.UTC(2026, 0, 5) + i * 1000).toISOString();
  return {
    stream: 'tradelog-main',
    event: { type: 'Heartbeat', data: { at, process: `p${i}`, source: 'local' }, metadata: { recordedAt: at } },
  };
}
