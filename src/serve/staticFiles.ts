/**
 * The dashboard's files (built into dist/dashboard/), served at `/` and `/<file>`: one folder,
 * no sub-paths, so a request can name nothing outside it.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const TYPES = new Map<string, string>([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
]);

/** A file name the dashboard may hold: letters, digits, dot, dash, underscore; no leading dot, no slash. */
const FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Where the dashboard's files are: `dist/dashboard/` beside the running module's folder (the
 * library in dist/serve/) or two folders up (the bundled CLI's chunks in dist/cli/chunks/), else
 * the sources in src/serve/dashboard/ (tests run the TypeScript).
 */
export function defaultDashboardDir(): string {
  for (const up of ['../dashboard/', '../../dashboard/']) {
    const built = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(join(built, 'index.html'))) return built;
  }
  return fileURLToPath(new URL('./dashboard/', import.meta.url));
}

export type StaticFile = { status: 200; type: string; body: Buffer } | { status: 404 };

/** The file a path names (`/` is index.html), or 404 for anything not a plain file of the folder. */
export async function staticFile(dir: string, pathname: string): Promise<StaticFile> {
  let name: string;
  try {
    name = pathname === '/' ? 'index.html' : decodeURIComponent(pathname.slice(1));
  } catch {
    return { status: 404 };
  }
  const dot = name.lastIndexOf('.');
  const type = dot > 0 ? TYPES.get(name.slice(dot).toLowerCase()) : undefined;
  if (!FILE.test(name) || name.includes('..') || type === undefined) return { status: 404 };
  try {
    return { status: 200, type, body: await readFile(`${dir.endsWith('/') ? dir : `${dir}/`}${name}`) };
  } catch {
    return { status: 404 };
  }
}
