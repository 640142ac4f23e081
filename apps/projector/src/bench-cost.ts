// The CPU figures of the projector's benches (bench-read-side.ts, bench-chunk.ts): this process's and the
// Redis server's, read before and after what is measured.
import { loadavg } from 'node:os';
import type { RedisClient } from '@orrery/projections';

/** CPU used so far by this process and by Redis (the whole server), and Redis' command count. */
export interface CostSnapshot {
  readonly processCpuMs: number;
  readonly redisCpuMs: number;
  readonly redisCommands: number;
  readonly loadAverage: number;
}

export async function costSnapshot(redis: RedisClient): Promise<CostSnapshot> {
  const info = String(await redis.info('all'));
  const field = (name: string): number => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
  const usage = process.cpuUsage();
  return {
    processCpuMs: (usage.user + usage.system) / 1000,
    redisCpuMs: (field('used_cpu_user') + field('used_cpu_sys')) * 1000,
    redisCommands: field('total_commands_processed'),
    loadAverage: loadavg()[0]!,
  };
}

/** Per-event CPU and Redis commands between two snapshots (Redis figures include other clients of a shared Redis). */
export function describeCost(before: CostSnapshot, after: CostSnapshot, events: number): string {
  const perEvent = (delta: number): number => delta / events;
  return (
    `this process ${(perEvent(after.processCpuMs - before.processCpuMs) * 1000).toFixed(1)} µs CPU, ` +
    `Redis ${(perEvent(after.redisCpuMs - before.redisCpuMs) * 1000).toFixed(1)} µs CPU and ${perEvent(after.redisCommands - before.redisCommands).toFixed(2)} commands ` +
    `(load average ${before.loadAverage.toFixed(2)} → ${after.loadAverage.toFixed(2)})`
  );
}
