import { create, type DescMessage, type DescService, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import type { GenService, GenServiceMethods } from '@bufbuild/protobuf/codegenv2';
import * as grpc from '@grpc/grpc-js';
import { clientMetricsInterceptor } from './client-metrics';
import { grpcServiceDefinition } from './descriptors';

export interface CallOptions {
  /** Per-call deadline in ms; overrides the client's default. */
  readonly timeoutMs?: number;
  readonly metadata?: grpc.Metadata;
}

type ClientMethod<M> = M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? (request: MessageInitShape<I>, options?: CallOptions) => Promise<MessageShape<O>>
  : M extends { methodKind: 'client_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? (requests: AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>, options?: CallOptions) => Promise<MessageShape<O>>
    : never;

/** A promise-based client typed from a generated service descriptor. */
export type Client<S> = S extends GenService<infer M extends GenServiceMethods>
  ? { [K in keyof M]: ClientMethod<M[K]> } & { close(): void }
  : never;

export interface ClientOptions {
  /** Default deadline of every call in ms (default 5000). */
  readonly timeoutMs?: number;
  /**
   * Open this client's own connection instead of sharing grpc-js's process-wide one to the same
   * address (as separate client processes would; e.g. a load generator spreading over the workers
   * behind one port).
   */
  readonly ownConnection?: boolean;
}

/** Creates a client of `service` at `address` (host:port, plaintext). Every call carries a deadline. */
export function createClient<S extends GenService<GenServiceMethods>>(service: S, address: string, options: ClientOptions = {}): Client<S> {
  const descriptor = service as unknown as DescService;
  const Constructor = grpc.makeGenericClientConstructor(grpcServiceDefinition(descriptor), descriptor.typeName);
  const channel = new Constructor(address, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    interceptors: [clientMetricsInterceptor],
    ...(options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {}),
  });
  const defaultTimeoutMs = options.timeoutMs ?? 5_000;
  const client: Record<string, unknown> = { close: () => channel.close() };
  for (const method of descriptor.methods) {
    const invoke = (channel as unknown as Record<string, Function>)[method.localName]!.bind(channel);
    const callback = (resolve: (response: unknown) => void, reject: (error: Error) => void) => (error: grpc.ServiceError | null, response: unknown) =>
      error ? reject(error) : resolve(response);
    switch (method.methodKind) {
      case 'unary':
        client[method.localName] = (request: MessageInitShape<DescMessage>, callOptions: CallOptions = {}) =>
          new Promise((resolve, reject) => {
            const deadline = Date.now() + (callOptions.timeoutMs ?? defaultTimeoutMs);
            invoke(create(method.input, request), callOptions.metadata ?? new grpc.Metadata(), { deadline }, callback(resolve, reject));
          });
        break;
      case 'client_streaming':
        // Writes honour the stream's flow control (waits for 'drain'); the deadline covers the whole stream.
        client[method.localName] = (requests: AsyncIterable<MessageInitShape<DescMessage>> | Iterable<MessageInitShape<DescMessage>>, callOptions: CallOptions = {}) =>
          new Promise((resolve, reject) => {
            const deadline = Date.now() + (callOptions.timeoutMs ?? defaultTimeoutMs);
            const call = invoke(callOptions.metadata ?? new grpc.Metadata(), { deadline }, callback(resolve, reject)) as grpc.ClientWritableStream<unknown>;
            void writeAll(call, method.input, requests, reject);
          });
        break;
      case 'server_streaming':
      case 'bidi_streaming':
        break;
      default: {
        const unreachable: never = method.methodKind;
        throw new Error(`unknown method kind ${String(unreachable)}`);
      }
    }
  }
  return client as Client<S>;
}

async function writeAll(
  call: grpc.ClientWritableStream<unknown>,
  schema: DescMessage,
  requests: AsyncIterable<MessageInitShape<DescMessage>> | Iterable<MessageInitShape<DescMessage>>,
  reject: (error: Error) => void,
): Promise<void> {
  let failed = false;
  call.once('error', () => (failed = true));
  try {
    for await (const request of requests) {
      if (failed) return;
      if (!call.write(create(schema, request))) await drained(call);
    }
    call.end();
  } catch (error) {
    // The request source failed: the caller gets its error, the server sees a cancellation.
    reject(error instanceof Error ? error : new Error(String(error)));
    call.cancel();
  }
}

function drained(call: grpc.ClientWritableStream<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('error', done);
      resolve();
    };
    call.on('drain', done);
    call.on('error', done);
  });
}
