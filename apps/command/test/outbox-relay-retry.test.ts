// How the outbox relay spaces out its sessions when they fail. No Postgres or Kafka is needed: a TCP
// server on a free port stands in for Postgres, refusing connections (a session fails at once) or
// taking them and never answering (a session runs without failing).
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '@orrery/telemetry';
import { eventually, freePort } from '@orrery/testing';
import { startOutboxRelay } from '../src/outbox-relay';

// Pauses after a failure: 100 ms (twice the poll interval), doubling up to 1.6 s (32 times it).
const POLL_INTERVAL_MS = 50;
const LONGEST_PAUSE_MS = 32 * POLL_INTERVAL_MS;

interface LoggedFailure {
  readonly failures: number;
  readonly retryInMs: number;
}

it('when a session fails after the relay ran longer than the longest pause, it retries after the first pause again', async () => {
  const port = await freePort();
  const logged: LoggedFailure[] = [];
  const logger = createLogger('outbox-relay-retry-test', 'error', {
    write: (line: string) => {
      const entry = JSON.parse(line) as LoggedFailure & { msg: string };
      if (entry.msg === 'outbox relay: failed; retrying') logged.push({ failures: entry.failures, retryInMs: entry.retryInMs });
    },
  });
  const relay = startOutboxRelay({
    postgresUrl: `postgres://orrery@127.0.0.1:${port}/orrery`,
    kafka: new Kafka({ clientId: 'outbox-relay-retry-test', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }),
    topic: 'never-reached',
    partitions: 1,
    batchSize: 10,
    pollIntervalMs: POLL_INTERVAL_MS,
    lingerMs: 0,
    logger,
  });
  let postgres: Server | undefined;
  try {
    await eventually(async () => logged.length >= 3, { what: 'three failed sessions' });
    expect(logged.slice(0, 3)).toEqual([
      { failures: 1, retryInMs: 100 },
      { failures: 2, retryInMs: 200 },
      { failures: 3, retryInMs: 400 },
    ]);

    const held: Socket[] = [];
    const listening = createServer((socket) => void held.push(socket));
    postgres = listening;
    await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
    await eventually(async () => held.length > 0, { what: 'a session to connect' });
    const failedBefore = logged.length;
    // The quiet spell is time that has to pass, not a condition to poll for.
    await delay(LONGEST_PAUSE_MS + 500);
    listening.close();
    for (const socket of held) socket.destroy();

    await eventually(async () => logged.length > failedBefore, { what: 'the running session to fail' });
    expect(logged[failedBefore]).toEqual({ failures: 1, retryInMs: 100 });
  } finally {
    if (postgres?.listening) postgres.close();
    await relay.stop();
  }
});
