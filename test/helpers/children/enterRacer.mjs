// Race child: opens a tracker on a shared store (a store string: sqlite:<file>, postgres://...) and book, waits at a barrier until every
// racer has opened its tracker (a file per racer in a shared directory: a fixed start time is not
// enough, since loading the library in several processes at once can take seconds), then tracks
// and enters each position of its plan, one command at a time, as a bot would.
// Every command carries a commandId so the parent can find its events in the log.
// Prints one JSON line: { name, readyAt, goAt, outcomes, retries } where each outcome is
// { command, positionId, commandId, ok: true, revisions } or { ..., ok: false, error, rule }.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTracker } from '../../../dist/index.js';

const [store, book, name, barrier, racers, policyJson, planJson] = process.argv.slice(2);
const policy = JSON.parse(policyJson);
const plan = JSON.parse(planJson);

let retries = 0;
const tracker = await openTracker({
  store,
  book,
  ...policy,
  // The handler logs each lost append before deciding again: count them to show the race was real.
  logger: { debug: (_obj, msg) => void (msg === 'concurrent append, deciding again' && retries++), warn: () => {} },
});

const outcomes = [];
const attempt = async (command, positionId, run) => {
  const commandId = `${name}:${command}:${positionId}`;
  const startedAt = Date.now();
  try {
    const result = await run(commandId);
    outcomes.push({
      command,
      positionId,
      commandId,
      ok: true,
      duplicate: result.duplicate,
      revisions: result.events.map((e) => e.revision),
      startedAt,
      endedAt: Date.now(),
    });
  } catch (error) {
    outcomes.push({
      command,
      positionId,
      commandId,
      ok: false,
      error: error?.constructor?.name ?? typeof error,
      rule: error?.rule,
      message: String(error?.message ?? error),
      startedAt,
      endedAt: Date.now(),
    });
  }
};

const readyAt = Date.now();
writeFileSync(join(barrier, `${name}.ready`), '');
const deadline = readyAt + 30_000;
while (readdirSync(barrier).filter((f) => f.endsWith('.ready')).length < Number(racers)) {
  if (Date.now() > deadline) throw new Error(`${name}: the other racers were not ready within 30 s`);
  await new Promise((r) => setTimeout(r, 1));
}
const goAt = Date.now();
for (const p of plan) {
  await attempt('Track', p.id, (commandId) => tracker.track(p.id, { symbol: p.symbol, commandId }));
  await attempt('Enter', p.id, (commandId) =>
    tracker.enter(p.id, { value: p.value, quantity: p.quantity, price: p.price, stop: p.stop, commandId }),
  );
}
await tracker.close();
process.stdout.write(JSON.stringify({ name, readyAt, goAt, outcomes, retries }) + '\n');
