import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOOK_COMMANDS } from '../../src/cli/bookCommands.js';
import { runProcess, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * bin/ptrack, the package's `ptrack`: a book command starts from the CLI's startup snapshot
 * (dist/cli/ptrack.blob, src/cli/snapshot.ts), anything else runs bin/ptrack.js; a command from
 * the snapshot does what bin/ptrack.js does, in the process that runs it.
 */

const BIN = fileURLToPath(new URL('../../bin/ptrack', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
const ENV: NodeJS.ProcessEnv = {
  PTRACK_CONFIG: undefined,
  DEBUG: undefined,
  PTRACK_NO_SNAPSHOT: undefined,
  LOG_LEVEL: 'warn',
  NO_COLOR: '1',
};

const run = (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
  runProcess(command, args, { cwd, env: { ...ENV, ...env }, timeoutMs: 60_000 });

/** What `sh -x bin` ran in the end: its last `exec` line, as sh traced it. */
async function execOf(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await run('sh', ['-x', bin, ...args], cwd, env);
  const execs = r.stderr.split('\n').filter((l) => l.startsWith('+ exec '));
  expect(execs, r.stderr).toHaveLength(1);
  return execs[0]!;
}

function sandbox(onTestFinished: (fn: () => void) => void, config: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir('ptrack-snapshot-');
  onTestFinished(cleanup);
  writeFileSync(join(dir, 'ptrack.config.json'), JSON.stringify({ store: `sqlite:${join(dir, 'trades.db')}`, ...config }));
  return dir;
}

describe('bin/ptrack', () => {
  it('starts a book command from the snapshot the build made, with the node that made it', async ({ onTestFinished }) => {
    const dir = sandbox(onTestFinished);
    const node = readFileSync(join(DIST, 'ptrack.blob.node'), 'utf8').trim();
    expect(node).toBe(realpathSync(process.execPath));
    for (const args of [
      ['open', 'A1', '--symbol', 'AAPL', '--value', '100'],
      ['--store', `sqlite:${join(dir, 'trades.db')}`, 'track', 'A2'],
      ['hold', '--help'],
    ]) {
      expect(await execOf(BIN, args, dir)).toBe(
        `+ exec ${node} --snapshot-blob ${join(BIN, '..')}/../dist/cli/ptrack.blob -- ${args.join(' ')}`,
      );
    }
  });

  it('runs bin/ptrack.js for every other command, and for a book command under PTRACK_NO_SNAPSHOT=1', async ({ onTestFinished }) => {
    const dir = sandbox(onTestFinished);
    const js = `${join(BIN, '..')}/ptrack.js`;
    for (const args of [['status'], ['--book', 'open', 'head'], ['init', '--help'], []]) {
      expect(await execOf(BIN, args, dir)).toMatch(new RegExp(` ${js.replace(/[.]/g, '\\.')}${args.length ? ` ${args.join(' ')}` : ''}$`));
    }
    expect(await execOf(BIN, ['open', 'A1', '--symbol', 'S', '--value', '1'], dir, { PTRACK_NO_SNAPSHOT: '1' })).toMatch(
      /ptrack\.js open A1/,
    );
  });

  it('runs bin/ptrack.js when the blob is missing, was made by another node, or is older than node', async ({ onTestFinished }) => {
    const dir = sandbox(onTestFinished);
    // A copy of the package's bin/ and dist/cli/ whose blob and its record can be changed.
    const pkg = join(dir, 'pkg');
    mkdirSync(join(pkg, 'bin'), { recursive: true });
    mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
    copyFileSync(BIN, join(pkg, 'bin', 'ptrack'));
    symlinkSync(join(BIN, '..', 'ptrack.js'), join(pkg, 'bin', 'ptrack.js'));
    symlinkSync(join(DIST, 'ptrack.mjs'), join(pkg, 'dist', 'cli', 'ptrack.mjs'));
    const bin = join(pkg, 'bin', 'ptrack');
    const blob = join(pkg, 'dist', 'cli', 'ptrack.blob');
    const args = ['open', 'A1', '--symbol', 'S', '--value', '1'];
    expect(await execOf(bin, args, dir)).toMatch(/ptrack\.js open A1/); // no blob
    copyFileSync(join(DIST, 'ptrack.blob'), blob);
    writeFileSync(`${blob}.node`, `${realpathSync(process.execPath)}\n`);
    expect(await execOf(bin, args, dir)).toMatch(/ --snapshot-blob /); // the control: this copy starts from it
    writeFileSync(`${blob}.node`, '/opt/another/node\n');
    expect(await execOf(bin, args, dir)).toMatch(/ptrack\.js open A1/);
    writeFileSync(`${blob}.node`, `${realpathSync(process.execPath)}\n`);
    utimesSync(blob, new Date('2000-01-01'), new Date('2000-01-01'));
    expect(await execOf(bin, args, dir)).toMatch(/ptrack\.js open A1/);
  });

  it('is packed executable, without the blob (a blob starts only the node that built it)', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    expect(packed.status, packed.stderr).toBe(0);
    const files = (JSON.parse(packed.stdout) as { files: { path: string; mode: number }[] }[])[0]!.files;
    expect(files.find((f) => f.path === 'bin/ptrack')?.mode).toBe(0o755);
    expect(files.some((f) => f.path === 'dist/cli/ptrack.mjs')).toBe(true);
    expect(files.filter((f) => f.path.includes('blob'))).toEqual([]);
  }, 60_000);

  it("runs a command from the blob through a link to the package's dist/ (its node_modules found from the real one)", async ({
    onTestFinished,
  }) => {
    const dir = sandbox(onTestFinished);
    const pkg = join(dir, 'linked');
    mkdirSync(join(pkg, 'bin'), { recursive: true });
    copyFileSync(BIN, join(pkg, 'bin', 'ptrack'));
    symlinkSync(join(BIN, '..', 'ptrack.js'), join(pkg, 'bin', 'ptrack.js'));
    symlinkSync(join(DIST, '..'), join(pkg, 'dist'));
    const args = ['open', 'L1', '--symbol', 'L', '--value', '1'];
    expect(await execOf(join(pkg, 'bin', 'ptrack'), ['hold', '--help'], dir)).toMatch(/ --snapshot-blob /);
    expect(await run(join(pkg, 'bin', 'ptrack'), args, dir)).toMatchObject({ code: 0, stderr: '' });
  });

  it('names, in its list, exactly the book commands', () => {
    const text = readFileSync(BIN, 'utf8');
    const list = /^\s*(track \|[^)]*)\)$/m.exec(text)?.[1];
    expect(list?.split('|').map((s) => s.trim())).toEqual([...BOOK_COMMANDS]);
  });
});

describe('a book command started from the snapshot', () => {
  it('prints, exits and appends as bin/ptrack.js does', async ({ onTestFinished }) => {
    const steps: string[][] = [
      ['open', 'A1', '--symbol', 'AAPL', '--value', '1000', '--qty', '10', '--price', '100', '--stop', '95'],
      ['open', 'A1', '--symbol', 'AAPL', '--value', '1000'],
      ['enter', 'NOPE', '--value', '1'],
      ['enter', 'A1', '--value', 'abc'],
      ['track', 'B1', '--symbol', 'MSFT', '--side', 'short'],
      ['protect', 'A1', '--stop', '96'],
      ['hold', 'A1', '--value', '1010', '--price', '101'],
      ['exit', 'A1', '--value', '1050', '--price', '105', '--reason', 'target \u001b[31m'],
      ['skip', 'B1', '--reason', 'no setup'],
      ['breaker', 'trip', '--reason', 'manual'],
      ['open', 'C1', '--symbol', 'NVDA', '--value', '1'],
      ['hold', '--help'],
      ['archive', 'A1', '--bogus'],
      // The stores whose client is imported when named: loaded from node_modules, here refused.
      ['track', 'E1', '--symbol', 'E', '--store', 'esdb://127.0.0.1:9?tls=false'],
      ['track', 'P1', '--symbol', 'P', '--store', 'postgres://u@127.0.0.1:9/x'],
    ];
    const results = async (env: NodeJS.ProcessEnv) => {
      const dir = sandbox(onTestFinished);
      const out: CliResult[] = [];
      for (const args of steps) out.push(await run(BIN, args, dir, env));
      const db = new Database(join(dir, 'trades.db'), { readonly: true });
      const log = db.prepare('SELECT position, type, data FROM events ORDER BY position').all();
      db.close();
      return { out, log };
    };
    const fromSnapshot = await results({});
    const fromJs = await results({ PTRACK_NO_SNAPSHOT: '1' });
    expect(fromSnapshot.out.map((r) => r.code)).toEqual([0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 3, 0, 2, 5, 5]);
    expect(fromSnapshot.out).toEqual(fromJs.out);
    expect(fromSnapshot.log).toEqual(fromJs.log);
    expect(fromSnapshot.log.map((e) => (e as { type: string }).type)).toEqual([
      ...['PositionTracked', 'PositionEntered', 'PositionTracked', 'ProtectionSet', 'PositionValued'],
      ...['PositionExited', 'PositionSkipped', 'CircuitBreakerTripped'],
    ]);
  });

  it('reads the config and the environment of the process that runs it, and loads the logger when it logs', async ({ onTestFinished }) => {
    const a = sandbox(onTestFinished);
    const b = sandbox(onTestFinished, { snapshotEvery: 2 });
    expect((await run(BIN, ['open', 'A1', '--symbol', 'AAPL', '--value', '1'], a)).code).toBe(0);
    // PTRACK_CONFIG names b's config from a's directory.
    for (const id of ['B1', 'B2'])
      expect((await run(BIN, ['open', id, '--symbol', id, '--value', '1'], a, { PTRACK_CONFIG: join(b, 'ptrack.config.json') })).code).toBe(
        0,
      );
    const rows = (dir: string) => {
      const db = new Database(join(dir, 'trades.db'));
      onTestFinished(() => {
        db.close();
      });
      return db;
    };
    expect(rows(a).prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 2 });
    const db = rows(b);
    expect(db.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n: 4 });
    // A damaged book snapshot is discarded with a warning: the logger (pino) is loaded at run time.
    db.prepare(`UPDATE snapshots SET state = '{"checksum":"fnv64:0000000000000000","book":{}}'`).run();
    const r = await run(BIN, ['open', 'B3', '--symbol', 'B3', '--value', '1'], b);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stderr)).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/^discarded the snapshot of tradelog-main: its checksum does not match/),
    });
    db.prepare(`UPDATE snapshots SET state = '{"checksum":"fnv64:0000000000000000","book":{}}'`).run();
    const quiet = await run(BIN, ['open', 'B4', '--symbol', 'B4', '--value', '1'], b, { LOG_LEVEL: 'error' });
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
  });
});
