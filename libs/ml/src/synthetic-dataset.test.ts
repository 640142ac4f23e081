import { generateSyntheticDataset, type SyntheticDataset } from './synthetic-dataset';

const options = { users: 300, items: 200, eventsPerUser: 30, seed: 11, startTime: Date.UTC(2025, 0, 1), spanDays: 30 };

describe('generateSyntheticDataset', () => {
  let dataset: SyntheticDataset;
  beforeAll(() => {
    dataset = generateSyntheticDataset(options);
  });

  it('when called twice with the same seed, it returns identical data', () => {
    expect(generateSyntheticDataset(options)).toEqual(dataset);
  });

  it('when the seed changes, the events change', () => {
    const other = generateSyntheticDataset({ ...options, seed: 12 });
    expect(other.events.slice(0, 50)).not.toEqual(dataset.events.slice(0, 50));
  });

  it('when asked for n users and m items, it names them user-0000… and item-0000…', () => {
    expect(dataset.users).toHaveLength(300);
    expect(dataset.items).toHaveLength(200);
    expect(dataset.users[7]?.userId).toBe('user-0007');
    expect(dataset.items[42]?.itemId).toBe('item-0042');
    expect(new Set(dataset.events.map((event) => event.eventId)).size).toBe(dataset.events.length);
    expect(dataset.events[0]?.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('when users have planted tastes, most of their events fall in their favourite categories', () => {
    const categoriesOf = new Map(dataset.items.map((item) => [item.itemId, item.categories]));
    const favouritesOf = new Map(dataset.users.map((user) => [user.userId, new Set(user.favouriteCategories)]));
    const inFavourite = dataset.events.filter((event) =>
      categoriesOf.get(event.itemId)?.some((category) => favouritesOf.get(event.userId)?.has(category)),
    ).length;
    // Measured 0.84 over seeds; a user with 1–3 of 12 categories would get ~0.2 by chance.
    expect(inFavourite / dataset.events.length).toBeGreaterThan(0.75);
    for (const user of dataset.users) expect(user.favouriteCategories.length).toBeGreaterThanOrEqual(1);
    for (const user of dataset.users) expect(user.favouriteCategories.length).toBeLessThanOrEqual(3);
  });

  it('when events are generated, they are sorted by time, strictly increasing per user and inside the span', () => {
    const end = options.startTime + options.spanDays * 86_400_000;
    const lastByUser = new Map<string, number>();
    const outOfOrder = dataset.events.filter((event, i) => {
      const ok =
        event.occurredAt >= (dataset.events[i - 1]?.occurredAt ?? -Infinity) &&
        event.occurredAt > (lastByUser.get(event.userId) ?? -Infinity) &&
        event.occurredAt >= options.startTime &&
        event.occurredAt <= end;
      lastByUser.set(event.userId, event.occurredAt);
      return !ok;
    });
    expect(outOfOrder).toEqual([]);
    const meanEvents = dataset.events.length / dataset.users.length;
    expect(meanEvents).toBeGreaterThan(25);
    expect(meanEvents).toBeLessThan(35);
  });

  it('when events are generated, most are views and every type occurs, ratings valued 1–5', () => {
    const counts = new Map<string, number>();
    for (const event of dataset.events) counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['ADD_TO_CART', 'CLICK', 'DISLIKE', 'LIKE', 'PURCHASE', 'RATING', 'VIEW']);
    expect((counts.get('VIEW') ?? 0) / dataset.events.length).toBeGreaterThan(0.5);
    for (const event of dataset.events.filter((e) => e.type === 'RATING')) {
      expect([1, 2, 3, 4, 5]).toContain(event.value);
    }
  });

  it('when popularity is long-tailed, each category has a few items viewed far more than its median item', () => {
    const views = new Map<string, number>();
    for (const event of dataset.events) if (event.type === 'VIEW') views.set(event.itemId, (views.get(event.itemId) ?? 0) + 1);
    const viewsByCategory = new Map<string, number[]>();
    for (const item of dataset.items) {
      const main = item.categories[0] as string;
      viewsByCategory.set(main, [...(viewsByCategory.get(main) ?? []), views.get(item.itemId) ?? 0]);
    }
    // Measured 2.8–4.6× here (9–14× with 2000 users: repeat-free users cap the head of a small log).
    for (const counts of viewsByCategory.values()) {
      counts.sort((a, b) => b - a);
      expect(counts[0]).toBeGreaterThan(2 * (counts[Math.floor(counts.length / 2)] as number));
    }
  });

  it('when items are generated, a few are hidden and each has its main category first', () => {
    const hidden = dataset.items.filter((item) => item.hidden).length;
    expect(hidden).toBeGreaterThan(0);
    expect(hidden).toBeLessThan(dataset.items.length * 0.1);
    for (const item of dataset.items) {
      expect(item.categories.length).toBeGreaterThanOrEqual(1);
      expect(new Set(item.categories).size).toBe(item.categories.length);
      expect(item.tags[0]).toMatch(/^style:/);
      expect(item.publishedAt).toBeLessThanOrEqual(options.startTime);
    }
  });
});
