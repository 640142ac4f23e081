// @orrery/ml: pure learning code shared by the trainer, the scoring service and evaluation.
export * from './interactions';
export * from './random';
export * from './synthetic-dataset';
export * from './leave-last-out';
export * from './implicit-als';
export * from './fold-in';
export * from './metrics';
export * from './baselines';
export * from './embedding-recommender';
export * from './ranking-features';
export * from './ranker';
export * from './onnx-ranker';
export * from './feature-bytes';
