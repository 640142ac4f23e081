// A consumer that never dies quietly. kafkajs restarts a crashed consumer only when the error was
// retriable; an error thrown from the handler that is not (a bug, a stack overflow, a poison message)
// disconnects it for good while the process stays up, serving nothing. This starts a new one instead,
// after a growing pause, and says so each time.
import type { Consumer } from 'kafkajs';
import { retryAfterFailure, type BackoffPolicy, type RetryAfterFailure } from '@orrery/config';

/** A running consumer kept alive by keepConsumerRunning. */
export interface RestartingConsumer {
  /** Stops restarting and disconnects the current consumer. */
  close(): Promise<void>;
  /**
   * Disconnects the current consumer and starts a new one after the pause, as after a crash (onCrash
   * is told): for a failure the handler saw after it returned. Calls while a replacement is pending do nothing.
   */
  replace(error: Error): void;
}

export interface RestartOptions {
  /** Pause before the first restart; doubled after each crash up to maxBackoffMs. Default 1 s. */
  readonly initialBackoffMs?: number;
  /** The longest pause, and how long a restarted consumer must run without a crash for the pause to start over. Default 60 s. */
  readonly maxBackoffMs?: number;
  /** Told of each crash kafkajs will not restart from, before the pause (log it, count it). */
  readonly onCrash: (error: Error, restartInMs: number) => void;
  /** Told when starting a replacement fails (it is tried again after the next pause). */
  readonly onStartFailed?: (error: unknown) => void;
}

/**
 * Starts a consumer with `start` (connected, subscribed and running when it resolves) and, whenever
 * kafkajs gives up on it (a CRASH event with restart=false), starts another one. The pause doubles
 * after each crash (so a message that always fails is retried at most once a minute, not in a spin)
 * and starts again from initialBackoffMs when the consumer ran more than maxBackoffMs after the pause
 * without crashing (retryAfterFailure).
 * `replace` does the same for a failure the handler saw after it returned. A consumer that has been
 * replaced is not restarted again, and one kafkajs restarts by itself is disconnected; close() waits for
 * a replacement being started and disconnects it.
 */
export async function keepConsumerRunning(start: () => Promise<Consumer>, options: RestartOptions): Promise<RestartingConsumer> {
  const backoff: BackoffPolicy = { initialMs: options.initialBackoffMs ?? 1_000, maxMs: options.maxBackoffMs ?? 60_000 };
  // The pause after the last crash or failed start (none yet: undefined).
  let retry: RetryAfterFailure | undefined;
  let closed = false;
  let replacing = false;
  let timer: NodeJS.Timeout | undefined;
  // A replacement being started, which close() waits for (and then disconnects).
  let launching: Promise<unknown> | undefined;
  // Set once the first consumer runs (crash handlers compare against it; none fires before).
  let current: Consumer | undefined;

  /** Tells onCrash and starts a replacement after the pause, unless one is pending; `stop` ends the current consumer first. */
  const replaceAfter = (error: Error, stop: () => Promise<void>): void => {
    if (closed || replacing) return;
    replacing = true;
    retry = retryAfterFailure(retry, Date.now(), backoff);
    const { pauseMs } = retry;
    options.onCrash(error, pauseMs);
    void stop()
      .catch(() => undefined)
      .then(() => scheduleReplacement(pauseMs));
  };

  const launch = async (): Promise<Consumer> => {
    const consumer = await start();
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // A consumer already replaced stays down: kafkajs restarting it by itself would bring back a
      // second member whose handler refuses its work.
      if (current !== undefined && consumer !== current) {
        if (payload.restart) void consumer.disconnect().catch(() => undefined);
        return;
      }
      if (payload.restart) return;
      replaceAfter(payload.error, () => Promise.resolve());
    });
    return consumer;
  };

  const scheduleReplacement = (pauseMs: number): void => {
    if (closed) return;
    timer = setTimeout(() => {
      if (closed) return;
      const started = launch().then(
        async (replacement) => {
          if (closed) {
            await replacement.disconnect();
            return;
          }
          current = replacement;
          replacing = false;
        },
        (error: unknown) => {
          options.onStartFailed?.(error);
          retry = retryAfterFailure(retry, Date.now(), backoff);
          scheduleReplacement(retry.pauseMs);
        },
      );
      launching = started;
      void started.finally(() => {
        if (launching === started) launching = undefined;
      });
    }, pauseMs);
  };

  current = await launch();
  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await launching;
      await current?.disconnect();
    },
    replace: (error) => {
      const stale = current;
      replaceAfter(error, () => stale?.disconnect() ?? Promise.resolve());
    },
  };
}
