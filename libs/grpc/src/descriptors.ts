import { fromBinary, toBinary, type DescFile, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** The grpc-js path of a method: `/orrery.v1.IngestService/Track`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Builds the grpc-js service definition of a protobuf-es service descriptor (binary codec). A request
 * that cannot be decoded throws (grpc-js answers INTERNAL), unless `passUndecodableRequests`: then it
 * is handed on as an UndecodableMessage, for a server that answers it itself (server.ts does).
 */
export function grpcServiceDefinition(service: DescService, options: { readonly passUndecodableRequests?: boolean } = {}): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: methodPath(method),
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: options.passUndecodableRequests ? passingDeserializer(method.input) : deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.name,
    };
  }
  return definition as ServiceDefinition;
}

function serializer(schema: DescMessage): (message: unknown) => Buffer {
  return (message) => Buffer.from(toBinary(schema, message as never));
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => fromBinary(schema, bytes);
}

/**
 * A request message that is not valid protobuf of its type (truncated, a string that is not UTF-8…).
 * Our servers' deserializer hands it on instead of throwing, because grpc-js would answer a throw
 * with INTERNAL "Error deserializing request" and report nothing; server.ts answers it with
 * INVALID_ARGUMENT naming the message and the problem, and no handler sees it.
 */
export class UndecodableMessage {
  constructor(
    readonly typeName: string,
    readonly problem: string,
  ) {}
}

function passingDeserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return fromBinary(schema, bytes);
    } catch (error) {
      return new UndecodableMessage(schema.typeName, error instanceof Error ? error.message : String(error));
    }
  };
}

/** Every file the given services are declared in, with their transitive imports, as serialized FileDescriptorProtos. */
export function fileDescriptorProtos(services: DescService[]): Buffer[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile): void => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  services.forEach((service) => visit(service.file));
  return [...seen.values()].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file.proto)),
  );
}

