import { main } from '../../src/cli/main.js';
import { createIo } from '../../src/cli/io.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that only collects what is written to it (synchronously). */
function collector(isTTY: boolean): { stream: NodeJS.WritableStream & { isTTY: boolean }; text: () => string } {
  let text = '';
  const stream = {
    isTTY,
    write: (chunk: string | Uint8Array) => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    },
  } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  return { stream, text: () => text };
}

/**
 * Runs `ptrack` in this process through main(), on the same Io the binary builds (createIo) over
 * two collecting streams: as the binary would print, without a child process (cheaper for the
 * many small cases of the CLI's promises).
 */
export async function runMain(argv: string[], options: { liveStderr?: boolean } = {}): Promise<InProcessResult> {
  const stdout = collector(false);
  const stderr = collector(options.liveStderr ?? false);
  const io = createIo({ stdout: stdout.stream, stderr: stderr.stream }, { TERM: 'xterm' });
  const code = await main(argv, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
