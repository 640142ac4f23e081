import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { context } from '@opentelemetry/api';
import { HealthImplementation } from 'grpc-health-check';
import { rpcServerDuration, rpcServerRequests, secondsSince } from '@orrery/metrics';
import { health as healthContract } from '@orrery/proto';
import { fileDescriptorProtos, grpcServiceDefinition, UndecodableMessage } from './descriptors';
import { ServiceError, toServiceError } from './errors';
import { startServerSpan } from './server-span';

/** What a handler learns about the call besides the request. */
export interface CallContext {
  readonly metadata: grpc.Metadata;
  /** Absolute deadline in epoch ms, or Infinity when the caller set none. */
  readonly deadline: number;
  readonly peer: string;
}

type Handler<M> = M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageShape<I>, context: CallContext) => Promise<MessageInitShape<O>>
  : M extends { methodKind: 'client_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (requests: AsyncIterable<MessageShape<I>>, context: CallContext) => Promise<MessageInitShape<O>>
    : never;

/** A server implementation typed from a generated service descriptor: one async function per method. */
export type ServiceImplementation<S> = S extends GenService<infer M extends GenServiceMethods> ? { [K in keyof M]: Handler<M[K]> } : never;

/** A service descriptor with its implementation. */
export interface ServiceBinding {
  readonly service: DescService;
  readonly implementation: object;
}

/** Pairs a service with its typed implementation (the type check happens here). */
export function bindService<S extends GenService<GenServiceMethods>>(service: S, implementation: ServiceImplementation<S>): ServiceBinding {
  return { service: service as unknown as DescService, implementation };
}

export interface GrpcServerOptions {
  /** host:port to listen on; port 0 picks a free one. */
  readonly address: string;
  readonly services: readonly ServiceBinding[];
  /** Called with every error answered as INTERNAL/UNKNOWN (bugs and outages, not bad input). */
  readonly onInternalError?: (error: ServiceError, path: string) => void;
  /** Largest request message accepted, in bytes (default 16 MiB); grpc-js answers RESOURCE_EXHAUSTED above it. */
  readonly maxReceiveMessageBytes?: number;
  /**
   * Whether grpc.health.v1 reports SERVING as soon as the port is bound (default true). False: NOT_SERVING
   * until setServing(true), e.g. while the service warms up; calls are answered either way.
   */
  readonly servingOnceBound?: boolean;
}

export interface RunningGrpcServer {
  readonly port: number;
  readonly health: HealthImplementation;
  /** Marks every service SERVING or NOT_SERVING in grpc.health.v1 (once shutdown began, it stays NOT_SERVING). */
  setServing(serving: boolean): void;
  /** Reports NOT_SERVING, lets in-flight calls finish (up to graceMs), then stops. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Starts a grpc-js server with the given services plus grpc.health.v1 and server reflection. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 16 * 1024 * 1024 });
  for (const binding of options.services) {
    server.addService(grpcServiceDefinition(binding.service, { passUndecodableRequests: true }), grpcHandlers(binding, options.onInternalError));
  }
  const serviceNames = options.services.map((binding) => binding.service.typeName);
  const health = new HealthImplementation(Object.fromEntries(['', ...serviceNames].map((name) => [name, 'NOT_SERVING' as const])));
  health.addToServer(server);
  // Reflection reads serialized FileDescriptorProtos; ours and grpc.health.v1 come from protobuf-es.
  const reflectionPackage = {
    described: { fileDescriptorProtos: fileDescriptorProtos([...options.services.map((binding) => binding.service), healthContract.Health]) },
  };
  new ReflectionService(reflectionPackage as never).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, grpc.ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort))),
  );
  let shuttingDown = false;
  const setServing = (serving: boolean): void => {
    const status = serving && !shuttingDown ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...serviceNames]) health.setStatus(name, status);
  };
  setServing(options.servingOnceBound ?? true);
  return {
    port,
    health,
    setServing,
    shutdown: async (graceMs = 5_000) => {
      shuttingDown = true;
      setServing(false);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

function grpcHandlers(binding: ServiceBinding, onInternalError: GrpcServerOptions['onInternalError']): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  const implementation = binding.implementation as Record<string, (input: unknown, context: CallContext) => Promise<unknown>>;
  for (const method of binding.service.methods) {
    const handle = implementation[method.localName];
    if (!handle) throw new Error(`${binding.service.typeName} has no implementation of ${method.name}`);
    const path = `/${binding.service.typeName}/${method.name}`;
    const metricMethod = path.slice(1);
    // Every call is counted by status and timed (orrery_rpc_server_*), and traced in a SERVER span
    // continuing the caller's trace context: the handler and what follows it (the answer, the
    // internal-error report, whose log then names the trace) run in it.
    const answer = (metadata: grpc.Metadata, run: () => Promise<unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      const started = process.hrtime.bigint();
      const span = startServerSpan(binding.service.typeName, method.name, metadata);
      const done = (code: grpc.status, message: string): void => {
        rpcServerRequests.inc({ transport: 'grpc', method: metricMethod, code: grpc.status[code] });
        rpcServerDuration.observe({ transport: 'grpc', method: metricMethod }, secondsSince(started));
        span.end(code, message);
      };
      const answered = async (): Promise<void> => {
        let response: MessageShape<DescMessage>;
        try {
          // A handler that throws, rejects or returns what is not its output message is answered with a status.
          response = create(method.output, (await run()) as MessageInitShape<DescMessage>);
        } catch (error) {
          const serviceError = toServiceError(error);
          if (serviceError.code === grpc.status.INTERNAL || serviceError.code === grpc.status.UNKNOWN) onInternalError?.(serviceError, path);
          callback({ code: serviceError.code, details: serviceError.message });
          done(serviceError.code, serviceError.message);
          return;
        }
        callback(null, response);
        done(grpc.status.OK, '');
      };
      void context.with(span.context, answered);
    };
    switch (method.methodKind) {
      case 'unary':
        handlers[method.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
          answer(call.metadata, () => handle.call(implementation, decoded(call.request, 'request'), callContext(call)), callback);
        break;
      case 'client_streaming':
        handlers[method.localName] = (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
          answer(call.metadata, () => handle.call(implementation, decodedStream(call), callContext(call)), callback);
        break;
      case 'server_streaming':
      case 'bidi_streaming':
        throw new Error(`${path}: ${method.methodKind} methods are not supported`);
      default: {
        const unreachable: never = method.methodKind;
        throw new Error(`unknown method kind ${String(unreachable)}`);
      }
    }
  }
  return handlers;
}

/** The request, or INVALID_ARGUMENT when it could not be decoded (`what` names it in the message). */
function decoded(message: unknown, what: string): unknown {
  if (message instanceof UndecodableMessage) throw new ServiceError(grpc.status.INVALID_ARGUMENT, `${what}: not a valid ${message.typeName} message (${message.problem})`);
  return message;
}

/**
 * A client stream's requests; reading one that could not be decoded fails with INVALID_ARGUMENT naming
 * its place in the stream. (A stream the client cancels ends here as if it were complete: grpc-js
 * reports the end before the cancellation, so a handler may commit what came, as for any failure the
 * client sees mid-stream.)
 */
async function* decodedStream(call: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  let index = 0;
  for await (const message of call) {
    yield decoded(message, `stream message ${index}`);
    index += 1;
  }
}

function callContext(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown>): CallContext {
  const deadline = call.getDeadline();
  return {
    metadata: call.metadata,
    deadline: deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : Infinity,
    peer: call.getPeer(),
  };
}
