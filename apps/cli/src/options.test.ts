import { integerOption, ratioOption } from './options';

describe('integerOption', () => {
  it('reads a whole number within its range', () => {
    expect(integerOption('limit', '20', 1, 1_000)).toBe(20);
    expect(integerOption('history', '0', 0)).toBe(0);
    expect(integerOption('seconds', ' 7 ', 1)).toBe(7);
  });

  it.each([
    ['limit', '0', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "0"'],
    ['wait', 'soon', 0, 600, '--wait must be a whole number from 0 to 600, got "soon"'],
    ['seconds', '2.5', 1, undefined, '--seconds must be a positive integer, got "2.5"'],
    ['seconds', '', 1, undefined, '--seconds must be a positive integer, got ""'],
    ['history', '-1', 0, undefined, '--history must be a whole number (0 or more), got "-1"'],
    ['history', undefined, 0, undefined, '--history must be a whole number (0 or more), got "undefined"'],
    ['limit', '1e3', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "1e3"'],
    ['limit', '0x10', 1, 1_000, '--limit must be a whole number from 1 to 1000, got "0x10"'],
    ['seconds', '+5', 1, undefined, '--seconds must be a positive integer, got "+5"'],
    ['seconds', '5.0', 1, undefined, '--seconds must be a positive integer, got "5.0"'],
  ])('refuses --%s %p, naming the option, its range and what it got', (name, raw, least, most, message) => {
    expect(() => integerOption(name, raw, least, most)).toThrow(message);
  });
});

describe('ratioOption', () => {
  it('reads a number from 0 to 1 in decimal notation', () => {
    expect(ratioOption('trace-sample-ratio', '0.01')).toBe(0.01);
    expect(ratioOption('trace-sample-ratio', '.5')).toBe(0.5);
    expect(ratioOption('trace-sample-ratio', '1')).toBe(1);
    expect(ratioOption('trace-sample-ratio', '0')).toBe(0);
  });

  it.each([[''], [' '], ['1.5'], ['-0.1'], ['1e-2'], ['abc'], [undefined]])('refuses %p, naming the option, instead of reading an empty value as 0', (raw) => {
    expect(() => ratioOption('trace-sample-ratio', raw, 'off')).toThrow(`--trace-sample-ratio must be a number from 0 to 1 or off, got "${raw}"`);
  });
});
