import { eventually, uniqueName } from './index';

describe('eventually', () => {
  it('when the probe becomes acceptable, it returns that value', async () => {
    let calls = 0;
    const value = await eventually(async () => ++calls, { accept: (n) => n >= 3, intervalMs: 1 });
    expect(value).toBe(3);
  });

  it('when the probe never becomes acceptable, it fails naming what it waited for and the last value', async () => {
    await expect(eventually(async () => ({ seen: 1 }), { accept: () => false, timeoutMs: 30, intervalMs: 5, what: 'the answer' })).rejects.toThrow(/the answer.*"seen":1/);
  });

  it('when names are made unique, two calls differ and keep the prefix', () => {
    const [a, b] = [uniqueName('x'), uniqueName('x')];
    expect(a).toMatch(/^x_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });
});
