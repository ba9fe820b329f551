import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { ptrack } from '../helpers/cli.js';
import { api, eventually, startServe, type ServeChild } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * #14 GET /metrics against a real `ptrack serve` child on 127.0.0.1: the text format parsed by a
 * Prometheus parser, every named series present with its type, and the series moving as commands
 * run in another process (events by type, open positions, equity, head, checkpoints) and as the
 * scheduler reconciles through a simulated adapter (runs, durations, outside calls by outcome,
 * open orphans and the value x time they leak).
 */

const SERIES: [string, ParsedFamily['type']][] = [
  ['ptrack_events_appended_total', 'COUNTER'],
  ['ptrack_commands_total', 'COUNTER'],
  ['ptrack_append_duration_seconds', 'HISTOGRAM'],
  ['ptrack_reconciliation_runs_total', 'COUNTER'],
  ['ptrack_reconciliation_duration_seconds', 'HISTOGRAM'],
  ['ptrack_external_calls_total', 'COUNTER'],
  ['ptrack_orphans_open', 'GAUGE'],
  ['ptrack_phantoms_open', 'GAUGE'],
  ['ptrack_leaked_value_seconds', 'GAUGE'],
  ['ptrack_open_positions', 'GAUGE'],
  ['ptrack_equity', 'GAUGE'],
  ['ptrack_drawdown_ratio', 'GAUGE'],
  ['ptrack_breaker_active', 'GAUGE'],
  ['ptrack_read_model_checkpoint', 'GAUGE'],
  ['ptrack_read_model_lag', 'GAUGE'],
  ['ptrack_log_head_position', 'GAUGE'],
  // The process defaults, on the same registry and prefix.
  ['ptrack_process_cpu_seconds_total', 'COUNTER'],
  ['ptrack_process_resident_memory_bytes', 'GAUGE'],
  ['ptrack_nodejs_eventloop_lag_seconds', 'GAUGE'],
  ['ptrack_nodejs_heap_size_used_bytes', 'GAUGE'],
];
const MODELS = ['audit', 'equity', 'orders', 'performance', 'portfolio', 'risk'];

