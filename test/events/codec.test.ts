import { describe, expect, it } from 'vitest';
import { EventSchemaError, ValidationError } from '../../src/errors/index.js';
import { bookStream, EventCodec, eventTypes } from '../../src/events/index.js';

const row = (type: string, data: unknown, metadata: unknown) => ({
  stream: 'tradelog-main',
  revision: 4,
  position: 9,
  type,
  data: JSON.stringify(data),
  metadata: JSON.stringify(metadata),
});
const meta = (schemaVersion: number) => ({ recordedAt: '2026-01-01T00:00:00.000Z', schemaVersion });

describe('event codec', () => {
  it('knows the event types of the trade log, orders included', () => {
    expect(eventTypes).toEqual([
      'PositionTracked',
      'PositionEntered',
      'PositionValued',
      'PositionExited',
      'PositionSkipped',
      'PositionArchived',
      'OrphanDetected',
      'OrphanAdopted',
      'OrphanClosed',
      'PhantomSuspected',
      'PhantomDismissed',
      'PhantomCleared',
      'DriftCorrected',
      'ReconciliationCompleted',
      'CircuitBreakerTripped',
      'CircuitBreakerReset',
      'CooldownStarted',
      'Heartbeat',
      'RecoveryRequired',
      'RecoveryAcknowledged',
      'PositionIncreased',
      'OrderRequested',
      'OrderAccepted',
      'OrderRejected',
      'OrderFilled',
      'OrderCancelRequested',
      'OrderCanceled',
      'OrderExpired',
      'OrderLost',
      'SymbolDisabled',
      'SymbolEnabled',
      'OrderLookedUp',
      'ProtectionSet',
      'ExternalOrderDetected',
      'ExternalOrderCanceled',
      'ExternalOrderAdopted',
    ]);
  });

  describe('encode (the way in)', () => {
    const codec = new EventCodec();
    it('refuses unknown fields rather than dropping them', () => {
      expect(() =>
        codec.encode({ type: 'PositionSkipped', data: { positionId: 'A', source: 'local', colour: 'red' } }, '2026-01-01T00:00:00Z'),
      ).toThrow(/data: Unrecognized key: "colour"/);
    });
    it('names the field and the value that failed', () => {
      const err = (() => {
        try {
          codec.encode(
            {
              type: 'PositionExited',
              data: { positionId: 'A', side: 'long', fraction: 1.5, value: 1, costBasis: 1, realizedPnl: 0, full: true, source: 'local' },
            },
            '2026-01-01T00:00:00Z',
          );
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues[0]).toMatchObject({ path: 'data.fraction', value: 1.5 });
      expect((err as Error).message).toMatch(/data\.fraction: .*got 1\.5/);
    });
    it('refuses NaN and Infinity in money fields', () => {
      expect(() =>
        codec.encode({ type: 'PositionValued', data: { positionId: 'A', value: Number.NaN, source: 'local' } }, '2026-01-01T00:00:00Z'),
      ).toThrow(/data\.value/);
    });
    it('refuses a bad recordedAt in metadata', () => {
      expect(() =>
        codec.encode(
          { type: 'Heartbeat', data: { at: '2026-01-01T00:00:00Z', source: 'local' }, metadata: { recordedAt: 'yesterday' } },
          '2026-01-01T00:00:00Z',
        ),
      ).toThrow(/metadata\.recordedAt: .*got "yesterday"/);
    });
  });

  describe('decode (the way out)', () => {
    it('upcasts an older schemaVersion through the hook to the current shape', () => {
      // Say version 1 of PositionTracked called the setup tag "strategy"; version 2 calls it "setup".
      const codec = new EventCodec({
        currentVersions: { PositionTracked: 2 },
        upcasters: [
          {
            type: 'PositionTracked',
            fromVersion: 1,
            upcast: (d) => {
              const { strategy, ...rest } = d as { strategy?: string };
              return { ...rest, setup: strategy };
            },
          },
        ],
      });
      const event = codec.decode(row('PositionTracked', { positionId: 'A', side: 'long', strategy: 'breakout', source: 'local' }, meta(1)));
      expect(event.data).toEqual({ positionId: 'A', side: 'long', setup: 'breakout', source: 'local' });
      expect(event.metadata.schemaVersion).toBe(2);
    });

    it('refuses an old version it has no upcaster for', () => {
      const codec = new EventCodec({ currentVersions: { Heartbeat: 3 } });
      expect(() => codec.decode(row('Heartbeat', { at: '2026-01-01T00:00:00Z', source: 'local' }, meta(2)))).toThrow(
        /no upcaster from schemaVersion 2 to 3/,
      );
    });

    it('refuses a newer version than this build reads', () => {
      expect(() => new EventCodec().decode(row('Heartbeat', { at: '2026-01-01T00:00:00Z', source: 'local' }, meta(2)))).toThrow(
        /schemaVersion 2 is newer than this build reads \(1\)/,
      );
    });

    it.each([
      ['an unknown type', row('Teleported', {}, meta(1)), 'type'],
      ['data that is not JSON', { ...row('Heartbeat', {}, meta(1)), data: '{oops' }, 'data'],
      [
        'metadata without recordedAt',
        row('Heartbeat', { at: '2026-01-01T00:00:00Z', source: 'local' }, { schemaVersion: 1 }),
        'metadata.recordedAt',
      ],
    ])('names the field for %s', (_what, stored, field) => {
      const err = (() => {
        try {
          new EventCodec().decode(stored);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(EventSchemaError);
      expect(err).toMatchObject({ location: { stream: 'tradelog-main', revision: 4, position: 9, field } });
    });
  });

  it('names streams with one helper and refuses bad book ids', () => {
    expect(bookStream('main')).toBe('tradelog-main');
    expect(() => bookStream('has space')).toThrow();
    expect(() => bookStream('')).toThrow();
  });
});
