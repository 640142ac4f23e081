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
  : never;

/** A promise-based client typed from a generated service descriptor. */
export type Client<S> = S extends GenService<infer M extends GenServiceMethods>
  ? { [K in keyof M]: ClientMethod<M[K]> } & { close(): void }
  : never;

export interface ClientOptions {
  /** Default deadline of every call in ms (default 5000). */
  readonly timeoutMs?: number;
}

/** Creates a client of `service` at `address` (host:port, plaintext). Every call carries a deadline. */
export function createClient<S extends GenService<GenServiceMethods>>(service: S, address: string, options: ClientOptions = {}): Client<S> {
  const descriptor = service as unknown as DescService;
  const Constructor = grpc.makeGenericClientConstructor(grpcServiceDefinition(descriptor), descriptor.typeName);
  const channel = new Constructor(address, grpc.credentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    interceptors: [clientMetricsInterceptor],
  });
  const defaultTimeoutMs = options.timeoutMs ?? 5_000;
  const client: Record<string, unknown> = { close: () => channel.close() };
  for (const method of descriptor.methods) {
    if (method.methodKind !== 'unary') continue;
    const invoke = (channel as unknown as Record<string, grpc.requestCallback<unknown> & Function>)[method.localName]!.bind(channel);
    client[method.localName] = (request: MessageInitShape<DescMessage>, callOptions: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const deadline = Date.now() + (callOptions.timeoutMs ?? defaultTimeoutMs);
        invoke(create(method.input, request), callOptions.metadata ?? new grpc.Metadata(), { deadline }, (error: grpc.ServiceError | null, response: unknown) =>
          error ? reject(error) : resolve(response),
        );
      });
  }
  return client as Client<S>;
}
