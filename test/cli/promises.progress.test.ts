import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createIo, type Io } from '../../src/cli/io.js';
import { migrateProgressPrinter } from '../../src/cli/commands/migrate.js';
import { progressPrinter } from '../../src/cli/commands/projections.js';

/** Two captured streams, each marked a TTY or not, and the Io the CLI builds on them. */
function terminal(tty: { stdout: boolean; stderr: boolean }, env: NodeJS.ProcessEnv = { TERM: 'xterm-256color' }) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty.stdout });
  const stderr = Object.assign(new PassThrough(), { isTTY: tty.stderr });
  let err = '';
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const io: Io = createIo({ stdout, stderr }, env);
  return { io, stderr: () => err };
}

/** Drives both progress printers (rebuild and migrate) and returns what reached stderr. */
function progressOn(io: Io, read: () => string): string {
  const rebuild = progressPrinter(io);
  for (let i = 1; i <= 3; i++) rebuild({ processed: i * 100, total: 300, elapsedMs: i * 2000, eventsPerSecond: 50, done: i === 3 });
  const migrate = migrateProgressPrinter(io);
  migrate.update({ phase: 'copy', scanned: 1, total: 2, copied: 1, skipped: 0 });
  migrate.update({ phase: 'check', scanned: 2, total: 2, copied: 2, skipped: 0 });
  migrate.done();
  return read();
}

const ESCAPE = /\x1b/;

describe('#10.29 progress rewrites its line only on a terminal stderr that takes escapes', () => {
  it('#10.29 stdout a terminal, stderr a file (ptrack rebuild 2> log): plain lines, no escapes', () => {
    const t = terminal({ stdout: true, stderr: false });
    expect(t.io.liveStderr).toBe(false);
    const written = progressOn(t.io, t.stderr);
    expect(written).toContain('rebuild: 300/300 events (100%)');
    expect(written).toContain('check: counting');
    expect(written).not.toMatch(ESCAPE);
  });

  it('#10.29 stderr a terminal, stdout piped: the line is rewritten in place', () => {
    const t = terminal({ stdout: false, stderr: true });
    expect(t.io.liveStderr).toBe(true);
    expect(progressOn(t.io, t.stderr)).toContain('\x1b[1A\x1b[2K');
  });

  it('#10.29 NO_COLOR and TERM=dumb are honoured', () => {
    for (const env of [{ TERM: 'xterm', NO_COLOR: '1' }, { TERM: 'dumb' }]) {
      const t = terminal({ stdout: true, stderr: true }, env);
      expect(t.io.liveStderr, JSON.stringify(env)).toBe(false);
      expect(progressOn(t.io, t.stderr), JSON.stringify(env)).not.toMatch(ESCAPE);
    }
    // An empty NO_COLOR is unset (no-color.org).
    expect(terminal({ stdout: false, stderr: true }, { TERM: 'xterm', NO_COLOR: '' }).io.liveStderr).toBe(true);
  });
});
