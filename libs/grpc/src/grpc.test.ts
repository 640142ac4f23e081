import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Client as RawClient, credentials, loadPackageDefinition, type Client as GrpcClient, type ClientDuplexStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { EventType, IngestService, type TrackRequest } from '@orrery/proto';
import { bindService, createClient, invalidArgument, startGrpcServer, status, type RunningGrpcServer } from './index';

describe('grpc-js bridge over protobuf-es descriptors', () => {
  let server: RunningGrpcServer;
  const received: TrackRequest[] = [];
  const internalErrors: string[] = [];

  beforeAll(async () => {
    server = await startGrpcServer({
      address: '127.0.0.1:0',
      onInternalError: (error) => internalErrors.push(error.message),
      services: [
        bindService(IngestService, {
          track: async (request) => {
            if (!request.event?.userId) throw invalidArgument('event.user_id', 'must not be empty');
            if (request.event.userId === 'boom') throw new Error('database on fire');
            received.push(request);
            return { eventId: request.event.eventId || 'generated', duplicate: false };
          },
          trackBatch: async (request) => ({ accepted: request.events.length, rejected: [{ index: 0, reason: 'just because' }] }),
          trackStream: async (requests) => {
            let accepted = 0;
            for await (const request of requests) {
              if (request.event?.userId === 'stop') throw invalidArgument(`events[${accepted}].user_id`, 'stop here');
              accepted += 1;
            }
            return { accepted, rejected: [] };
          },
        }),
      ],
    });
  });
  afterAll(() => server.shutdown(1_000));

  const client = () => createClient(IngestService, `127.0.0.1:${server.port}`, { timeoutMs: 2_000 });

  it('when a typed client calls a typed handler, messages arrive decoded with their fields', async () => {
    const ingest = client();
    const reply = await ingest.track({ event: { eventId: 'e-1', userId: 'u-1', itemId: 'i-1', type: EventType.CLICK, value: 2.5, context: { page: 'home' } } });
    expect(reply).toMatchObject({ eventId: 'e-1', duplicate: false });
    expect(received.at(-1)?.event).toMatchObject({ userId: 'u-1', itemId: 'i-1', type: EventType.CLICK, value: 2.5, context: { page: 'home' } });
    expect(await ingest.trackBatch({ events: [{ userId: 'a' }, { userId: 'b' }] })).toMatchObject({ accepted: 2, rejected: [{ index: 0, reason: 'just because' }] });
    ingest.close();
  });

  it('when a handler throws a ServiceError, the caller gets its code and message', async () => {
    const ingest = client();
    await expect(ingest.track({ event: { userId: '' } })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'event.user_id: must not be empty' });
    ingest.close();
  });

  it('when a handler fails unexpectedly, the caller gets INTERNAL and the error is reported', async () => {
    const ingest = client();
    await expect(ingest.track({ event: { userId: 'boom' } })).rejects.toMatchObject({ code: status.INTERNAL });
    expect(internalErrors).toContain('database on fire');
    ingest.close();
  });

  it('when a client streams messages, the handler reads them all and the caller gets its one reply', async () => {
    const ingest = client();
    async function* events() {
      for (let i = 0; i < 500; i += 1) yield { event: { userId: `u-${i}`, itemId: 'i', type: EventType.VIEW } };
    }
    expect(await ingest.trackStream(events())).toMatchObject({ accepted: 500 });
    expect(await ingest.trackStream([])).toMatchObject({ accepted: 0 });
    await expect(ingest.trackStream([{ event: { userId: 'a' } }, { event: { userId: 'stop' } }])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'events[1].user_id: stop here' });
    ingest.close();
  });

  it('when the request source of a stream fails, the caller gets that error', async () => {
    const ingest = client();
    async function* failing() {
      yield { event: { userId: 'a' } };
      throw new Error('source broke');
    }
    await expect(ingest.trackStream(failing())).rejects.toThrow('source broke');
    ingest.close();
  });

  it('when a request is not valid protobuf, the caller gets INVALID_ARGUMENT naming the message type, and no handler runs', async () => {
    const raw = new RawClient(`127.0.0.1:${server.port}`, credentials.createInsecure());
    const asIs = (bytes: Buffer): Buffer => bytes;
    const track = (bytes: Buffer) =>
      new Promise((resolve, reject) => raw.makeUnaryRequest('/orrery.v1.IngestService/Track', asIs, asIs, bytes, (error, reply) => (error ? reject(error) : resolve(reply))));
    const [receivedBefore, internalErrorsBefore] = [received.length, internalErrors.length];
    // event (field 1) claims 5 bytes and has 1; then an event whose event_id (field 1) is not UTF-8.
    for (const bytes of [Buffer.from([0x0a, 0x05, 0x01]), Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe])]) {
      await expect(track(bytes)).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^request: not a valid orrery\.v1\.TrackRequest message \(.+\)$/) });
    }
    expect(received).toHaveLength(receivedBefore);
    expect(internalErrors).toHaveLength(internalErrorsBefore);

    const stream = await new Promise<unknown>((resolve, reject) => {
      const call = raw.makeClientStreamRequest('/orrery.v1.IngestService/TrackStream', asIs, asIs, (error, reply) => (error ? reject(error) : resolve(reply)));
      call.write(Buffer.from([0x0a, 0x03, 0x12, 0x01, 0x61]));
      call.write(Buffer.from([0x0a, 0x05, 0x01]));
      call.end();
    }).catch((error: unknown) => error);
    expect(stream).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(/^stream message 1: not a valid orrery\.v1\.TrackRequest message/) });
    raw.close();
  });

  it('when the server is unreachable, the call fails with a status instead of hanging', async () => {
    const nowhere = createClient(IngestService, '127.0.0.1:1', { timeoutMs: 200 });
    await expect(nowhere.track({ event: { userId: 'u' } })).rejects.toMatchObject({ code: expect.any(Number) });
    nowhere.close();
  });

  it('when asked for health, the server answers SERVING, and NOT_SERVING once marked so', async () => {
    const health = standardClient<HealthClient>(healthProtoPath, 'grpc.health.v1.Health', server.port);
    const check = (service: string) =>
      new Promise<string>((resolve, reject) => health.Check({ service }, (error, reply) => (error ? reject(error) : resolve(reply.status))));
    expect(await check('orrery.v1.IngestService')).toBe('SERVING');
    server.setServing(false);
    expect(await check('')).toBe('NOT_SERVING');
    server.setServing(true);
    expect(await check('')).toBe('SERVING');
    health.close();
  });

  it('when asked by server reflection (as grpcurl does), the server lists its services and describes them', async () => {
    const reflection = standardClient<ReflectionClient>(require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), 'grpc.reflection.v1.ServerReflection', server.port);
    const ask = (request: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = reflection.ServerReflectionInfo();
        call.on('data', (reply: Record<string, unknown>) => {
          resolve(reply);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });
    const listed = (await ask({ listServices: '' })) as { listServicesResponse: { service: { name: string }[] } };
    expect(listed.listServicesResponse.service.map((service) => service.name)).toEqual(expect.arrayContaining(['orrery.v1.IngestService', 'grpc.health.v1.Health']));
    const described = (await ask({ fileContainingSymbol: 'orrery.v1.IngestService' })) as { fileDescriptorResponse: { fileDescriptorProto: Buffer[] } };
    expect(described.fileDescriptorResponse.fileDescriptorProto.length).toBeGreaterThan(0);
    const healthFile = (await ask({ fileContainingSymbol: 'grpc.health.v1.Health' })) as { fileDescriptorResponse: { fileDescriptorProto: Buffer[] } };
    const decoded = healthFile.fileDescriptorResponse.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    expect(decoded.map((file) => file.name)).toContain('grpc/health/v1/health.proto');
    reflection.close();
  });
});

interface HealthClient extends GrpcClient {
  Check(request: { service: string }, callback: (error: Error | null, reply: { status: string }) => void): void;
}

interface ReflectionClient extends GrpcClient {
  ServerReflectionInfo(): ClientDuplexStream<object, Record<string, unknown>>;
}

/** A dynamic grpc-js client of a standard service (health, reflection) loaded from its .proto file. */
function standardClient<T extends GrpcClient>(protoFile: string, serviceName: string, port: number): T {
  const definition = loadPackageDefinition(loadSync(protoFile, { keepCase: false, enums: String }));
  const Constructor = serviceName.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], definition) as ServiceClientConstructor;
  return new Constructor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as T;
}
