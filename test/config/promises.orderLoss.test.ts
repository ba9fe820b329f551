import { describe, expect, it } from 'vitest';
import { defaultConfigText, parseConfigText } from '../../src/config/index.js';
import { ValidationError } from '../../src/errors/index.js';
import { policyFor } from '../../src/reconcile/index.js';
import { parseJsoncObject } from '../../src/config/parseJsonc.js';

/*
 * The config keys of in-flight order resolution: reconcile.orderLostAfterSeconds and
 * reconcile.orderLostAfterLooks, read from the file, bounded, and written by ptrack init.
 */

describe('reconcile.orderLostAfterSeconds / orderLostAfterLooks', () => {
  it('default to 60 s and 3 looks', () => {
    const config = parseConfigText('{}', 'c.json');
    expect(config.reconcile).toMatchObject({ orderLostAfterSeconds: 60, orderLostAfterLooks: 3 });
  });

  it('are read from the file', () => {
    const config = parseConfigText('{ "reconcile": { "orderLostAfterSeconds": 300, "orderLostAfterLooks": 5 } }', 'c.json');
    expect(config.reconcile).toMatchObject({ orderLostAfterSeconds: 300, orderLostAfterLooks: 5 });
  });

  it.each([
    ['orderLostAfterLooks', 0],
    ['orderLostAfterLooks', 1001],
    ['orderLostAfterLooks', 2.5],
    ['orderLostAfterSeconds', -1],
    ['orderLostAfterSeconds', 4e9],
  ])('refuses %s = %s, naming the key and the value', (key, value) => {
    const parse = () => parseConfigText(`{ "reconcile": { "${key}": ${value} } }`, 'c.json');
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(new RegExp(`reconcile\\.${key}.*${String(value).replace('.', '\\.').replace('+', '\\+')}`));
  });

  it('are written by ptrack init with their defaults', () => {
    const written = parseJsoncObject(defaultConfigText(), 'ptrack.config.json') as { reconcile: Record<string, unknown> };
    expect(written.reconcile).toMatchObject({ orderLostAfterSeconds: 60, orderLostAfterLooks: 3 });
  });
});

describe('reconcile.externalOrders', () => {
  it('defaults to manual (never touch what a person may have placed by hand)', () => {
    expect(parseConfigText('{}', 'c.json').reconcile.externalOrders).toBe('manual');
  });

  it.each(['adopt', 'cancel', 'manual'] as const)('reads %s from the file', (value) => {
    expect(parseConfigText(`{ "reconcile": { "externalOrders": "${value}" } }`, 'c.json').reconcile.externalOrders).toBe(value);
  });

  it('refuses another value, naming the key and the value', () => {
    const parse = () => parseConfigText('{ "reconcile": { "externalOrders": "close" } }', 'c.json');
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(/reconcile\.externalOrders.*close/);
  });

  it('is overridden per symbol (perSymbol.<symbol>.externalOrders), and refused there with another value', () => {
    const config = parseConfigText('{ "reconcile": { "perSymbol": { "BTC": { "externalOrders": "adopt" } } } }', 'c.json');
    expect(policyFor(config.reconcile, 'BTC').externalOrders).toBe('adopt');
    expect(policyFor(config.reconcile, 'ETH').externalOrders).toBe('manual');
    expect(() => parseConfigText('{ "reconcile": { "perSymbol": { "BTC": { "externalOrders": "sell" } } } }', 'c.json')).toThrow(
      /reconcile\.perSymbol\.BTC\.externalOrders.*sell/,
    );
  });

  it('is written by ptrack init with its default', () => {
    const written = parseJsoncObject(defaultConfigText(), 'ptrack.config.json') as { reconcile: Record<string, unknown> };
    expect(written.reconcile).toMatchObject({ externalOrders: 'manual' });
  });
});
