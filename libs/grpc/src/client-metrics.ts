import * as grpc from '@grpc/grpc-js';
import { rpcClientDuration, secondsSince } from '@orrery/metrics';

/**
 * grpc-js client interceptor timing every call by method and final status
 * (orrery_rpc_client_duration_seconds), whatever the method kind.
 */
export const clientMetricsInterceptor: grpc.Interceptor = (options, nextCall) => {
  const method = options.method_definition.path.replace(/^\//, '');
  const started = process.hrtime.bigint();
  return new grpc.InterceptingCall(nextCall(options), {
    start: (metadata, _listener, next) => {
      next(
        metadata,
        new grpc.ListenerBuilder()
          .withOnReceiveStatus((callStatus: grpc.StatusObject, nextStatus: (status: grpc.StatusObject) => void) => {
            rpcClientDuration.observe({ transport: 'grpc', method, code: grpc.status[callStatus.code] }, secondsSince(started));
            nextStatus(callStatus);
          })
          .build(),
      );
    },
  });
};
