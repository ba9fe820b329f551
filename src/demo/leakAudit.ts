import type { RecordedEvent } from '../events/index.js';

export interface Leak {
  kind: 'orphan' | 'phantom';
  positionId: string;
  detectedAt: string;
  resolvedAt?: string;
  resolution: 'adopted' | 'closed' | 'cleared' | 'reappeared' | 'open';
  value: number;
  /** Value x minutes it was wrong for (until resolved, or until `asOf`). */
  valueMinutes: number;
}

export interface LeakAudit {
  leaks: Leak[];
  driftCorrections: number;
  driftAmount: number;
  runs: number;
}

/** The leaks a log shows: every orphan and phantom, when seen, when and how resolved, and value x time. */
export function leakAudit(events: readonly RecordedEvent[], asOf: number): LeakAudit {
  const open = new Map<string, Leak>();
  const leaks: Leak[] = [];
  let driftCorrections = 0;
  let driftAmount = 0;
  let runs = 0;
  const resolve = (key: string, at: string, how: Leak['resolution']): void => {
    const l = open.get(key);
    if (!l) return;
    l.resolvedAt = at;
    l.resolution = how;
    open.delete(key);
  };
  for (const e of events) {
    const at = e.metadata.recordedAt;
    switch (e.type) {
      case 'OrphanDetected':
        if (!open.has(`o:${e.data.positionId}`)) {
          const l: Leak = { kind: 'orphan', positionId: e.data.positionId, detectedAt: at, resolution: 'open', value: e.data.value, valueMinutes: 0 };
          open.set(`o:${e.data.positionId}`, l);
          leaks.push(l);
        }
        break;
      case 'OrphanAdopted':
        resolve(`o:${e.data.positionId}`, at, 'adopted');
        break;
      case 'OrphanClosed':
        resolve(`o:${e.data.positionId}`, at, 'closed');
        break;
      case 'PhantomSuspected':
        if (!open.has(`p:${e.data.positionId}`)) {
          const l: Leak = { kind: 'phantom', positionId: e.data.positionId, detectedAt: at, resolution: 'open', value: e.data.value ?? 0, valueMinutes: 0 };
          open.set(`p:${e.data.positionId}`, l);
          leaks.push(l);
        }
        break;
      case 'PhantomCleared':
        resolve(`p:${e.data.positionId}`, at, 'cleared');
        break;
      case 'PhantomDismissed':
        resolve(`p:${e.data.positionId}`, at, 'reappeared');
        break;
      case 'DriftCorrected':
        driftCorrections += 1;
        driftAmount += Math.abs(e.data.externalValue - e.data.localValue);
        break;
      case 'ReconciliationCompleted':
        runs += 1;
        break;
      default:
        break;
    }
  }
  for (const l of leaks) {
    const end = l.resolvedAt ? Date.parse(l.resolvedAt) : asOf;
    l.valueMinutes = (l.value * (end - Date.parse(l.detectedAt))) / 60_000;
  }
  return { leaks, driftCorrections, driftAmount, runs };
}
