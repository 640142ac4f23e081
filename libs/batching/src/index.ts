export { groupCommit, resolveInSlices, type GroupCommitOptions, type QueuedRequest } from './group-commit';
