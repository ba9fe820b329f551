import { describe, expect, it } from 'vitest';
import type { CommandHandler, CommandInput } from '../../src/commands/index.js';
import { ExternalError, RiskLimitError, ValidationError } from '../../src/errors/index.js';
import type { GuardedExternal } from '../../src/reconcile/index.js';
import { executePlan } from '../../src/reconcile/executePlan.js';
import type { Step } from '../../src/reconcile/steps.js';

/*
 * The executor on its own, against a hand-made handler and outside system: what each step's result
 * is, when a step counts as healed, and which errors end the run.
 */

type Answer = { events: unknown[]; duplicate?: boolean } | Error;

/** A handler answering each command type as `answers` says (default: one event). */
function handlerOf(answers: Record<string, Answer> = {}): CommandHandler {
  return {
    handle: async (command: CommandInput) => {
      const a = answers[command.type] ?? { events: [{}] };
      if (a instanceof Error) throw a;
      return { events: a.events, duplicate: a.duplicate ?? false };
    },
  } as unknown as CommandHandler;
}
/** An outside system that records its close calls, failing when `fail` is set. */
function outside(fail?: Error) {
  const calls: unknown[][] = [];
  const external = {
    closePosition: async (...args: unknown[]) => {
      calls.push(args);
      if (fail) throw fail;
    },
  } as unknown as GuardedExternal;
  return { external, calls };
}
const meta = { source: 'reconcile' as const };
const detect: CommandInput = { type: 'DetectOrphan', positionId: 'X', value: 10 };
const heartbeat: CommandInput = { type: 'RecordHeartbeat' };
const command = (c: CommandInput, corrects = false): Step => ({
  action: { kind: 'command', command: c, about: c.type },
  ...(corrects ? { corrects: true as const } : {}),
});

describe('executePlan: a command step', () => {
  it('is ok when the book wrote events or answered a repeat, skipped when it wrote nothing, healed only when ok and it corrects', async () => {
    const steps = [command(detect, true), command(detect, true), command(detect, true)];
    const answers: Answer[] = [{ events: [{}] }, { events: [], duplicate: true }, { events: [] }];
    const results = [];
    for (const [i, step] of steps.entries()) {
      const { external } = outside();
      results.push(...(await executePlan([step], { handler: handlerOf({ DetectOrphan: answers[i]! }), external, meta })).results);
    }
    expect(results).toStrictEqual([
      { result: 'ok', healed: true },
      { result: 'ok', healed: true },
      { result: 'skipped', healed: false },
    ]);
  });

  it('a refusal by the book is skipped, naming the position only when the command has one', async () => {
    const refusal = new RiskLimitError('no', 'maxPositions', 1, 1);
    const { external } = outside();
    const run = await executePlan([command(detect), command(heartbeat)], {
      handler: handlerOf({ DetectOrphan: refusal, RecordHeartbeat: refusal }),
      external,
      meta,
    });
    expect(run.skipped).toStrictEqual([{ positionId: 'X', reason: 'no' }, { reason: 'no' }]);
    expect(run.results).toStrictEqual([
      { result: 'skipped', problem: 'no', healed: false },
      { result: 'skipped', problem: 'no', healed: false },
    ]);
  });

  it('a book error other than a refusal fails the step and the run goes on; anything else ends the run (by default)', async () => {
    const { external } = outside();
    const run = await executePlan([command(detect), command(heartbeat)], {
      handler: handlerOf({ DetectOrphan: new ValidationError('bad value') }),
      external,
      meta,
    });
    expect(run.results).toStrictEqual([
      { result: 'failed', problem: 'bad value', healed: false },
      { result: 'ok', healed: false },
    ]);
    expect(run.errors).toStrictEqual([{ stage: 'command', positionId: 'X', message: 'bad value' }]);
    await expect(
      executePlan([command(detect), command(heartbeat)], { handler: handlerOf({ DetectOrphan: new Error('disk gone') }), external, meta }),
    ).rejects.toThrow('disk gone');
  });
});

describe('executePlan: a close outside', () => {
  const close = (extra: Partial<Extract<Step['action'], { kind: 'closeOutside' }>> = {}): Step => ({
    action: { kind: 'closeOutside', positionId: 'P', record: detect, more: [heartbeat], ...extra },
    corrects: true,
  });

  it('closes the whole position when no quantity is given, a part (with its side) when one is', async () => {
    const whole = outside();
    await executePlan([close()], { handler: handlerOf(), external: whole.external, meta });
    const part = outside();
    await executePlan([close({ quantity: 2, side: 'short' })], { handler: handlerOf(), external: part.external, meta });
    expect(whole.calls).toStrictEqual([['P']]);
    expect(part.calls).toStrictEqual([['P', { quantity: 2, side: 'short' }]]);
  });

  it('is ok once closed outside; healed only when every record was ok, the records problems joined', async () => {
    const all = outside();
    const healed = await executePlan([close()], { handler: handlerOf(), external: all.external, meta });
    expect(healed.results).toStrictEqual([{ result: 'ok', healed: true }]);
    const refusal = (m: string) => new RiskLimitError(m, 'maxPositions', 1, 1);
    const some = outside();
    const partly = await executePlan([close()], {
      handler: handlerOf({ DetectOrphan: refusal('first'), RecordHeartbeat: refusal('second') }),
      external: some.external,
      meta,
    });
    expect(partly.results).toStrictEqual([{ result: 'ok', healed: false, problem: 'first; second' }]);
    const one = outside();
    const oneOk = await executePlan([close()], {
      handler: handlerOf({ RecordHeartbeat: refusal('second') }),
      external: one.external,
      meta,
    });
    expect(oneOk.results).toStrictEqual([{ result: 'ok', healed: false, problem: 'second' }]);
  });

  it('a close that fails outside fails the step and records nothing', async () => {
    const failing = outside(new ExternalError('venue down', 'unreachable'));
    let handled = 0;
    const handler = { handle: async () => (handled++, { events: [{}], duplicate: false }) } as unknown as CommandHandler;
    const run = await executePlan([close()], { handler, external: failing.external, meta });
    expect(run.results).toStrictEqual([{ result: 'failed', healed: false, problem: 'venue down' }]);
    expect(run.errors).toStrictEqual([{ stage: 'closePosition', positionId: 'P', failure: 'unreachable', message: 'venue down' }]);
    expect(handled).toBe(0);
  });
});
