// Bundles the CLI so `ptrack` starts fast: loading zod, rxjs and commander as hundreds of
// separate modules cost ~300 ms per command. Native and lazily loaded packages stay external.
// The entry is dist/cli/ptrack.mjs; what a command loads only when it runs (the daemon: `ptrack
// serve` and prom-client) is split into dist/cli/chunks/, so a write command never parses it.
// zod is imported as a namespace (`import * as z`) so only the parts used are bundled (not its
// 64 locales), rxjs from its ES module build (tree-shaken), and the whole is minified.
import { readFile, rm } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);
const zodClassic = require.resolve('zod').replace(/index\.c?js$/, 'v4/classic/external.js');
const rxjsEsm = require.resolve('rxjs').replace(/dist[\\/]cjs[\\/]index\.js$/, 'dist/esm/index.js');

const lean = {
  name: 'lean-imports',
  setup(b) {
    // `import { z } from 'zod'` is a namespace object holding everything (locales included): the
    // same module imported as a namespace lets esbuild keep only the members the code reads.
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return { contents: text.replace(/^import \{ z \} from 'zod';$/m, `import * as z from ${JSON.stringify(zodClassic)};`), loader: 'ts' };
    });
    b.onResolve({ filter: /^rxjs$/ }, () => ({ path: rxjsEsm }));
  },
};

await rm('dist/cli/chunks', { recursive: true, force: true });
const result = await build({
  metafile: Boolean(process.env.PTRACK_BUNDLE_META),
  entryPoints: { ptrack: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  // Class and function names stay (error names, messages that name a type).
  keepNames: true,
  sourcemap: true,
  plugins: [lean],
  external: ['better-sqlite3', 'prom-client', 'pino', 'pino-pretty', '@eventstore/db-client', 'pg', 'ccxt', '@alpacahq/alpaca-trade-api'],
  // CommonJS dependencies (commander) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __ptrackCreateRequire } from 'node:module'; const require = __ptrackCreateRequire(import.meta.url);",
  },
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
if (process.env.PTRACK_BUNDLE_META) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.PTRACK_BUNDLE_META, JSON.stringify(result.metafile));
}

// The book's write commands also run from a V8 startup snapshot (src/cli/snapshot.ts says what it
// holds; bin/ptrack chooses it): one CommonJS file holding those commands and better-sqlite3's
// JavaScript, run once by `node --build-snapshot` into dist/cli/ptrack.blob. A snapshot holds no
// native addon and only some of Node's modules, so the file's `require` (the banner) loads the
// others, packages and better-sqlite3's addon when the command first uses them, from this
// package's node_modules (globalThis.__ptrackRequire, set when a command starts).
const lateBuiltins = ['child_process', 'readline', 'module', 'tls', 'net', 'http', 'https', 'worker_threads', 'dns', 'http2'];
const snapshotRequire = `var require = ((builtin) => {
  const core = new Set(${JSON.stringify(builtinModules)});
  const late = new Set(${JSON.stringify(lateBuiltins)});
  const load = (id) => (id.startsWith('node:') || !globalThis.__ptrackRequire ? builtin(id) : globalThis.__ptrackRequire(id));
  const lazy = (id) => {
    let mod;
    const get = () => (mod ??= load(id));
    return new Proxy(function () {}, {
      get: (_, key) => (key === '__esModule' ? undefined : get()[key]),
      construct: (_, args) => new (get())(...args),
      apply: (_, self, args) => get().apply(self, args),
      has: (_, key) => key in get(),
    });
  };
  return (id) => {
    const name = id.replace(/^node:/, '').split('/')[0];
    return (id.startsWith('node:') || core.has(name)) && !late.has(name) ? builtin(id) : lazy(id);
  };
})(require);`;
const addon = {
  name: 'snapshot-addon',
  setup(b) {
    // better-sqlite3 finds its addon through \`bindings\`, which looks for the caller's package from
    // its stack: here the addon is asked of better-sqlite3's own package, when a store first opens.
    b.onResolve({ filter: /^bindings$/ }, () => ({ path: 'bindings', namespace: 'ptrack-addon' }));
    b.onLoad({ filter: /.*/, namespace: 'ptrack-addon' }, () => ({
      contents: "module.exports = (name) => globalThis.__ptrackRequire('better-sqlite3/build/Release/' + name);",
      loader: 'js',
    }));
  },
};
const late = {
  name: 'snapshot-late-import',
  setup(b) {
    // A snapshot's code has no dynamic import(): a package the source imports that way (pg and
    // EventStoreDB's client, when the config names their store) is required instead, from this
    // package's node_modules, when the import runs. A static import stays external (the banner).
    b.onResolve({ filter: /^(pg|@eventstore\/db-client|ccxt|@alpacahq\/alpaca-trade-api)(\/.*)?$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'ptrack-late' } : { path: args.path, external: true },
    );
    b.onLoad({ filter: /.*/, namespace: 'ptrack-late' }, (args) => ({
      contents: `module.exports = globalThis.__ptrackRequire(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};
await build({
  entryPoints: { snapshot: 'src/cli/snapshot.ts' },
  outfile: 'dist/cli/snapshot.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  keepNames: true,
  plugins: [lean, addon, late],
  external: ['prom-client', 'pino', 'pino-pretty'],
  define: { 'import.meta.url': 'globalThis.__ptrackUrl' },
  banner: { js: snapshotRequire },
  mainFields: ['module', 'main'],
  logLevel: 'warning',
});
// Built in an empty directory with none of the CLI's variables, so nothing of this machine's
// config or environment is in the heap a command starts from.
const { spawnSync } = await import('node:child_process');
const { mkdtempSync, rmSync, writeFileSync: writeText, realpathSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join, resolve } = await import('node:path');
const empty = mkdtempSync(join(tmpdir(), 'ptrack-snapshot-'));
try {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PTRACK_|LOG_LEVEL$|DEBUG$|NODE_OPTIONS$)/.test(k)));
  const blob = resolve('dist/cli/ptrack.blob');
  rmSync(`${blob}.node`, { force: true });
  const made = spawnSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', resolve('dist/cli/snapshot.cjs')], {
    cwd: empty,
    env,
    encoding: 'utf8',
  });
  if (made.status === 0) {
    // bin/ptrack starts from the blob only with the node that built it (a snapshot loads in no other build of Node).
    writeText(`${blob}.node`, `${realpathSync(process.execPath)}\n`);
  } else {
    // Without the blob bin/ptrack runs every command through bin/ptrack.js: slower to start, the same CLI.
    rmSync(blob, { force: true });
    process.stderr.write(
      `warning: the CLI's startup snapshot was not built (exit ${made.status}); ptrack runs without it\n${made.stderr.slice(-4000)}\n`,
    );
  }
} finally {
  rmSync(empty, { recursive: true, force: true });
}
