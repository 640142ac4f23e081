// A synthetic catalog and interaction log with tastes planted on purpose, so that learners can be
// tested against a known truth: users favour 1–3 categories and one "style" inside each, sessions
// stay on related items (co-visitation signal), and popularity is long-tailed within a category.

import { DAY_MS, type Interaction, type InteractionType } from './interactions';
import { createSeededRandom, type SeededRandom } from './random';

/** Shape of the generated data set. */
export interface SyntheticDatasetOptions {
  readonly users: number;
  readonly items: number;
  /** Number of categories (named books, jazz, … and category-13 onwards); default 12. */
  readonly categories?: number;
  /** Mean number of events per user; default 30. */
  readonly eventsPerUser?: number;
  /** Default 42. */
  readonly seed?: number;
  /** Epoch ms of the first possible event; default 2025-01-01T00:00:00Z. */
  readonly startTime?: number;
  /** Days covered by the events; default 60. */
  readonly spanDays?: number;
}

export interface SyntheticItem {
  readonly itemId: string;
  /** Main category first, then possibly a second one. */
  readonly categories: readonly string[];
  /** The item's style inside its main category (`style:<name>`) and sometimes a merchandising tag. */
  readonly tags: readonly string[];
  readonly hidden: boolean;
  /** Epoch ms, before `startTime`. */
  readonly publishedAt: number;
}

export interface SyntheticUser {
  readonly userId: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** The planted tastes: most of this user's events fall in these categories. */
  readonly favouriteCategories: readonly string[];
}

export interface SyntheticEvent extends Interaction {
  /** A UUID, deterministic for the seed. */
  readonly eventId: string;
}

export interface SyntheticDataset {
  readonly items: readonly SyntheticItem[];
  readonly users: readonly SyntheticUser[];
  /** Sorted by `occurredAt`; strictly increasing per user. */
  readonly events: readonly SyntheticEvent[];
}

const CATEGORY_NAMES = [
  'books',
  'jazz',
  'rock',
  'cooking',
  'travel',
  'fitness',
  'gaming',
  'film',
  'science',
  'fashion',
  'gardening',
  'photography',
];
const STYLES = ['classic', 'modern', 'indie', 'deluxe'];
const MERCHANDISING_TAGS = ['bestseller', 'staff-pick', 'new', 'sale'];
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'JP', 'BR', 'IN'];
const DEVICES = ['mobile', 'desktop', 'tablet'];
const AGE_BANDS = ['18-24', '25-34', '35-44', '45-54', '55+'];

/** Share of sessions spent in a favourite category; the rest explore popular items. */
const FAVOURITE_SESSION_SHARE = 0.8;
/** Chance that an item picked in a favourite category is of the user's favourite style there. */
const FAVOURITE_STYLE_SHARE = 0.6;
/** Chance that the next item of a session is related (same category and style) to the previous. */
const RELATED_NEXT_SHARE = 0.7;
const ZIPF_EXPONENT = 1.1;

