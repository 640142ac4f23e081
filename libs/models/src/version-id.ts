import { randomBytes } from 'node:crypto';

/** A new version id `m-YYYYMMDD-HHMMSS-xxxx` (UTC time, 4 random hex digits), sortable by time. */
export function newModelVersionId(now: Date = new Date(), suffix: string = randomBytes(2).toString('hex')): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  const date = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  return `m-${date}-${time}-${suffix}`;
}
