import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import type { ReconcileReport } from '../../src/reconcile/index.js';
import { createServeMetrics } from '../../src/serve/metrics.js';
import type { MetricValues } from '../../src/serve/metricValues.js';

/*
 * #14 the daemon's metrics in process: reconciliation runs counted by their real outcome, each
 * timed; the book gauges absent while the read model they come from cannot be read (not zeros);
 * each registry its own (two daemons in one process do not share counters).
 */

const values = (book: Partial<MetricValues['book']> = {}): MetricValues => ({
  headPosition: 7,
  readModels: [{ name: 'portfolio', checkpoint: 6, lag: 1 }],
  book: {
    name: 'main',
    openPositions: 2,
    equity: 10_250,
    drawdownRatio: 0.01,
    breakerActive: false,
    orphansOpen: 0,
    phantomsOpen: 1,
    leakedValueSeconds: { orphan: 0, phantom: 300 },
    ...book,
  },
});
const parse = (text: string): Map<string, ParsedFamily> => new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
const samples = (m: Map<string, ParsedFamily>, name: string) => m.get(name)?.metrics ?? [];
const report = (errors: number) =>
  ({ errors: Array.from({ length: errors }, () => ({ stage: 'listPositions', message: 'x' })) }) as unknown as ReconcileReport;

describe('#14 createServeMetrics', () => {
  it('counts reconciliation runs by outcome (ok, errors, failed) and times every one', async () => {
    const metrics = createServeMetrics();
    await metrics.reconciliation(async () => report(0));
    await metrics.reconciliation(async () => report(2));
    await expect(metrics.reconciliation(() => Promise.reject(new Error('recovery pending')))).rejects.toThrow('recovery pending');
    const m = parse(await metrics.scrape(async () => values()));
    const runs = new Map(samples(m, 'ptrack_reconciliation_runs_total').map((s) => [s.labels?.outcome, Number(s.value)]));
    expect(runs).toEqual(
      new Map([
        ['ok', 1],
        ['errors', 1],
        ['failed', 1],
      ]),
    );
    expect(Number(samples(m, 'ptrack_reconciliation_duration_seconds')[0]?.count)).toBe(3);
  });

  it('shows the book gauges from the scrape’s values, and none of a read model that cannot be read', async () => {
    const metrics = createServeMetrics();
    const full = parse(await metrics.scrape(async () => values()));
    expect(samples(full, 'ptrack_open_positions')).toEqual([{ value: '2', labels: { book: 'main' } }]);
    expect(samples(full, 'ptrack_equity')).toEqual([{ value: '10250', labels: { book: 'main' } }]);
    expect(samples(full, 'ptrack_leaked_value_seconds')).toEqual([
      { value: '0', labels: { book: 'main', kind: 'orphan' } },
      { value: '300', labels: { book: 'main', kind: 'phantom' } },
    ]);
    expect(samples(full, 'ptrack_read_model_lag')).toEqual([{ value: '1', labels: { model: 'portfolio' } }]);
    expect(samples(full, 'ptrack_log_head_position')).toEqual([{ value: '7' }]);
    // The portfolio and audit files are being rebuilt: their gauges go, the equity one stays.
    const partial = parse(
      await metrics.scrape(async () =>
        values({ openPositions: null, orphansOpen: null, phantomsOpen: null, leakedValueSeconds: null, breakerActive: null }),
      ),
    );
    expect(samples(partial, 'ptrack_open_positions')).toEqual([]);
    expect(samples(partial, 'ptrack_phantoms_open')).toEqual([]);
    expect(samples(partial, 'ptrack_leaked_value_seconds')).toEqual([]);
    expect(samples(partial, 'ptrack_breaker_active')).toEqual([]);
    expect(samples(partial, 'ptrack_equity')).toEqual([{ value: '10250', labels: { book: 'main' } }]);
  });

  it('keeps each daemon’s counters on its own registry', async () => {
    const a = createServeMetrics();
    const b = createServeMetrics();
    a.commandObserver.onCommand?.('Track', 'accepted');
    a.commandObserver.onCommand?.('Track', 'accepted');
    a.externalObserver.onCall('listPositions', 'timeout');
    const ma = parse(await a.scrape(async () => values()));
    const mb = parse(await b.scrape(async () => values()));
    expect(samples(ma, 'ptrack_commands_total')).toEqual([{ value: '2', labels: { type: 'Track', outcome: 'accepted' } }]);
    expect(samples(ma, 'ptrack_external_calls_total')).toEqual([
      { value: '1', labels: { operation: 'listPositions', outcome: 'timeout' } },
    ]);
    expect(samples(mb, 'ptrack_commands_total')).toEqual([]);
  });
});
