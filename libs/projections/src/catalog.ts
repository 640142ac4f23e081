// The catalog view hash of an item (<prefix>:{i:<item>}:catalog): written by the projector from
// item_upserted, read by query and by the projector (categories of interacted items).

/** What the read model knows of an item from the catalog. */
export interface CatalogView {
  /** Main category first. */
  readonly categories: readonly string[];
  readonly tags: readonly string[];
  readonly hidden: boolean;
  readonly publishedAtMs: number | undefined;
}

/** The hash fields of a catalog view (lists as JSON, so any category text survives). */
export function catalogFields(view: CatalogView): [string, string][] {
  return [
    ['categories', JSON.stringify(view.categories)],
    ['tags', JSON.stringify(view.tags)],
    ['hidden', view.hidden ? '1' : '0'],
    ['published_at', view.publishedAtMs === undefined ? '' : String(view.publishedAtMs)],
  ];
}

/** The whole catalog hash of a deleted item: a tombstone that keeps interactions planned after it off the item's side and the recent list (they count for the user only) and makes reads say it does not exist. */
export const DELETED_CATALOG_FIELDS: readonly (readonly [string, string])[] = [['deleted', '1']];

/** The catalog view of a hash read back (HGETALL); undefined when the item was never upserted. */
export function parseCatalogView(fields: Readonly<Record<string, string>>): CatalogView | undefined {
  if (fields.hidden === undefined) return undefined;
  const publishedAtMs = fields.published_at ? Number(fields.published_at) : undefined;
  return {
    categories: parseStringList(fields.categories),
    tags: parseStringList(fields.tags),
    hidden: fields.hidden === '1',
    publishedAtMs: publishedAtMs !== undefined && Number.isFinite(publishedAtMs) ? publishedAtMs : undefined,
  };
}

/** A JSON string list field; [] when absent or malformed (a bad field never fails a read). */
export function parseStringList(encoded: string | null | undefined): string[] {
  if (!encoded) return [];
  try {
    const parsed: unknown = JSON.parse(encoded);
    return Array.isArray(parsed) ? parsed.filter((value): value is string => typeof value === 'string') : [];
  } catch {
    return [];
  }
}
