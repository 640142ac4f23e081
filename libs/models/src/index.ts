// @orrery/models: the model registry (Postgres) shared by the trainer, vector and scoring.
export * from './model';
export * from './version-id';
export * from './vector-codec';
export * from './promotion';
export * from './registry';
export * from './watch';
export * from './serving';
export * from './onnx-ranker-session';
export * from './ann-index';
export * from './champion-index';
