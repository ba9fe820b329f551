import { describe, expect, it } from 'vitest';
import { ExternalError, ValidationError } from '../../src/errors/index.js';
import {
  capabilitiesOf,
  guardExternal,
  type ExternalOrderRequest,
  type ExternalSystem,
  type GuardOptions,
  type SubmitOutcome,
} from '../../src/reconcile/index.js';

/*
 * The port's order methods behind guardExternal: every answer parsed at the boundary (a bad one
 * is an ExternalError 'malformed' naming the field and the value), the retry rules (a submit
 * whose outcome is unknown is never sent again), the signal aborted on a timeout, and the
 * capabilities read from the methods an adapter has.
 */

const NO_SLEEP: GuardOptions = { sleep: async () => undefined };
const REQUEST: ExternalOrderRequest = { positionId: 'BTC-1', symbol: 'BTC', side: 'buy', type: 'market', quantity: 0.01 };
const CID = 'pt7f3a9c-1';
const ORDER = {
  clientOrderId: CID,
  externalOrderId: 'X-1',
  symbol: 'BTC',
  side: 'buy',
  quantity: 0.01,
  filledQuantity: 0,
  status: 'open',
};
const FILL = { tradeId: 'T-1', externalOrderId: 'X-1', clientOrderId: CID, quantity: 0.01, price: 60_000, fee: 0.6 };

const base: ExternalSystem = {
  listPositions: async () => [],
  closePosition: async () => undefined,
};

/** An adapter whose `method` runs `answer` for every call, counting them. */
function adapter(methods: Partial<ExternalSystem>): ExternalSystem {
  return { ...base, ...methods };
}

