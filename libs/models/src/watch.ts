// Keeps a service on the current champion: LISTEN for promotions (fast path) plus a slow poll
// (covers missed notifications, dropped connections and promotions made while disconnected).

import type { Pool, PoolClient } from 'pg';
import type { Logger } from '@orrery/telemetry';
import type { ModelVersion } from './model';
import { championVersion, loadModelVersion, MODEL_PROMOTED_CHANNEL } from './registry';

export interface WatchChampionOptions {
  /** Fallback poll interval in ms; default 30 000. */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

export interface ChampionWatch {
  /** Version last handed to onChange successfully, or undefined. */
  current(): string | undefined;
  /** Re-checks the registry now (also what LISTEN and the poll do); resolves when handled. */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Calls `onChange(model)` with the champion now (if there is one) and again whenever another version
 * becomes champion, never concurrently; a failed onChange is logged and retried at the next check.
 * Resolves once the initial champion was handled; throws when the registry cannot be read at start.
 */
export async function watchChampion(
  pool: Pool,
  onChange: (model: ModelVersion) => Promise<void> | void,
  options: WatchChampionOptions = {},
): Promise<ChampionWatch> {
  const logger = options.logger;
  let current: string | undefined;
  let closed = false;
  let listener: PoolClient | undefined;
  let chain: Promise<void> = Promise.resolve();

  const check = async (): Promise<void> => {
    const version = await championVersion(pool);
    if (version === undefined || version === current || closed) return;
    const model = await loadModelVersion(pool, version);
    // Promoted and retired again in between: the next check finds the newer champion.
    if (!model || model.status !== 'champion') return;
    try {
      await onChange(model);
    } catch (error) {
      // A model the service cannot apply must not stop it serving the previous one (or none).
      logger?.error({ err: error, modelVersion: version }, 'could not apply the champion model; retrying at the next check');
      return;
    }
    current = version;
    logger?.info({ modelVersion: version }, 'champion model loaded');
  };
  // Serialises checks so onChange never runs twice at once and versions are applied in order.
  const refresh = (): Promise<void> => {
    const next = chain.then(check);
    chain = next.catch((error: unknown) => logger?.error({ err: error }, 'could not load the champion model'));
    return next;
  };

  const listen = async (): Promise<void> => {
    if (listener || closed) return;
    const client = await pool.connect();
    const dropped = (error?: Error): void => {
      if (listener !== client) return;
      listener = undefined;
      client.removeAllListeners('notification');
      client.release(error ?? true);
      if (!closed) logger?.warn({ err: error }, 'model promotion listener lost; polling until it reconnects');
    };
    client.on('error', dropped);
    client.on('notification', (message) => {
      if (message.channel !== MODEL_PROMOTED_CHANNEL) return;
      logger?.info({ modelVersion: message.payload }, 'model promotion notified');
      void refresh().catch(() => undefined);
    });
    listener = client;
    try {
      await client.query(`LISTEN ${MODEL_PROMOTED_CHANNEL}`);
    } catch (error) {
      dropped(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  };

  await listen();
  await refresh();

  const timer = setInterval(() => {
    const reconnect = listener ? Promise.resolve() : listen().then(() => logger?.info('model promotion listener reconnected'));
    reconnect
      .catch((error: unknown) => logger?.warn({ err: error }, 'model promotion listener could not reconnect'))
      .then(refresh)
      .catch(() => undefined);
  }, options.pollIntervalMs ?? 30_000);
  timer.unref();

  return {
    current: () => current,
    refresh,
    close: async () => {
      closed = true;
      clearInterval(timer);
      await chain;
      const client = listener;
      listener = undefined;
      if (client) {
        client.removeAllListeners('notification');
        await client.query(`UNLISTEN ${MODEL_PROMOTED_CHANNEL}`).catch(() => undefined);
        client.release();
      }
    },
  };
}
