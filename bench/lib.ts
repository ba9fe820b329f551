import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Row {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** The goal, when it names one. */
  goal?: { op: '>=' | '<='; value: number };
}

export function machine(): { cpu: string; cores: number; memoryGiB: number; node: string; platform: string } {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ptrack-bench-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export function fmtNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

export function met(row: Row): string {
  if (!row.goal) return '';
  const ok = row.goal.op === '>=' ? row.value >= row.goal.value : row.value <= row.goal.value;
  return `${row.goal.op} ${fmtNumber(row.goal.value)} ${ok ? 'met' : 'MISSED'}`;
}

export function printTable(rows: readonly Row[]): string {
  const body = rows.map((r) => [r.scenario, r.metric, fmtNumber(r.value), r.unit, met(r)]);
  const head = ['scenario', 'metric', 'value', 'unit', 'goal'];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
