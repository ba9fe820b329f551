import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rebuildReadModels, startProjections } from '../../src/projections/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

/*
 * Issue 10, item 21: a worker killed between writing a read model's temporary file and the
 * rename leaves `.<name>.json.<pid>.<rand>.tmp` behind. Starting the projections removes those
 * whose process is gone, and those past the age bound, and never a live writer's.
 */

const quiet = { info() {}, warn() {}, error() {}, fatal() {} };

/** A pid whose process has exited (it ran `node -e ''`). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(child.pid!));
  });
}

/** A process that stays alive until killed (at most 60 s). */
function liveChild(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('spawn', () => resolve(child));
  });
}

describe('#10.21 temporary read-model files of killed writers are removed on start', () => {
  for (const start of ['startProjections', 'rebuildReadModels'] as const) {
    it(`#10.21 ${start} removes the temporaries of dead pids and old ones, keeps a live writer's and everything else`, async ({
      onTestFinished,
    }) => {
      const { dir, cleanup } = tempDir('ptrack-tmp-');
      onTestFinished(cleanup);
      const dead = await deadPid();
      const live = await liveChild();
      onTestFinished(() => void live.kill('SIGKILL'));
      const big = Buffer.alloc(1024 * 1024, 0x20);
      const files = {
        deadWriter: `.portfolio.json.${dead}.0123abcd.tmp`,
        liveWriter: `.equity.json.${live.pid}.89abcdef.tmp`,
        liveButOld: `.risk.json.${live.pid}.00ff00ff.tmp`,
        thisProcess: `.audit.json.${process.pid}.deadbeef.tmp`,
        unrelated: 'notes.tmp',
        lookalike: `.portfolio.json.${dead}.tmp`,
      };
      for (const name of Object.values(files)) writeFileSync(join(dir, name), big);
      const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
      utimesSync(join(dir, files.liveButOld), twoHoursAgo, twoHoursAgo);

      const store = new MemoryEventStore();
      if (start === 'startProjections') {
        const handle = await startProjections({ store, stateDir: dir, logger: quiet });
        await handle.whenCaughtUp();
        await handle.stop();
      } else {
        await rebuildReadModels({ store, stateDir: dir, logger: quiet });
      }
      const left = readdirSync(dir);
      expect(left).not.toContain(files.deadWriter);
      expect(left).not.toContain(files.liveButOld);
      expect(left).toEqual(
        expect.arrayContaining([files.liveWriter, files.thisProcess, files.unrelated, files.lookalike, 'portfolio.json']),
      );
    });
  }
});