/** The synthetic data set's id of the `index`-th of `count` users or items, zero-padded: `item-0042` (at least 4 digits). */
export function syntheticId(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index).padStart(Math.max(4, String(count - 1).length), '0')}`;
}

/** Items drawn with probability proportional to fixed weights, by binary search on the cumulative sum. */
interface WeightedSampler {
  readonly itemIndexes: Int32Array;
  readonly cumulative: Float64Array;
}

function buildSampler(entries: ReadonlyArray<readonly [itemIndex: number, weight: number]>): WeightedSampler {
  const itemIndexes = new Int32Array(entries.length);
  const cumulative = new Float64Array(entries.length);
  let total = 0;
  entries.forEach(([itemIndex, weight], i) => {
    total += weight;
    itemIndexes[i] = itemIndex;
    cumulative[i] = total;
  });
  return { itemIndexes, cumulative };
}

/** Returns an item index, or -1 when the sampler is empty. */
function sampleItem(sampler: WeightedSampler, random: SeededRandom): number {
  const n = sampler.cumulative.length;
  if (n === 0) return -1;
  const target = random.next() * (sampler.cumulative[n - 1] as number);
  let low = 0;
  let high = n - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((sampler.cumulative[mid] as number) > target) high = mid;
    else low = mid + 1;
  }
  return sampler.itemIndexes[low] as number;
}

function shuffleInPlace<T>(values: T[], random: SeededRandom): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [values[i], values[j]] = [values[j] as T, values[i] as T];
  }
  return values;
}

function pickOne<T>(values: readonly T[], random: SeededRandom): T {
  return values[random.int(values.length)] as T;
}

/** A UUID-shaped (version 4) id drawn from `random`. */
function seededUuid(random: SeededRandom): string {
  const hex: string[] = [];
  for (let i = 0; i < 32; i++) hex.push(random.int(16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + random.int(4)).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

interface PlannedEvent {
  readonly itemIndex: number;
  readonly type: InteractionType;
  readonly value: number;
  /** Ms after the start of its session. */
  readonly offsetMs: number;
}

/** Generates a catalog, users and a time-sorted event log with planted tastes; deterministic for a seed. */
export function generateSyntheticDataset(options: SyntheticDatasetOptions): SyntheticDataset {
  const categoryCount = options.categories ?? 12;
  const eventsPerUser = options.eventsPerUser ?? 30;
  const seed = options.seed ?? 42;
  const startTime = options.startTime ?? Date.UTC(2025, 0, 1);
  const spanMs = (options.spanDays ?? 60) * DAY_MS;
  if (options.users < 1 || options.items < 1 || categoryCount < 1) {
    throw new Error('generateSyntheticDataset needs at least one user, item and category');
  }
  const random = createSeededRandom(seed);
  const categoryNames = Array.from({ length: categoryCount }, (_, c) => CATEGORY_NAMES[c] ?? `category-${c + 1}`);

  // Catalog: balanced main categories, one style each, Zipf popularity by a random rank per category.
  const mainCategory = shuffleInPlace(
    Array.from({ length: options.items }, (_, i) => i % categoryCount),
    random,
  );
  const style = Array.from({ length: options.items }, () => random.int(STYLES.length));
  const secondCategory = mainCategory.map((main) =>
    categoryCount > 1 && random.next() < 0.2 ? (main + 1 + random.int(categoryCount - 1)) % categoryCount : -1,
  );
  const popularity = new Float64Array(options.items);
  for (let c = 0; c < categoryCount; c++) {
    const members = shuffleInPlace(
      mainCategory.flatMap((main, i) => (main === c ? [i] : [])),
      random,
    );
    members.forEach((itemIndex, rank) => (popularity[itemIndex] = 1 / Math.pow(rank + 1, ZIPF_EXPONENT)));
  }
  const items: SyntheticItem[] = mainCategory.map((main, i) => {
    const second = secondCategory[i] as number;
    const tags = [`style:${STYLES[style[i] as number] as string}`];
    if (random.next() < 0.15) tags.push(pickOne(MERCHANDISING_TAGS, random));
    return {
      itemId: syntheticId('item', i, options.items),
      categories: second >= 0 ? [categoryNames[main] as string, categoryNames[second] as string] : [categoryNames[main] as string],
      tags,
      hidden: random.next() < 0.02,
      publishedAt: Math.round(startTime - random.next() * 365 * DAY_MS),
    };
  });

  const globalSampler = buildSampler(Array.from(popularity, (weight, i) => [i, weight] as const));
  const categorySamplers = categoryNames.map((_, c) =>
    buildSampler(
      mainCategory.flatMap((main, i): Array<readonly [number, number]> => {
        if (main === c) return [[i, popularity[i] as number]];
        // Items also appear, less often, in their second category.
        if (secondCategory[i] === c) return [[i, 0.5 * (popularity[i] as number)]];
        return [];
      }),
    ),
  );
  const styleSamplers = categoryNames.map((_, c) =>
    STYLES.map((__, s) =>
      buildSampler(
        mainCategory.flatMap((main, i): Array<readonly [number, number]> =>
          main === c && style[i] === s ? [[i, popularity[i] as number]] : [],
        ),
      ),
    ),
  );
  const sampleFromCategory = (c: number, preferredStyle: number): number => {
    if (preferredStyle >= 0) {
      const styled = sampleItem(styleSamplers[c]?.[preferredStyle] as WeightedSampler, random);
      if (styled >= 0) return styled;
    }
    const inCategory = sampleItem(categorySamplers[c] as WeightedSampler, random);
    return inCategory >= 0 ? inCategory : sampleItem(globalSampler, random);
  };

  const users: SyntheticUser[] = [];
  const userEvents: Array<Omit<SyntheticEvent, 'eventId'>> = [];
  for (let u = 0; u < options.users; u++) {
    const userId = syntheticId('user', u, options.users);
    const favouriteCount = Math.min(categoryCount, random.pick([0.35, 0.45, 0.2]) + 1);
    const favourites = shuffleInPlace(
      Array.from({ length: categoryCount }, (_, c) => c),
      random,
    ).slice(0, favouriteCount);
    const favouriteShare = favourites.map((_, f) => 1 / (f + 1));
    const favouriteStyle = new Map(favourites.map((c) => [c, random.int(STYLES.length)]));
    users.push({
      userId,
      attributes: { country: pickOne(COUNTRIES, random), device: pickOne(DEVICES, random), ageBand: pickOne(AGE_BANDS, random) },
      favouriteCategories: favourites.map((c) => categoryNames[c] as string),
    });

    // How well an item fits the planted taste: drives conversions, ratings and likes.
    const fitOf = (itemIndex: number): number => {
      const main = mainCategory[itemIndex] as number;
      const preferred = favouriteStyle.get(main);
      if (preferred !== undefined) return preferred === style[itemIndex] ? 1 : 0.5;
      return favouriteStyle.has(secondCategory[itemIndex] as number) ? 0.5 : 0;
    };
    const targetEvents = Math.max(3, Math.round(eventsPerUser * Math.exp(0.6 * random.normal() - 0.18)));
    const seen = new Set<number>();
    const sessions: PlannedEvent[][] = [];
    let planned = 0;
    while (planned < targetEvents) {
      const session: PlannedEvent[] = [];
      const inFavourite = random.next() < FAVOURITE_SESSION_SHARE;
      const category = favourites[random.pick(favouriteShare)] as number;
      const visits = 2 + random.int(6);
      let previous = -1;
      let offsetMs = 0;
      for (let v = 0; v < visits && planned < targetEvents; v++) {
        let itemIndex = -1;
        for (let attempt = 0; attempt < 6 && (itemIndex < 0 || seen.has(itemIndex)); attempt++) {
          if (previous >= 0 && random.next() < RELATED_NEXT_SHARE) {
            itemIndex = sampleFromCategory(mainCategory[previous] as number, style[previous] as number);
          } else if (inFavourite) {
            const preferredStyle = random.next() < FAVOURITE_STYLE_SHARE ? (favouriteStyle.get(category) as number) : -1;
            itemIndex = sampleFromCategory(category, preferredStyle);
          } else {
            itemIndex = sampleItem(globalSampler, random);
          }
        }
        seen.add(itemIndex);
        previous = itemIndex;
        offsetMs += 20_000 + random.int(180_000);
        const fit = fitOf(itemIndex);
        const visit: PlannedEvent[] = [{ itemIndex, type: 'VIEW', value: 0, offsetMs }];
        const follow = (type: InteractionType, value = 0): void => {
          offsetMs += 5_000 + random.int(60_000);
          visit.push({ itemIndex, type, value, offsetMs });
        };
        if (random.next() < 0.15 + 0.25 * fit) {
          follow('CLICK');
          if (random.next() < 0.25 + 0.2 * fit) {
            follow('ADD_TO_CART');
            if (random.next() < 0.5) follow('PURCHASE');
          }
        }
        if (random.next() < 0.08) {
          const stars = fit === 1 ? 4 + random.int(2) : fit > 0 ? 3 + random.int(3) : 1 + random.int(4);
          follow('RATING', stars);
        }
        if (random.next() < 0.02 + 0.08 * fit) follow('LIKE');
        else if (fit === 0 && random.next() < 0.04) follow('DISLIKE');
        session.push(...visit);
        planned += visit.length;
      }
      sessions.push(session);
    }

    // Sessions start at sorted uniform times after the user's first day and never overlap.
    const firstMs = startTime + random.next() * 0.5 * spanMs;
    const lastStartMs = startTime + spanMs - 3_600_000;
    const sessionStarts = sessions
      .map(() => firstMs + random.next() * Math.max(0, lastStartMs - firstMs))
      .sort((a, b) => a - b);
    let previousEnd = -Infinity;
    sessions.forEach((session, s) => {
      const start = Math.round(Math.max(sessionStarts[s] as number, previousEnd + 60_000));
      for (const event of session) {
        userEvents.push({
          userId,
          itemId: (items[event.itemIndex] as SyntheticItem).itemId,
          type: event.type,
          value: event.value,
          occurredAt: start + event.offsetMs,
        });
      }
      previousEnd = start + (session[session.length - 1]?.offsetMs ?? 0);
    });
  }

  // Stable sort keeps each user's order for equal timestamps across users.
  userEvents.sort((a, b) => a.occurredAt - b.occurredAt);
  const idRandom = createSeededRandom(seed ^ 0x5eed1d5);
  const events = userEvents.map((event) => ({ eventId: seededUuid(idRandom), ...event }));
  return { items, users, events };
}
