import { canonicalJson, digest64 } from './_internals/digest.js';
import type { Command } from './schemas.js';

/*
 * What a command id stands for. The idempotency window maps a command id to the events its
 * command appended; to tell "the same command again" (answer with the first result) from
 * "another command under a reused id" (refuse), each event of a command carries this digest
 * in its metadata, so it is folded back by a replay and kept in snapshots.
 */

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
  return `${command.type}:${digest64(canonicalJson(fields))}`;
}

/** The command type a fingerprint names. */
export function fingerprintType(fingerprint: string): string {
  const i = fingerprint.indexOf(':');
  return i < 0 ? fingerprint : fingerprint.slice(0, i);
}
