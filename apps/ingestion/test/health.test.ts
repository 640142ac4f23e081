// grpc.health.v1 of ingestion follows command (a stand-in command endpoint is started under it),
// and shutting down answers the calls in flight before stopping.
import { create, toBinary } from '@bufbuild/protobuf';
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { readConfig, type OrreryConfig } from '@orrery/config';
import { createClient, type Client } from '@orrery/grpc';
import { CommandReplySchema, EventType, IngestService } from '@orrery/proto';
import { eventually, healthStatus, uniqueName } from '@orrery/testing';
import { serveZmqRequests, type RunningZmqServer } from '@orrery/zmq';
import { startIngestion, type RunningIngestion } from '../src/service';

const logger = pino({ level: 'silent' });

describe('ingestion health and shutdown', () => {
  const commandEndpoint = `ipc:///tmp/${uniqueName('health-command')}`;
  const ingestEndpoint = `ipc:///tmp/${uniqueName('health-ingest')}`;
  let config: OrreryConfig;
  let ingestion: RunningIngestion | undefined;
  let command: RunningZmqServer | undefined;
  let ingest: Client<typeof IngestService>;

  beforeAll(() => {
    config = { ...readConfig(), ingestAddress: '127.0.0.1:0', ingestZmqEndpoint: ingestEndpoint, commandZmqEndpoint: commandEndpoint, healthCheckIntervalMs: 100, tracingEnabled: false };
  });

  afterAll(async () => {
    ingest?.close();
    await ingestion?.close().catch(() => undefined);
    await command?.close();
    for (const endpoint of [commandEndpoint, ingestEndpoint]) rmSync(endpoint.slice('ipc://'.length), { force: true });
  });

  it('when command does not answer ingestion reports NOT_SERVING, SERVING once it answers, and on shutdown it acks the event in flight before stopping', async () => {
    ingestion = await startIngestion(config, logger);
    const address = `127.0.0.1:${ingestion.port}`;
    await eventually(() => healthStatus(address), { accept: (status) => status === 'NOT_SERVING', what: 'NOT_SERVING without command' });

    // A command stand-in that takes its time to "commit".
    let received = 0;
    let committed = 0;
    command = await serveZmqRequests({
      endpoint: commandEndpoint,
      name: 'command',
      logger,
      handler: async () => {
        received += 1;
        await new Promise((resolve) => setTimeout(resolve, 400));
        committed += 1;
        return toBinary(CommandReplySchema, create(CommandReplySchema, { duplicates: [false], applied: 1 }));
      },
    });
    await eventually(() => healthStatus(address), { accept: (status) => status === 'SERVING', what: 'SERVING once command answers' });

    ingest = createClient(IngestService, address, { timeoutMs: 5_000 });
    const inFlight = ingest.track({ event: { userId: 'u-drain', itemId: 'i-1', type: EventType.CLICK } });
    await eventually(async () => received > 0, { what: 'the Track to reach command' });
    const closing = ingestion.close();
    expect(await healthStatus(address)).not.toBe('SERVING');
    await expect(inFlight).resolves.toMatchObject({ duplicate: false });
    await closing;
    ingestion = undefined;
    expect(committed).toBe(1);
    expect(await healthStatus(address)).toBe('UNREACHABLE');
  });
});
