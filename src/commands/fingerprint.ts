import type { Command } from './schemas.js';

/*
 * What a command id stands for. The idempotency window maps a command id to the events its
 * command appended; to tell "the same command again" (answer with the first result) from
 * "another command under a reused id" (refuse), each event of a command carries this digest
 * in its metadata, so it is folded back by a replay and kept in snapshots.
 */

/** JSON with sorted keys and no undefined fields: equal commands give equal text. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** 64 bits from two independent 32-bit FNV-1a-style lanes, as 16 hex digits (the core has no node:crypto). */
function digest(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) ^ Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b) ^ Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/**
 * A short, stable fingerprint of a parsed command: its type and a digest of its fields (the
 * command id left out), as `Type:0123456789abcdef`. Two commands with the same fingerprint
 * are the same command; the handler refuses a command id reused for another one.
 *
 * @example
 * ```ts
 * commandFingerprint(parseCommand({ type: 'Track', positionId: 'A' })); // 'Track:…'
 * ```
 */
export function commandFingerprint(command: Command): string {
  const { commandId: _id, ...fields } = command;
  return `${command.type}:${digest(canonical(fields))}`;
}

/** The command type a fingerprint names. */
export function fingerprintType(fingerprint: string): string {
  const i = fingerprint.indexOf(':');
  return i < 0 ? fingerprint : fingerprint.slice(0, i);
}
