import { decidePromotion } from './promotion';
import { decodeFloat32, encodeFloat32 } from './vector-codec';
import { newModelVersionId } from './version-id';

describe('decidePromotion', () => {
  const candidate = { version: 'm-new', splitId: 's1', value: 0.3, featureSchema: 'ranking-v2', baselineValue: 0.1 };
  const champion = (value: number | undefined, featureSchema = 'ranking-v2') => ({ version: 'm-old', value, featureSchema });

  it('promotes the first model when there is no champion', () => {
    expect(decidePromotion(candidate, 'ndcg@10', undefined).promoted).toBe(true);
  });

  it('promotes only a strictly better challenger', () => {
    expect(decidePromotion(candidate, 'ndcg@10', champion(0.29)).promoted).toBe(true);
    expect(decidePromotion(candidate, 'ndcg@10', champion(0.3)).promoted).toBe(false);
    expect(decidePromotion(candidate, 'ndcg@10', champion(0.31)).promoted).toBe(false);
  });

  it('does not promote over a champion that was never evaluated on the same split', () => {
    const decision = decidePromotion(candidate, 'ndcg@10', champion(undefined));
    expect(decision.promoted).toBe(false);
    expect(decision.reason).toContain('split s1');
  });

  it('when the champion ranks another feature schema, promotes a candidate that beats the popularity baseline, whatever the champion scored', () => {
    expect(decidePromotion(candidate, 'ndcg@10', champion(undefined, 'ranking-v1'))).toMatchObject({
      promoted: true,
      reason: "champion m-old ranks another feature schema than this model's, so it cannot rank the features this code builds; ndcg@10 0.3000 > popularity baseline's 0.1000",
    });
    expect(decidePromotion(candidate, 'ndcg@10', champion(0.9, 'ranking-v1')).promoted).toBe(true);
    expect(decidePromotion({ ...candidate, baselineValue: undefined }, 'ndcg@10', champion(undefined, 'ranking-v1')).promoted).toBe(true);
    const refused = decidePromotion({ ...candidate, baselineValue: 0.3 }, 'ndcg@10', champion(undefined, 'ranking-v1'));
    expect(refused.promoted).toBe(false);
    expect(refused.reason).toContain('is not better than the popularity baseline');
  });
});

describe('item vector bytes', () => {
  it('round-trips float32 values through little-endian bytes, also from an unaligned buffer', () => {
    const values = new Float32Array([0.5, -1.25, 3.4028234663852886e38, 1e-7]);
    const bytes = encodeFloat32(values);
    expect(bytes.readFloatLE(4)).toBe(-1.25);
    const unaligned = Buffer.concat([Buffer.from([0]), bytes]).subarray(1);
    expect(Array.from(decodeFloat32(unaligned))).toEqual(Array.from(values));
  });
});

describe('newModelVersionId', () => {
  it('names a version by its UTC time and a suffix', () => {
    expect(newModelVersionId(new Date(Date.UTC(2026, 10, 25, 15, 30, 0)), 'ab12')).toBe('m-20261125-153000-ab12');
    expect(newModelVersionId()).toMatch(/^m-\d{8}-\d{6}-[0-9a-f]{4}$/);
  });
});
