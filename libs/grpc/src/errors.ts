import { status, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';

/** An error that carries the gRPC status code it should be answered with. */
export class ServiceError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** INVALID_ARGUMENT naming the offending field, e.g. `invalidArgument('event.user_id', 'must not be empty')`. */
export function invalidArgument(field: string, problem: string): ServiceError {
  return new ServiceError(status.INVALID_ARGUMENT, `${field}: ${problem}`);
}

/** Normalises anything thrown into a ServiceError; unknown errors become INTERNAL. */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (isGrpcError(error)) return new ServiceError(error.code, error.details || error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new ServiceError(status.INTERNAL, message);
}

/** True for errors raised by a grpc-js client call. */
export function isGrpcError(error: unknown): error is GrpcServiceError {
  return error instanceof Error && typeof (error as Partial<GrpcServiceError>).code === 'number' && 'details' in error;
}

export { status };
