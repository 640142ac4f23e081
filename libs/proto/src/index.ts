// Generated contracts of Orrery (proto/orrery/v1), re-exported from one place.
export * from './gen/orrery/v1/catalog_pb';
export * from './gen/orrery/v1/command_pb';
export * from './gen/orrery/v1/events_pb';
export * from './gen/orrery/v1/ingest_pb';
export * from './gen/orrery/v1/query_pb';
export * from './gen/orrery/v1/recommend_pb';
export * from './gen/orrery/v1/scoring_pb';
export * from './gen/orrery/v1/vector_pb';

// The ONNX model format (vendored proto/onnx/onnx.proto), namespaced so its names (TensorProto,
// Version, …) never collide with Orrery's own messages.
export * as onnx from './gen/onnx/onnx_pb';
export * as health from './gen/grpc/health/v1/health_pb';
