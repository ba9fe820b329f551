import { describe, expect, it } from 'vitest';
import { lazyLogger, type LogLevelMethods } from '../src/log.js';

/* #16.7 The one lazy logger: the CLI and the projection runner take theirs from here. */

describe('#16.7 lazyLogger', () => {
  it('creates the logger only at the first line, once, with the options given, and forwards every level', () => {
    const lines: [string, object, string | undefined][] = [];
    const created: unknown[] = [];
    const create = (options: unknown): LogLevelMethods => {
      created.push(options);
      const at = (level: string) => (obj: object, msg?: string) => void lines.push([level, obj, msg]);
      return { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal') };
    };
    const log = lazyLogger({ level: 'warn', name: 'projections' }, create);
    expect(created).toEqual([]);
    log.warn({ a: 1 }, 'first');
    log.debug({ b: 2 });
    for (const level of ['trace', 'info', 'error', 'fatal'] as const) log[level]({ level });
    expect(created).toEqual([{ level: 'warn', name: 'projections' }]);
    expect(lines.map(([level]) => level)).toEqual(['warn', 'debug', 'trace', 'info', 'error', 'fatal']);
    expect(lines[0]).toEqual(['warn', { a: 1 }, 'first']);
  });

  it('with the default factory, a silent pino logger takes lines without writing', () => {
    const log = lazyLogger({ level: 'silent', pretty: false });
    expect(() => log.error({ x: 1 }, 'nothing shown')).not.toThrow();
  });
});
