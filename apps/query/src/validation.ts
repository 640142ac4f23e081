// Request validation of QueryService: bad input is INVALID_ARGUMENT naming the field.
import { idProblem, invalidArgument } from '@orrery/grpc';

/** Longest id (user, item, category) a request may carry. */
export const MAX_ID_LENGTH = 256;
/** Largest count a request may ask for, and most ids one request may name. */
export const MAX_COUNT = 1_000;

/** A required id: non-empty, not blank, at most MAX_ID_LENGTH characters (code points), no control characters: ingestion's rule. */
export function requireId(field: string, value: string): string {
  const problem = idProblem(value, MAX_ID_LENGTH);
  if (problem) throw invalidArgument(field, problem);
  return value;
}

/** A list of at most MAX_COUNT ids, each required (the error names its index: `item_ids[2]`). */
export function requireIds(field: string, values: readonly string[]): readonly string[] {
  if (values.length > MAX_COUNT) throw invalidArgument(field, `must hold at most ${MAX_COUNT} ids`);
  values.forEach((value, index) => requireId(`${field}[${index}]`, value));
  return values;
}

/** A count where 0 means `fallback`; negative or above MAX_COUNT is refused. */
export function countOrDefault(field: string, value: number, fallback: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_COUNT) throw invalidArgument(field, `must be between 0 and ${MAX_COUNT}`);
  return value === 0 ? fallback : value;
}

/** An optional category: empty means none; otherwise an id as requireId checks it. */
export function optionalCategory(field: string, value: string): string {
  return value === '' ? value : requireId(field, value);
}
