import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ptrack.js', import.meta.url));

/** A `ptrack serve` child process bound to 127.0.0.1 on a free port. */
export interface ServeChild {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and waits (bounded) for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, for finally blocks: always safe to call. */
  kill(): Promise<void>;
}

/**
 * Starts the real `ptrack serve` (the built CLI) with `--port 0 --host 127.0.0.1` unless the
 * arguments name them (`args` go before `serve`, `serveArgs` after it), and resolves once it printed the address it bound (bounded by `timeoutMs`).
 */
export function startServe(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; port?: boolean; serveArgs?: string[] } = {},
): Promise<ServeChild> {
  const extra = [...(options.serveArgs ?? []), ...(options.port === false ? [] : ['--port', '0', '--host', '127.0.0.1'])];
  const child = spawn(process.execPath, [BIN, ...args, 'serve', ...extra], {
    cwd: options.cwd,
    env: { ...process.env, LOG_LEVEL: 'silent', NO_COLOR: '1', PTRACK_CONFIG: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const handle = (url: string): ServeChild => ({
    url,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ptrack serve did not print its address in time; stdout: ${out} stderr: ${err}`));
    }, options.timeoutMs ?? 20_000);
    const onData = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(handle(m[1]));
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ptrack serve exited with ${code} before it listened; stdout: ${out} stderr: ${err}`));
    });
  });
}

/** Polls `check` every 50 ms until it returns a value other than undefined, at most `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET (or another method) as JSON: the status and the parsed body. */
export async function api(
  url: string,
  init: RequestInit = {},
  // The tests read the documents they assert on; their shapes are what the tests check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text itself
  }
  return { status: res.status, body, headers: res.headers };
}

/** One frame of a server-sent event stream. */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  /** A comment line (`: ...`). */
  comment?: string;
}

/**
 * Reads `url` as a server-sent event stream until `done(frames)` says so (then the connection
 * is dropped, as a browser's would be), bounded by `timeoutMs`.
 */
export async function readSse(
  url: string,
  done: (frames: SseFrame[]) => boolean,
  options: { lastEventId?: string; timeoutMs?: number } = {},
): Promise<{ status: number; contentType: string | null; frames: SseFrame[] }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 10_000);
  const frames: SseFrame[] = [];
  try {
    const res = await fetch(url, {
      headers: { Accept: 'text/event-stream', ...(options.lastEventId !== undefined ? { 'Last-Event-ID': options.lastEventId } : {}) },
      signal: controller.signal,
    });
    if (res.body === null || res.status !== 200) return { status: res.status, contentType: res.headers.get('content-type'), frames };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let frame: SseFrame = {};
    while (!done(frames)) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (Object.keys(frame).length > 0) frames.push(frame);
          frame = {};
        } else if (line.startsWith(':')) frames.push({ comment: line.slice(1).trim() });
        else {
          const at = line.indexOf(':');
          const field = at < 0 ? line : line.slice(0, at);
          const value = at < 0 ? '' : line.slice(at + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') frame[field] = value;
        }
      }
    }
    await reader.cancel().catch(() => undefined);
    return { status: res.status, contentType: res.headers.get('content-type'), frames };
  } catch (error) {
    if (controller.signal.aborted) throw new Error(`the stream did not deliver in time; got ${JSON.stringify(frames).slice(0, 2000)}`);
    throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
