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

/**
 * The value of option `--name` as a number from 0 to 1 in decimal notation (`0.01`, `.5`, `1`), or
 * an error naming the option (and `orWord`, another value the caller takes) and what it got:
 * Number() would read '' as 0.
 */
export function ratioOption(name: string, raw: string | undefined, orWord?: string): number {
  const value = raw !== undefined && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (value >= 0 && value <= 1) return value;
  throw new Error(`--${name} must be a number from 0 to 1${orWord === undefined ? '' : ` or ${orWord}`}, got "${raw}"`);
}
