/** `ptrack serve`: the daemon (see src/serve), started from the shell and stopped by SIGINT / SIGTERM. */
import type { Command } from 'commander';
import { CorruptionError, ValidationError } from '../../errors/index.js';
import { lazyLogger } from '../../log.js';
import { quote } from '../../_internals/zodIssues.js';
import { numberFlag } from '../args.js';
import { configFor, globalsOf } from '../context.js';
import type { Io } from '../io.js';
import { stateDirOf } from './projections.js';
import { loadAdapter } from './reconcile.js';

/** Registers `ptrack serve`. */
export function registerServeCommand(program: Command, io: Io): void {
  program
    .command('serve')
    .description(
      'run the daemon: projection workers, reconciliation scheduler (with --adapter), archiving, heartbeats, HTTP API and dashboard',
    )
    .option('--adapter <module>', 'reconcile through this adapter (alpaca[:live] or a JS module), every reconcile.everySeconds')
    .option('--port <port>', 'TCP port (default serve.port, 8080; 0 = any free port)')
    .option('--host <host>', 'address to bind (default serve.host, 127.0.0.1; beyond loopback only with an API token)')
    .action(async (_opts: unknown, command: Command) => {
      const globals = globalsOf(command);
      const flags = command.opts<{ adapter?: string; port?: string; host?: string }>();
      const port = numberFlag('--port', flags.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
        throw new ValidationError(`--port: expected a whole number from 0 to 65535, got ${quote(flags.port)}`);
      const { config } = configFor(globals);
      const envToken = process.env.PTRACK_API_TOKEN;
      if (envToken !== undefined && envToken.length < 16)
        throw new ValidationError('PTRACK_API_TOKEN: expected at least 16 characters (the value is not shown)');
      const logger = lazyLogger({ level: process.env.LOG_LEVEL ?? config.logLevel ?? 'warn', name: 'serve' });
      const external = flags.adapter === undefined ? undefined : await loadAdapter(flags.adapter, config);
      // Loaded here, not at start: the daemon's modules (prom-client among them) cost every other command its start.
      const { startServer } = await import('../../serve/index.js');
      const server = await startServer({
        config,
        stateDir: stateDirOf(config),
        logger,
        ...(external ? { external, adapterName: flags.adapter } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(flags.host !== undefined ? { host: flags.host } : {}),
        ...(envToken !== undefined ? { apiToken: envToken } : {}),
      });
      io.out(`ptrack serve: listening on ${server.url} (book ${config.book}; SIGINT or SIGTERM stops)`);
      await new Promise<void>((resolve) => {
        const onSignal = (): void => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      await server.stop();
      const guard = server.guard();
      if (!guard.ok) throw new CorruptionError(guard.message);
      io.out('ptrack serve: stopped');
    });
}