/** One scrape, parsed: families by name. */
async function scrape(s: ServeChild): Promise<Map<string, ParsedFamily>> {
  const res = await fetch(`${s.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const families = parsePrometheusTextFormat(text);
  for (const f of families) expect(f.name, 'one prefix for every series').toMatch(/^ptrack_/);
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of the sample of `name` whose labels include `labels`; undefined when there is none. */
function value(m: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const sample = m.get(name)?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v) && s.value !== undefined);
  return sample?.value === undefined ? undefined : Number(sample.value);
}
const histogramCount = (m: Map<string, ParsedFamily>, name: string): number => Number(m.get(name)?.metrics[0]?.count ?? NaN);
const sum = (m: Map<string, ParsedFamily>, name: string): number =>
  (m.get(name)?.metrics ?? []).reduce((a, s) => a + Number(s.value ?? 0), 0);

function world(onTestFinished: (fn: () => void) => void, config: Record<string, unknown> = {}) {
  const { dir, cleanup } = tempDir('ptrack-metrics-');
  onTestFinished(cleanup);
  const file = join(dir, 'ptrack.config.json');
  // Heartbeats and archiving rarely: the log moves only by the commands the test runs.
  writeFileSync(
    file,
    JSON.stringify({ store: 'sqlite:./trades.db', book: 'main', serve: { heartbeatSeconds: 3600, archiveEverySeconds: 3600 }, ...config }),
  );
  const cli = async (...args: string[]) => {
    const r = await ptrack(['--config', file, ...args], { cwd: dir, env: { PTRACK_CONFIG: undefined } });
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  return { dir, file, cli };
}

describe('#14 GET /metrics', () => {
  it('has every named series with its type, and they move as another process runs commands', async ({ onTestFinished }) => {
    const w = world(onTestFinished);
    await w.cli('track', 'A-1', '--symbol', 'AAPL');
    await w.cli('enter', 'A-1', '--value', '500', '--qty', '5', '--price', '100');
    const s = await startServe(['--config', w.file], { cwd: w.dir });
    onTestFinished(() => s.kill());

    // The book's gauges appear once the workers wrote the read models.
    const first = await eventually('the book gauges', async () => {
      const m = await scrape(s);
      return value(m, 'ptrack_open_positions', { book: 'main' }) === 1 ? m : undefined;
    });
    for (const [name, type] of SERIES) expect(first.get(name)?.type, name).toBe(type);
    for (const f of first.values()) {
      if (f.type === 'COUNTER') expect(f.name, 'counters end in _total').toMatch(/_total$/);
      for (const sample of f.metrics) expect(Object.keys(sample.labels ?? {}), `${f.name}: no position id as a label`).not.toContain('id');
    }
    expect(value(first, 'ptrack_equity', { book: 'main' })).toBe(10_000);
    expect(value(first, 'ptrack_drawdown_ratio', { book: 'main' })).toBe(0);
    expect(value(first, 'ptrack_breaker_active', { book: 'main' })).toBe(0);
    expect(value(first, 'ptrack_orphans_open', { book: 'main' })).toBe(0);
    expect(value(first, 'ptrack_phantoms_open', { book: 'main' })).toBe(0);
    expect(value(first, 'ptrack_leaked_value_seconds', { book: 'main', kind: 'orphan' })).toBe(0);
    const head0 = (await api(`${s.url}/api/health`)).body.head.position as number;
    expect(value(first, 'ptrack_log_head_position')).toBe(head0);
    for (const model of MODELS) {
      expect(value(first, 'ptrack_read_model_checkpoint', { model }), model).toBe(head0);
      expect(value(first, 'ptrack_read_model_lag', { model }), model).toBe(0);
    }
    // The daemon's own startup heartbeat is a command it handled and appended, timed.
    expect(value(first, 'ptrack_commands_total', { type: 'RecordHeartbeat', outcome: 'accepted' })).toBe(1);
    expect(histogramCount(first, 'ptrack_append_duration_seconds')).toBe(1);
    expect(Number(first.get('ptrack_append_duration_seconds')?.metrics[0]?.sum)).toBeGreaterThan(0);
    const before = (type: string) => value(first, 'ptrack_events_appended_total', { type }) ?? 0;

    // Another process: one more position entered, the first one exited with a profit.
    await w.cli('track', 'B-1', '--symbol', 'MSFT');
    await w.cli('enter', 'B-1', '--value', '300', '--qty', '3', '--price', '100');
    await w.cli('exit', 'A-1', '--value', '600', '--price', '120');
    const health = (await api(`${s.url}/api/health`)).body;
    const head1 = health.head.position as number;
    expect(head1).toBe(head0 + 3);
    const after = await eventually('the series to follow the commands', async () => {
      const m = await scrape(s);
      return value(m, 'ptrack_read_model_checkpoint', { model: 'equity' }) === head1 &&
        value(m, 'ptrack_open_positions', { book: 'main' }) === 1 &&
        value(m, 'ptrack_equity', { book: 'main' }) !== 10_000
        ? m
        : undefined;
    });
    // Events by type: what the daemon saw arrive, up by exactly what the CLI appended.
    expect(value(after, 'ptrack_events_appended_total', { type: 'PositionTracked' })).toBe(before('PositionTracked') + 1);
    expect(value(after, 'ptrack_events_appended_total', { type: 'PositionEntered' })).toBe(before('PositionEntered') + 1);
    expect(value(after, 'ptrack_events_appended_total', { type: 'PositionExited' })).toBe(before('PositionExited') + 1);
    expect(sum(after, 'ptrack_events_appended_total')).toBe(sum(first, 'ptrack_events_appended_total') + 3);
    // Commands by outcome count only those the daemon handled: the CLI's are not among them.
    expect(after.get('ptrack_commands_total')?.metrics.map((x) => x.labels?.type)).toEqual(['RecordHeartbeat']);
    expect(value(after, 'ptrack_log_head_position')).toBe(head1);
    for (const model of MODELS)
      await eventually(`${model} caught up`, async () =>
        value(await scrape(s), 'ptrack_read_model_lag', { model }) === 0 ? true : undefined,
      );
    // The gauges read the read models: what /api/equity and /api/portfolio hold now.
    const equity = (await api(`${s.url}/api/equity`)).body;
    const portfolio = (await api(`${s.url}/api/portfolio`)).body;
    const now = await scrape(s);
    expect(value(now, 'ptrack_equity', { book: 'main' })).toBe(equity.data.equity);
    expect(equity.data.equity).toBeGreaterThan(10_000);
    expect(value(now, 'ptrack_open_positions', { book: 'main' })).toBe(portfolio.data.totals.open);
    expect(value(now, 'ptrack_drawdown_ratio', { book: 'main' })).toBe(equity.data.drawdown.pct / 100);

    expect(await s.stop()).toBe(0);
  });

  it('counts the scheduler’s reconciliation runs, their duration and the outside calls by outcome, and shows the open orphan leaking', async ({
    onTestFinished,
  }) => {
    const w = world(onTestFinished, { reconcile: { everySeconds: 1, orphans: 'manual' } });
    // Every odd call fails (the guard retries it); every even one lists one position the book does not hold.
    const adapter = join(w.dir, 'adapter.mjs');
    writeFileSync(
      adapter,
      `let n = 0;
export default {
  async listPositions() {
    n += 1;
    if (n % 2 === 1) throw new Error('connect ECONNREFUSED 127.0.0.1:9');
    return [{ id: 'X-9', symbol: 'XYZ', value: 50 }];
  },
  async closePosition() {},
};
`,
    );
    await w.cli('track', 'A-1', '--symbol', 'AAPL');
    const s = await startServe(['--config', w.file], { cwd: w.dir, serveArgs: ['--adapter', adapter] });
    onTestFinished(() => s.kill());
    const m = await eventually(
      'two reconciliation runs and the orphan in the audit',
      async () => {
        const x = await scrape(s);
        return sum(x, 'ptrack_reconciliation_runs_total') >= 2 &&
          value(x, 'ptrack_orphans_open', { book: 'main' }) === 1 &&
          (value(x, 'ptrack_leaked_value_seconds', { book: 'main', kind: 'orphan' }) ?? 0) > 0 &&
          (value(x, 'ptrack_events_appended_total', { type: 'ReconciliationCompleted' }) ?? 0) > 0
          ? x
          : undefined;
      },
      20_000,
    );
    const runs = sum(m, 'ptrack_reconciliation_runs_total');
    expect(histogramCount(m, 'ptrack_reconciliation_duration_seconds')).toBe(runs);
    // The retried failure is counted as what it was, the answer after it as ok.
    expect(value(m, 'ptrack_external_calls_total', { operation: 'listPositions', outcome: 'unreachable' })).toBeGreaterThanOrEqual(2);
    expect(value(m, 'ptrack_external_calls_total', { operation: 'listPositions', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    // Each run the daemon made is a command it handled (the event reaches its subscription a moment later).
    expect(value(m, 'ptrack_reconciliation_runs_total', { outcome: 'ok' })).toBe(runs);
    expect(value(m, 'ptrack_commands_total', { type: 'CompleteReconciliation', outcome: 'accepted' })).toBeGreaterThanOrEqual(runs);
    const audit = (await api(`${s.url}/api/audit`)).body;
    expect(audit.data.totals.orphans.open).toBe(1);
    expect(audit.data.totals.orphans.valueSeconds).toBeGreaterThan(0);
    expect(await s.stop()).toBe(0);
  }, 60_000);
});
