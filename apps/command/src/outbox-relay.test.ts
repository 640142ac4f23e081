import { FULL_LINGER_FACTS, lingerAfter } from './outbox-relay';

describe('lingerAfter', () => {
  it('waits the whole linger after a drain of a busy stream', () => {
    expect(lingerAfter(FULL_LINGER_FACTS, 25)).toBe(25);
    expect(lingerAfter(2_000, 25)).toBe(25);
  });

  it('waits in proportion after a small drain, so a trickle of facts is not held back', () => {
    expect(lingerAfter(1, 25)).toBe(0.5);
    expect(lingerAfter(10, 25)).toBe(5);
  });

  it('does not wait after a drain that sent nothing, or when the linger is off', () => {
    expect(lingerAfter(0, 25)).toBe(0);
    expect(lingerAfter(40, 0)).toBe(0);
  });
});
