import type { Logger } from 'pino';

/**
 * On the first SIGTERM or SIGINT, logs `stopping`, runs `close` (drain in-flight work, stop
 * servers, flush telemetry) and exits 0, or 1 when closing failed. Later signals are ignored
 * so a second Ctrl-C cannot cut a drain short.
 */
export function stopOnSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
