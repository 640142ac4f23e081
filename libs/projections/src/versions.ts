// Projection versions: a rebuild writes version N+1 beside the live version N, then switches the
// pointer key; projector and query follow the pointer (re-read every ORRERY_PROJECTION_VERSION_POLL_MS).
import type { ControlKeys } from './keys';
import type { RedisClient } from './redis';

/** The current projection version (0 when the pointer was never set). */
export async function readProjectionVersion(redis: RedisClient, control: ControlKeys): Promise<number> {
  return parseProjectionVersion(await redis.get(control.version));
}

/** A pointer value → version; absent or malformed reads as 0 (the layout before versions existed). */
export function parseProjectionVersion(value: string | null | undefined): number {
  const version = Number(value ?? '0');
  return Number.isInteger(version) && version >= 0 ? version : 0;
}

/** The consumer group projecting version `version`: each version keeps its own Kafka offsets. */
export function projectorGroupOf(group: string, version: number): string {
  return version === 0 ? group : `${group}.v${version}`;
}

/**
 * Calls `onChange` whenever the version pointer differs from the last value seen (polling; `onChange`
 * calls never overlap). Returns a function that stops watching.
 */
export function watchProjectionVersion(
  redis: RedisClient,
  control: ControlKeys,
  initial: number,
  intervalMs: number,
  onChange: (version: number) => Promise<void>,
  onError: (error: unknown) => void,
): () => void {
  return watchForChanges(() => readProjectionVersion(redis, control), { initial, intervalMs }, onChange, onError);
}

/**
 * Reads `read()` every `intervalMs` (never two reads at once) and calls `onChange` whenever the value
 * differs from the last one seen — `initial` to begin with; undefined, so the first read counts as a
 * change. With `immediately`, the first read is made now rather than after one interval. A failed read
 * or `onChange` goes to `onError`. Returns a function that stops watching.
 */
export function watchForChanges<T>(
  read: () => Promise<T>,
  options: { readonly initial?: T; readonly intervalMs: number; readonly immediately?: boolean },
  onChange: (value: T) => void | Promise<void>,
  onError: (error: unknown) => void,
): () => void {
  let current = options.initial;
  let busy = false;
  const poll = (): void => {
    if (busy) return;
    busy = true;
    read()
      .then(async (value) => {
        if (value === current) return;
        current = value;
        await onChange(value);
      })
      .catch(onError)
      .finally(() => {
        busy = false;
      });
  };
  if (options.immediately) poll();
  const timer = setInterval(poll, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
