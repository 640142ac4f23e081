import { EVENT_TYPE_WEIGHTS, INTERACTION_TYPES, decayWeight, interactionWeight } from './interactions';

describe('interactionWeight', () => {
  it('when an event is not a rating, it weighs what its type weighs', () => {
    expect(interactionWeight('VIEW', 0)).toBe(1);
    expect(interactionWeight('PURCHASE', 99)).toBe(8);
    expect(interactionWeight('DISLIKE', 0)).toBeLessThan(0);
  });

  it('when an event is a rating, 5 stars weigh the full RATING weight and 1–2 stars count against', () => {
    expect(interactionWeight('RATING', 5)).toBe(EVENT_TYPE_WEIGHTS.RATING);
    expect(interactionWeight('RATING', 4)).toBeCloseTo(0.6 * EVENT_TYPE_WEIGHTS.RATING, 12);
    expect(interactionWeight('RATING', 2)).toBeLessThan(0);
    expect(interactionWeight('RATING', 1)).toBeLessThan(interactionWeight('RATING', 2));
    // Out-of-range values are clamped to the 1–5 scale.
    expect(interactionWeight('RATING', 50)).toBe(EVENT_TYPE_WEIGHTS.RATING);
  });

  it('every interaction type has a default weight', () => {
    for (const type of INTERACTION_TYPES) expect(Number.isFinite(interactionWeight(type, 3))).toBe(true);
  });
});

describe('decayWeight', () => {
  it('when an event is one half-life old it counts half, two half-lives a quarter', () => {
    expect(decayWeight(0, 10)).toBe(1);
    expect(decayWeight(10, 10)).toBe(0.5);
    expect(decayWeight(20, 10)).toBe(0.25);
    expect(decayWeight(20, Infinity)).toBe(1);
  });
});
