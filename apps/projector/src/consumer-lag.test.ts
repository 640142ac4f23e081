import { partitionLag } from './consumer-lag';

describe('partitionLag', () => {
  it('when the group committed an offset, the lag is the messages after it', () => {
    expect(partitionLag('120', '100', '0')).toBe(20);
    expect(partitionLag('120', '120', '0')).toBe(0);
  });

  it('when the group committed nothing yet, every retained message counts', () => {
    expect(partitionLag('120', '-1', '30')).toBe(90);
  });
});
