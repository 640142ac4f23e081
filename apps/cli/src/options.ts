// Whole-number command-line options, read one way for every command.

/**
 * The value of option `--name` as an integer from `least` to `most`, or an error naming the option,
 * the range and what it got. Only digits (and spaces around them) are a whole number.
 */
export function integerOption(name: string, raw: string | undefined, least: number, most = Number.POSITIVE_INFINITY): number {
  // Digits only: Number() would also read '1e3', '0x10', '+5' and '' (as 0).
  const value = raw !== undefined && /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isInteger(value) && value >= least && value <= most) return value;
  const range = Number.isFinite(most) ? `a whole number from ${least} to ${most}` : least === 1 ? 'a positive integer' : `a whole number (${least} or more)`;
  throw new Error(`--${name} must be ${range}, got "${raw}"`);
}