/** Answers `answers[i]` on the i-th call (a function is run, an Error thrown, anything else returned). */
function sequence(answers: readonly unknown[]): { calls: number; run: () => Promise<unknown> } {
  const state = {
    calls: 0,
    run: async (): Promise<unknown> => {
      const answer = answers[Math.min(state.calls, answers.length - 1)];
      state.calls += 1;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return state;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const rateLimited = (): ExternalError => new ExternalError('429 too many requests', 'rate_limited');
const unreachable = (message = 'connection reset'): ExternalError => new ExternalError(message, 'unreachable');

describe('order answers are parsed at the boundary', () => {
  describe('getOrder', () => {
    it.each([
      ['no externalOrderId', { ...ORDER, externalOrderId: undefined }, /externalOrderId: .*got nothing/],
      ['a venue status the port does not know ("closed")', { ...ORDER, status: 'closed' }, /status: .*got "closed"/],
      ['the book side instead of buy/sell', { ...ORDER, side: 'long' }, /side: .*got "long"/],
      ['a zero quantity', { ...ORDER, quantity: 0 }, /quantity: .*got 0/],
      ['a negative filled quantity', { ...ORDER, filledQuantity: -1 }, /filledQuantity: .*got -1/],
      ['more filled than ordered', { ...ORDER, filledQuantity: 0.02 }, /filledQuantity: must not exceed the quantity 0.01, got 0.02/],
      ['a quantity that is a string', { ...ORDER, quantity: '0.01' }, /quantity: .*got "0.01"/],
      ['a time that is not ISO-8601', { ...ORDER, createdAt: 'yesterday' }, /createdAt: .*got "yesterday"/],
      [
        'an id with a control character',
        { ...ORDER, externalOrderId: 'X\u001b[2J' },
        /externalOrderId: must not contain control characters/,
      ],
      ['a string', 'HTTP 502 Bad Gateway', /\(root\)/],
    ])('%s: malformed, naming the field and value, not retried', async (_name, answer, message) => {
      const answers = sequence([answer]);
      const guarded = guardExternal(adapter({ getOrder: answers.run }), NO_SLEEP);
      const error = await rejection(guarded.getOrder({ clientOrderId: CID }));
      expect(error).toBeInstanceOf(ExternalError);
      expect(error).toMatchObject({ failure: 'malformed', message: expect.stringMatching(message) });
      expect((error as Error).message).toMatch(new RegExp(`^getOrder\\(${CID}\\) returned a malformed answer: `));
      expect((error as Error).message).not.toContain('\u001b');
      expect(answers.calls).toBe(1);
    });

    it('an answer about another order (client order ids disagree) is malformed', async () => {
      const guarded = guardExternal(adapter({ getOrder: async () => ({ ...ORDER, clientOrderId: 'pt-other-1' }) }), NO_SLEEP);
      await expect(guarded.getOrder({ clientOrderId: CID })).rejects.toMatchObject({
        failure: 'malformed',
        message: `getOrder(${CID}) returned a malformed answer: clientOrderId: expected "${CID}", got "pt-other-1"`,
      });
    });

    it('an answer about another order (venue ids disagree) is malformed', async () => {
      const guarded = guardExternal(adapter({ getOrder: async () => ORDER }), NO_SLEEP);
      await expect(guarded.getOrder({ externalOrderId: 'X-2' })).rejects.toMatchObject({
        failure: 'malformed',
        message: 'getOrder(externalOrderId X-2) returned a malformed answer: externalOrderId: expected "X-2", got "X-1"',
      });
    });

    it('null is "the venue does not know it"; extra fields are dropped; a missing client order id is the one asked for', async () => {
      const asked: unknown[] = [];
      const answers = [null, { ...ORDER, clientOrderId: undefined, venueOnly: { flags: 3 }, averagePrice: 60_010 }];
      const guarded = guardExternal(
        adapter({
          getOrder: async (ref) => {
            asked.push(ref);
            return answers[asked.length - 1];
          },
        }),
        NO_SLEEP,
      );
      expect(await guarded.getOrder({ clientOrderId: CID })).toBeNull();
      expect(await guarded.getOrder({ clientOrderId: CID })).toEqual({ ...ORDER, averagePrice: 60_010 });
      expect(asked).toEqual([{ clientOrderId: CID }, { clientOrderId: CID }]);
    });

    it('a bad reference is a ValidationError and nothing is asked', async () => {
      const answers = sequence([ORDER]);
      const guarded = guardExternal(adapter({ getOrder: answers.run }), NO_SLEEP);
      const error = await rejection(guarded.getOrder({ clientOrderId: '' }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^getOrder: the order: /);
      await expect(guarded.getOrder({ id: CID } as never)).rejects.toBeInstanceOf(ValidationError);
      expect(answers.calls).toBe(0);
    });
  });

  describe('listOpenOrders', () => {
    it.each([
      ['an object instead of a list', { orders: [] }, /\(root\)/],
      [
        'one order twice (same venue id)',
        [ORDER, { ...ORDER, clientOrderId: 'pt-b-1' }],
        /\[1\]\.externalOrderId: duplicate externalOrderId "X-1"/,
      ],
      [
        'two orders with one client order id',
        [ORDER, { ...ORDER, externalOrderId: 'X-2' }],
        /\[1\]\.clientOrderId: duplicate clientOrderId/,
      ],
      [
        'a filled order among the open ones',
        [{ ...ORDER, status: 'filled', filledQuantity: 0.01 }],
        /\[0\]\.status: must be open or partially_filled/,
      ],
      ['a bad order in the list', [ORDER, { ...ORDER, externalOrderId: 'X-2', clientOrderId: 'pt-b-1', quantity: -3 }], /\[1\]\.quantity/],
    ])('%s: malformed, not retried', async (_name, answer, message) => {
      const answers = sequence([answer]);
      const guarded = guardExternal(adapter({ listOpenOrders: answers.run }), NO_SLEEP);
      await expect(guarded.listOpenOrders()).rejects.toMatchObject({
        failure: 'malformed',
        message: expect.stringMatching(new RegExp(`^listOpenOrders returned a malformed answer: .*${message.source}`)),
      });
      expect(answers.calls).toBe(1);
    });

    it('a good list parses, partially filled orders included', async () => {
      const partial = { ...ORDER, externalOrderId: 'X-2', clientOrderId: 'pt-b-1', status: 'partially_filled', filledQuantity: 0.004 };
      const guarded = guardExternal(adapter({ listOpenOrders: async () => [ORDER, partial] }), NO_SLEEP);
      expect(await guarded.listOpenOrders()).toEqual([ORDER, partial]);
    });
  });

  describe('listFills', () => {
    it.each([
      ['no tradeId', [{ ...FILL, tradeId: undefined }], /\[0\]\.tradeId: .*got nothing/],
      ['a fee that is not a number', [{ ...FILL, fee: Number.NaN }], /\[0\]\.fee: .*got NaN/],
      ['a zero quantity', [{ ...FILL, quantity: 0 }], /\[0\]\.quantity: .*got 0/],
      ['no fee', [{ ...FILL, fee: undefined }], /\[0\]\.fee: .*got nothing/],
      [
        'one trade with two quantities',
        [FILL, { ...FILL, quantity: 0.005 }],
        /\[1\]\.tradeId: tradeId "T-1" is listed twice with different contents/,
      ],
      ['one trade of two orders', [FILL, { ...FILL, externalOrderId: 'X-2' }], /\[1\]\.tradeId: tradeId "T-1" is listed twice/],
    ])('%s: malformed', async (_name, answer, message) => {
      const guarded = guardExternal(adapter({ listFills: async () => answer }), NO_SLEEP);
      await expect(guarded.listFills()).rejects.toMatchObject({
        failure: 'malformed',
        message: expect.stringMatching(new RegExp(`^listFills returned a malformed answer: .*${message.source}`)),
      });
    });

    it('the same trade reported twice is kept twice (the book de-duplicates by tradeId); a rebate is a negative fee', async () => {
      const rebate = { ...FILL, tradeId: 'T-2', fee: -0.1, at: '2026-12-02T00:00:00.000Z' };
      const guarded = guardExternal(adapter({ listFills: async () => [FILL, FILL, rebate] }), NO_SLEEP);
      expect(await guarded.listFills()).toEqual([FILL, FILL, rebate]);
    });

    it('passes `since` on; a `since` that is not ISO-8601 is a ValidationError and nothing is asked', async () => {
      const asked: unknown[] = [];
      const guarded = guardExternal(
        adapter({
          listFills: async (query) => {
            asked.push(query);
            return [];
          },
        }),
        NO_SLEEP,
      );
      await guarded.listFills({ since: '2026-12-02T00:00:00.000Z' });
      const error = await rejection(guarded.listFills({ since: 'last tuesday' }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/since: .*got "last tuesday"/);
      expect(asked).toEqual([{ since: '2026-12-02T00:00:00.000Z' }]);
    });
  });

  describe("submitOrder's answer", () => {
    it('an acknowledgement needs only the venue id; the client order id is the one sent', async () => {
      const guarded = guardExternal(
        adapter({ submitOrder: async () => ({ id: 'ignored', externalOrderId: 'X-1', status: 'open' }) }),
        NO_SLEEP,
      );
      expect(await guarded.submitOrder(REQUEST, { clientOrderId: CID })).toEqual({
        outcome: 'accepted',
        clientOrderId: CID,
        ack: { externalOrderId: 'X-1', clientOrderId: CID, status: 'open' },
      });
    });

    it.each([
      ['no venue id', { status: 'open' }, /externalOrderId: .*got nothing/],
      ['a status the port does not know', { externalOrderId: 'X-1', status: 'NEW' }, /status: .*got "NEW"/],
      [
        'another client order id',
        { externalOrderId: 'X-1', clientOrderId: 'pt-other-1' },
        /clientOrderId: expected "pt7f3a9c-1", got "pt-other-1"/,
      ],
      ['nothing at all', undefined, /\(root\)/],
      [
        'more filled than ordered',
        { externalOrderId: 'X-1', quantity: 0.01, filledQuantity: 0.5 },
        /filledQuantity: must not exceed the quantity 0.01/,
      ],
    ])('%s: the outcome is unknown (it may be placed), and it is not sent again', async (_name, answer, message) => {
      const answers = sequence([answer]);
      const guarded = guardExternal(adapter({ submitOrder: answers.run }), NO_SLEEP);
      const outcome = await guarded.submitOrder(REQUEST, { clientOrderId: CID });
      expect(outcome).toMatchObject({
        outcome: 'unknown',
        clientOrderId: CID,
        error: { failure: 'malformed', message: expect.stringMatching(message) },
      });
      expect(answers.calls).toBe(1);
    });

    it('an answer with status "rejected" is a refusal (not placed)', async () => {
      const guarded = guardExternal(adapter({ submitOrder: async () => ({ externalOrderId: 'X-1', status: 'rejected' }) }), NO_SLEEP);
      const outcome = await guarded.submitOrder(REQUEST, { clientOrderId: CID });
      expect(outcome).toMatchObject({
        outcome: 'refused',
        error: { failure: 'rejected', message: expect.stringMatching(/status "rejected"/) },
      });
    });
  });
});

describe('a bad request is refused before anything is sent', () => {
  it.each([
    ['a limit order without a limit price', { ...REQUEST, type: 'limit' }, /limitPrice: is required for a limit order/],
    ['a market order with a limit price', { ...REQUEST, limitPrice: 5 }, /limitPrice: must not be given for a market order/],
    ['a zero quantity', { ...REQUEST, quantity: 0 }, /quantity: .*got 0/],
    ['a side the venue does not know', { ...REQUEST, side: 'long' }, /side: .*got "long"/],
    ['an unknown key', { ...REQUEST, leverage: 50 }, /leverage/],
  ])('%s: ValidationError naming the field', async (_name, request, message) => {
    const answers = sequence([{ externalOrderId: 'X-1' }]);
    const guarded = guardExternal(adapter({ submitOrder: answers.run }), NO_SLEEP);
    const error = await rejection(guarded.submitOrder(request as ExternalOrderRequest, { clientOrderId: CID }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/^submitOrder: the request: /);
    expect((error as Error).message).toMatch(message);
    expect(answers.calls).toBe(0);
  });

  it('a client order id that is empty or carries control characters: ValidationError', async () => {
    const answers = sequence([{ externalOrderId: 'X-1' }]);
    const guarded = guardExternal(adapter({ submitOrder: answers.run }), NO_SLEEP);
    for (const clientOrderId of ['', 'pt\u0007-1']) {
      const error = await rejection(guarded.submitOrder(REQUEST, { clientOrderId }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^submitOrder: the clientOrderId: /);
      expect((error as Error).message).not.toContain('\u0007');
    }
    expect(answers.calls).toBe(0);
  });
});

describe('retry rules: an order whose outcome is unknown is never sent again', () => {
  /** A guarded adapter whose submitOrder answers `answers` in turn; records what each call received. */
  function submitting(answers: readonly unknown[], options: GuardOptions = {}) {
    const s = sequence(answers);
    const received: { request: unknown; clientOrderId: string; signal: AbortSignal }[] = [];
    const guarded = guardExternal(
      adapter({
        submitOrder: (request, { clientOrderId, signal }) => {
          received.push({ request, clientOrderId, signal });
          return s.run();
        },
      }),
      { ...NO_SLEEP, ...options },
    );
    return { guarded, received, submit: (): Promise<SubmitOutcome> => guarded.submitOrder(REQUEST, { clientOrderId: CID }) };
  }

  it('a timeout: unknown, sent once, and its signal is aborted so a late send can stop', async () => {
    const never = new Promise<unknown>(() => undefined);
    const { received, submit, guarded } = submitting([never], { timeoutMs: 20 });
    const outcome = await submit();
    expect(outcome).toMatchObject({
      outcome: 'unknown',
      error: { failure: 'timeout', message: `submitOrder(${CID}) timed out after 20 ms` },
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.signal.aborted).toBe(true);
    expect(received[0]).toMatchObject({ request: REQUEST, clientOrderId: CID });
    expect(guarded.stats).toEqual({ calls: 1, retries: 0 });
  });

  it.each([
    ['a lost connection', unreachable('socket hang up')],
    ['a 5xx', unreachable('POST /v2/orders: HTTP 503')],
    ['a plain Error from the client library', new Error('ECONNRESET')],
    ['a timeout the adapter reports', new ExternalError('read timed out', 'timeout')],
  ])('%s: unknown, sent once', async (_name, thrown) => {
    const { received, submit } = submitting([thrown, { externalOrderId: 'X-1' }]);
    const outcome = await submit();
    expect(outcome.outcome).toBe('unknown');
    expect(outcome).toMatchObject({ error: { message: expect.stringContaining((thrown as Error).message) } });
    expect(received).toHaveLength(1);
  });

  it('a rate limit: certainly not placed, so it is sent again, with the same client order id, after a back-off', async () => {
    const waits: number[] = [];
    const { received, submit, guarded } = submitting([rateLimited(), { externalOrderId: 'X-1' }], {
      backoffMs: 100,
      random: () => 1,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(await submit()).toMatchObject({ outcome: 'accepted', ack: { externalOrderId: 'X-1' } });
    expect(received.map((r) => r.clientOrderId)).toEqual([CID, CID]);
    expect(waits).toEqual([100]);
    expect(guarded.stats).toEqual({ calls: 2, retries: 1 });
  });

  it('rate limited on every try: refused (not placed) once the retries run out', async () => {
    const { received, submit } = submitting([rateLimited()], { retries: 2 });
    expect(await submit()).toMatchObject({ outcome: 'refused', error: { failure: 'rate_limited' } });
    expect(received).toHaveLength(3);
  });

  it("the venue's refusal: refused, sent once", async () => {
    const { received, submit } = submitting([new ExternalError('insufficient balance', 'rejected')]);
    expect(await submit()).toMatchObject({ outcome: 'refused', error: { failure: 'rejected', message: 'insufficient balance' } });
    expect(received).toHaveLength(1);
  });

  describe('a look-up retries like listPositions', () => {
    it.each([
      ['getOrder', (g: ReturnType<typeof guardExternal>) => g.getOrder({ clientOrderId: CID }), ORDER, 'getOrder'],
      ['listOpenOrders', (g: ReturnType<typeof guardExternal>) => g.listOpenOrders(), [ORDER], 'listOpenOrders'],
      ['listFills', (g: ReturnType<typeof guardExternal>) => g.listFills(), [FILL], 'listFills'],
    ] as const)('%s: after a lost connection, a timeout and a rate limit', async (_name, look, answer, method) => {
      const s = sequence([unreachable(), new ExternalError('read timed out', 'timeout'), rateLimited(), answer]);
      const guarded = guardExternal(adapter({ [method]: s.run }), { ...NO_SLEEP, retries: 3 });
      expect(await look(guarded)).toEqual(answer);
      expect(s.calls).toBe(4);
      expect(guarded.stats).toEqual({ calls: 4, retries: 3 });
    });

    it('getOrder: the retries run out, the last failure is thrown', async () => {
      const s = sequence([unreachable()]);
      const guarded = guardExternal(adapter({ getOrder: s.run }), { ...NO_SLEEP, retries: 2 });
      await expect(guarded.getOrder({ clientOrderId: CID })).rejects.toMatchObject({ failure: 'unreachable' });
      expect(s.calls).toBe(3);
    });

    it("getOrder: the venue's refusal is not retried", async () => {
      const s = sequence([new ExternalError('401 unauthorized', 'rejected')]);
      const guarded = guardExternal(adapter({ getOrder: s.run }), NO_SLEEP);
      await expect(guarded.getOrder({ clientOrderId: CID })).rejects.toMatchObject({ failure: 'rejected' });
      expect(s.calls).toBe(1);
    });
  });

  describe('cancelOrder is retried only after a rate limit', () => {
    it('a timeout is not retried (the cancel may have landed; a second one would answer "unknown order")', async () => {
      const received: AbortSignal[] = [];
      const guarded = guardExternal(
        adapter({
          cancelOrder: (_ref, { signal }) => {
            received.push(signal);
            return new Promise(() => undefined);
          },
        }),
        { ...NO_SLEEP, timeoutMs: 20 },
      );
      await expect(guarded.cancelOrder({ clientOrderId: CID })).rejects.toMatchObject({ failure: 'timeout' });
      expect(received).toHaveLength(1);
      expect(received[0]?.aborted).toBe(true);
    });

    it('a rate limit is retried; the reference is passed on', async () => {
      const asked: unknown[] = [];
      const s = sequence([rateLimited(), { ok: true }]);
      const guarded = guardExternal(
        adapter({
          cancelOrder: (ref) => {
            asked.push(ref);
            return s.run();
          },
        }),
        NO_SLEEP,
      );
      await guarded.cancelOrder({ clientOrderId: CID, externalOrderId: 'X-1' });
      expect(asked).toEqual([
        { clientOrderId: CID, externalOrderId: 'X-1' },
        { clientOrderId: CID, externalOrderId: 'X-1' },
      ]);
    });
  });
});

describe('capabilities', () => {
  const full: ExternalSystem = adapter({
    getPosition: async () => null,
    submitOrder: async () => ({ externalOrderId: 'X-1' }),
    getOrder: async () => null,
    listOpenOrders: async () => [],
    cancelOrder: async () => undefined,
  });

  it('say which optional methods exist; canTrade needs submit, getOrder, listOpenOrders and cancel (listFills is optional)', () => {
    expect(capabilitiesOf(base)).toEqual({
      getPosition: false,
      submitOrder: false,
      getOrder: false,
      listOpenOrders: false,
      cancelOrder: false,
      listFills: false,
      canTrade: false,
    });
    expect(capabilitiesOf(full)).toMatchObject({ submitOrder: true, listFills: false, canTrade: true });
    expect(guardExternal(full).capabilities).toEqual(capabilitiesOf(full));
    expect(capabilitiesOf({ ...full, listFills: async () => [] }).listFills).toBe(true);
    for (const method of ['submitOrder', 'getOrder', 'listOpenOrders', 'cancelOrder'] as const) {
      const { [method]: _dropped, ...rest } = full;
      expect(capabilitiesOf(rest).canTrade, method).toBe(false);
    }
  });

  it('a missing method: a look-up or cancel throws "rejected"; a submit is refused (nothing was placed)', async () => {
    const guarded = guardExternal(base, NO_SLEEP);
    await expect(guarded.getOrder({ clientOrderId: CID })).rejects.toMatchObject({
      failure: 'rejected',
      message: 'the adapter has no getOrder',
    });
    await expect(guarded.listOpenOrders()).rejects.toMatchObject({ failure: 'rejected', message: 'the adapter has no listOpenOrders' });
    await expect(guarded.cancelOrder({ clientOrderId: CID })).rejects.toMatchObject({ failure: 'rejected' });
    await expect(guarded.listFills()).rejects.toMatchObject({ failure: 'rejected', message: 'the adapter has no listFills' });
    expect(await guarded.submitOrder(REQUEST, { clientOrderId: CID })).toMatchObject({
      outcome: 'refused',
      error: { failure: 'rejected', message: 'the adapter has no submitOrder' },
    });
  });
});
