import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's `ptrack` (package.json's bin): a book command starts from the CLI's startup snapshot. */
const BIN = fileURLToPath(new URL('../../bin/ptrack', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command` in a child process (killed after `timeoutMs`), with the environment given over this one's. */
export function runProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in time`));
    }, options.timeoutMs ?? 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the real `ptrack` binary (bin/ptrack, as `npx ptrack` does) in a child process. */
export function ptrack(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return runProcess(BIN, args, { ...options, env: { LOG_LEVEL: 'silent', NO_COLOR: '1', ...options.env } });
}

/** The CLI bundle's text: its entry and every chunk split from it (scripts/bundle-cli.mjs), in one string. */
export function cliBundleText(): string {
  const dir = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
  const chunks = readdirSync(join(dir, 'chunks')).filter((f) => f.endsWith('.mjs'));
  return [readFileSync(join(dir, 'ptrack.mjs'), 'utf8'), ...chunks.map((f) => readFileSync(join(dir, 'chunks', f), 'utf8'))].join('\n');
}

/** The original sources of the CLI bundle, from the source maps of its entry and chunks. */
export function cliBundleSources(): string[] {
  const dir = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
  const maps = [
    join(dir, 'ptrack.mjs.map'),
    ...readdirSync(join(dir, 'chunks'))
      .filter((f) => f.endsWith('.mjs.map'))
      .map((f) => join(dir, 'chunks', f)),
  ];
  return maps.flatMap((m) => (JSON.parse(readFileSync(m, 'utf8')) as { sources: string[] }).sources);
}

/** Matches a static import of `pkg` anywhere in (minified) bundle text. */
export const staticImportOf = (pkg: string): RegExp =>
  new RegExp(`(?:^|[;}\\s])import\\s*[^;()]*?from\\s*["']${pkg.replace(/[/]/g, '\\/')}`, 'm');
