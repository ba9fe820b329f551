import { describe, expect, it } from 'vitest';
import { defaultConfigText, parseConfigText } from '../../src/config/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { parseJsoncObject } from '../../src/config/parseJsonc.js';

/* The config key reconcile.positionMode: read from the file, validated, written by ptrack init. */

describe('reconcile.positionMode', () => {
  it('defaults to auto (the adapter says, else per-id)', () => {
    expect(parseConfigText('{}', 'c.json').reconcile.positionMode).toBe('auto');
  });

  it.each(['auto', 'per-id', 'netting', 'hedge'] as const)('reads %s from the file', (value) => {
    expect(parseConfigText(`{ "reconcile": { "positionMode": "${value}" } }`, 'c.json').reconcile.positionMode).toBe(value);
  });

  it('refuses another value, naming the key and the value', () => {
    const parse = () => parseConfigText('{ "reconcile": { "positionMode": "fifo" } }', 'c.json');
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(/reconcile\.positionMode.*fifo/);
  });

  it('is written by ptrack init with its default', () => {
    const written = parseJsoncObject(defaultConfigText(), 'ptrack.config.json') as { reconcile: Record<string, unknown> };
    expect(written.reconcile).toMatchObject({ positionMode: 'auto' });
  });
});
