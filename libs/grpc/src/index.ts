export { createClient, type CallOptions, type Client, type ClientOptions } from './client';
export { monitorDependencies, type DependencyCheck, type DependencyMonitor, type DependencyMonitorOptions, type HealthLogger } from './dependency-health';
export { grpcServiceDefinition, methodPath } from './descriptors';
export { characterCount, idProblem } from './ids';
export { InFlightBudget, type RefusalMessage } from './in-flight-budget';
export { invalidArgument, isGrpcError, ServiceError, status, toServiceError } from './errors';
export { bindService, startGrpcServer, type CallContext, type GrpcServerOptions, type RunningGrpcServer, type ServiceBinding, type ServiceImplementation } from './server';
