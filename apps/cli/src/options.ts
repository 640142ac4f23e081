// Whole-number command-line options, read one way for every command.

/**
 * The value of option `--name` as an integer from `least` to `most`, or an error naming the option,
 * the range and what it got. An empty value is refused, not read as zero (Number('') is 0).
 */
export function integerOption(name: string, raw: string | undefined, least: number, most = Number.POSITIVE_INFINITY): number {
  const value = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (Number.isInteger(value) && value >= least && value <= most) return value;
  const range = Number.isFinite(most) ? `a whole number from ${least} to ${most}` : least === 1 ? 'a positive integer' : `a whole number (${least} or more)`;
  throw new Error(`--${name} must be ${range}, got "${raw}"`);
}
