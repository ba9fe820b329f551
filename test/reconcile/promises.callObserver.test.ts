import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../src/errors/index.js';
import { guardExternal, type ExternalSystem } from '../../src/reconcile/index.js';

/*
 * #14 metrics: the guarded outside system tells its observer of every attempt, with the
 * operation and `ok` or the failure kind (a retry is one more attempt; a malformed answer is
 * `malformed`), and a throwing hook changes no call's result.
 */

const NO_SLEEP = { sleep: async () => undefined };

describe('#14 ExternalCallObserver', () => {
  it('counts each attempt by operation and outcome', async () => {
    let listed = 0;
    const system: ExternalSystem = {
      listPositions: async () => {
        listed += 1;
        if (listed === 1) throw new ExternalError('down', 'unreachable');
        return [{ id: 'A', value: 10 }];
      },
      closePosition: async () => {
        throw new ExternalError('no such position', 'rejected');
      },
      getPosition: async () => ({ id: 'other', value: 1 }),
    };
    const seen: string[] = [];
    const guarded = guardExternal(system, { ...NO_SLEEP, observer: { onCall: (op, outcome) => seen.push(`${op} ${outcome}`) } });
    expect(await guarded.listPositions()).toEqual([{ id: 'A', value: 10 }]);
    await expect(guarded.closePosition('A')).rejects.toMatchObject({ failure: 'rejected' });
    await expect(guarded.getPosition('A')).rejects.toMatchObject({ failure: 'malformed' });
    // A method the adapter lacks makes no call.
    await expect(guarded.listOpenOrders()).rejects.toMatchObject({ failure: 'rejected' });
    expect(seen).toEqual(['listPositions unreachable', 'listPositions ok', 'closePosition rejected', 'getPosition malformed']);
  });

  it('a hook that throws changes no result', async () => {
    const system: ExternalSystem = { listPositions: async () => [], closePosition: async () => undefined };
    const guarded = guardExternal(system, {
      ...NO_SLEEP,
      observer: {
        onCall: () => {
          throw new Error('metrics broke');
        },
      },
    });
    expect(await guarded.listPositions()).toEqual([]);
    await expect(guarded.closePosition('A')).resolves.toBeUndefined();
  });
});
