import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ptrack } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

/*
 * The README's quick starts, run as written: a reader who pastes them must see them work,
 * and what their comments promise must be what happens.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The first fenced block of `lang` after the heading `heading` (and before the next heading). */
function codeBlock(heading: string, lang: string): string {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, `README has a "${heading}" section`).toBeGreaterThan(-1);
  const section = README.slice(start + heading.length + 2).split(/\n#{1,3} /)[0]!;
  const match = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'm').exec(section);
  expect(match, `"${heading}" has a \`\`\`${lang} block`).not.toBeNull();
  return match![1]!;
}

interface ShellLine {
  line: string;
  args: string[];
  comment: string;
}

/** `npx ptrack a b  # comment` -> its arguments and comment. The block has no quoting, so none is handled. */
function ptrackLines(block: string): ShellLine[] {
  return block
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const hash = line.indexOf(' #');
      const command = (hash < 0 ? line : line.slice(0, hash)).trim();
      const comment = hash < 0 ? '' : line.slice(hash + 2).trim();
      expect(command.startsWith('npx ptrack '), `every line runs ptrack: ${line}`).toBe(true);
      expect(command, `no quoting in: ${line}`).not.toMatch(/["'\\$`]/);
      return { line, args: command.slice('npx ptrack '.length).split(/\s+/), comment };
    });
}

function runNode(file: string, cwd: string, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd,
      env: { ...process.env, LOG_LEVEL: 'silent', PTRACK_CONFIG: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${file} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('README', () => {
  it("npx ptrack is this package's bin, the one the tests run", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; bin: Record<string, string> };
    expect(pkg.name).toBe('position-tracker');
    expect(pkg.bin.ptrack).toBe('./bin/ptrack');
  });

  it('CLI quick start: every line exits 0 and does what its comment says', async () => {
    const lines = ptrackLines(codeBlock('### CLI quick start', 'sh'));
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const { dir, cleanup } = tempDir('ptrack-readme-');
    try {
      for (const { line, args, comment } of lines) {
        const r = await ptrack(args, { cwd: dir, env: { PTRACK_CONFIG: undefined, DEBUG: undefined } });
        expect(r, line).toMatchObject({ code: 0, stderr: '' });
        // Claims the comments make that can be checked.
        if (comment.includes('writes ptrack.config.json')) expect(existsSync(join(dir, 'ptrack.config.json')), line).toBe(true);
        if (comment.includes('creates ./state/trades.db')) expect(existsSync(join(dir, 'state', 'trades.db')), line).toBe(true);
        const pnl = /realized P&L (-?[\d.]+)/.exec(comment);
        if (pnl) expect(r.stdout, line).toContain(`realized P&L ${pnl[1]!}`);
        if (comment.includes('closes half')) expect(r.stdout, line).toMatch(/exited 50%, still IN/);
        if (comment.includes('closes the rest')) expect(r.stdout, line).toMatch(/: EXITED, /);
        if (comment.includes('positions by state'))
          expect(r.stdout, line).toMatch(/IN \d+, WATCHING \d+, EXITED \d+, SKIPPED \d+[\s\S]*^risk: /m);
        if (comment.includes('the events behind it')) expect(r.stdout, line).toMatch(/PositionTracked[\s\S]*PositionEntered/);
      }
    } finally {
      cleanup();
    }
  }, 60_000);

  it('library quick start: runs as written and prints what its comments say', async () => {
    const block = codeBlock('### Library quick start', 'ts');
    // What the block promises: the `// ...` comment on each console.log line, in order.
    const expected = block
      .split('\n')
      .filter((l) => l.includes('console.log('))
      .map((l) => /\/\/ (.*)$/.exec(l)?.[1]?.trim());
    expect(expected.length).toBeGreaterThan(0);
    expect(
      expected.every((e) => e !== undefined && e !== ''),
      'every console.log line states its output',
    ).toBe(true);
    expect(expected).toEqual(['EXITED 40', 'true', 'minPositionValue 1 0.5']);

    // Inside the package, so `import ... from 'position-tracker'` resolves to it through "exports";
    // run from a temporary directory, so the relative store path lands there.
    const file = join(ROOT, `.readme-quickstart-${process.pid}.mjs`);
    const { dir, cleanup } = tempDir('ptrack-readme-lib-');
    try {
      writeFileSync(file, block);
      const r = await runNode(file, dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(expected.map((e) => `${e!}\n`).join(''));
      expect(existsSync(join(dir, 'state', 'library.db'))).toBe(true);
    } finally {
      rmSync(file, { force: true });
      cleanup();
    }
  }, 60_000);
});
