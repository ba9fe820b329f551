import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ptrack` in this process through main(), with stdout and stderr captured: as the binary
 * sees them, without a child process (cheaper for the many small cases of the CLI's promises).
 */
export async function runMain(argv: string[], options: { liveStderr?: boolean } = {}): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => (stdout += t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => (stderr += t.endsWith('\n') ? t : `${t}\n`),
    liveStderr: options.liveStderr ?? false,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
