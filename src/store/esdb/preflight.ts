import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { StoreUnavailableError } from '../../errors/index.js';
import type { EsdbConnection, EsdbEndpoint } from './connectionString.js';
import { clampTimerMs } from '../../_internals/timers.js';

/** Opens one connection (TLS when asked: the handshake must finish) and closes it, within `timeoutMs`. */
function reach(endpoint: EsdbEndpoint, tls: boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    const done = (error?: Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs / 1000} s`)), clampTimerMs(timeoutMs));
    if (tls) {
      // Only "does it speak TLS in time": the client verifies the certificate itself.
      socket = tlsConnect({
        host: endpoint.host,
        port: endpoint.port,
        rejectUnauthorized: false,
        ALPNProtocols: ['h2'],
        ...(isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
      });
      socket.once('secureConnect', () => done());
    } else {
      socket = netConnect({ host: endpoint.host, port: endpoint.port });
      socket.once('connect', () => done());
    }
    socket.once('error', (error: Error) => done(error));
  });
}

/**
 * Reaches at least one of the connection's nodes (or its DNS name) before the client is loaded,
 * within `timeoutMs`: a refused, unresolvable or silent address is a StoreUnavailableError (exit code 5) at
 * once. It also spares the process a gRPC TLS handshake to a silent server, which the client never
 * abandons and which would keep the process alive after the error.
 */
export async function preflight(connection: EsdbConnection, timeoutMs: number): Promise<void> {
  const failures: string[] = [];
  try {
    await Promise.any(
      connection.hosts.map((h) =>
        reach(h, connection.tls, timeoutMs).catch((error: unknown) => {
          failures.push(`${h.host}:${h.port}: ${error instanceof Error ? error.message : String(error)}`);
          throw error;
        }),
      ),
    );
  } catch {
    const tlsHint = connection.tls ? '; a development node without TLS needs ?tls=false' : '';
    throw new StoreUnavailableError(
      `cannot reach EventStoreDB at ${connection.display} (connect): ${failures.join('; ')} (is the server running? docker compose up -d starts one${tlsHint})`,
    );
  }
}
