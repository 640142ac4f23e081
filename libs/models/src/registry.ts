// The Postgres adapter of the model registry (infra/sql/002_model_registry.sql).

import type { Pool, PoolClient } from 'pg';
import { parseModelStatus, type ModelMetrics, type ModelSummary, type ModelVersion, type NewModelVersion } from './model';
import { BASELINE_METRIC_PREFIX, decidePromotion, type ChampionOnSplit, type PromotionDecision } from './promotion';
import { decodeFloat32, encodeFloat32 } from './vector-codec';
import { newModelVersionId } from './version-id';

/** Channel of the NOTIFY sent on every promotion; the payload is the new champion's version. */
export const MODEL_PROMOTED_CHANNEL = 'orrery_model_promoted';

interface SummaryRow {
  version: string;
  status: string;
  created_at: Date;
  promoted_at: Date | null;
  retired_at: Date | null;
  metrics: Record<string, number>;
  split_id: string;
  feature_schema: string;
  factors: number;
  item_count: number;
}

interface VersionRow extends SummaryRow {
  item_ids: string[];
  item_vectors: Buffer;
  item_norms: Buffer;
  ranker_onnx: Buffer;
}

const SUMMARY_COLUMNS = `version, status, created_at, promoted_at, retired_at, metrics, split_id, feature_schema, factors,
  cardinality(item_ids) AS item_count`;
const VERSION_COLUMNS = `${SUMMARY_COLUMNS}, item_ids, item_vectors, item_norms, ranker_onnx`;

function toSummary(row: SummaryRow): ModelSummary {
  return {
    version: row.version,
    status: parseModelStatus(row.status),
    createdAt: row.created_at,
    promotedAt: row.promoted_at ?? undefined,
    retiredAt: row.retired_at ?? undefined,
    metrics: row.metrics,
    splitId: row.split_id,
    featureSchema: row.feature_schema,
    factors: row.factors,
    itemCount: row.item_count,
  };
}

function toVersion(row: VersionRow): ModelVersion {
  return {
    ...toSummary(row),
    itemIds: row.item_ids,
    itemVectors: decodeFloat32(row.item_vectors),
    itemNorms: decodeFloat32(row.item_norms),
    rankerOnnx: new Uint8Array(row.ranker_onnx.buffer, row.ranker_onnx.byteOffset, row.ranker_onnx.byteLength),
  };
}

function checkMetrics(metrics: ModelMetrics): void {
  for (const [name, value] of Object.entries(metrics)) {
    if (!Number.isFinite(value)) throw new Error(`metric ${name} is ${String(value)}, not a finite number`);
  }
}

/**
 * Stores a new candidate version with its metrics (also recorded as its evaluation on its split) and
 * returns its summary; throws when the vectors do not match itemIds × factors.
 */
export async function registerModel(pool: Pool, model: NewModelVersion): Promise<ModelSummary> {
  if (!Number.isInteger(model.factors) || model.factors <= 0) throw new Error(`factors must be a positive integer, got ${model.factors}`);
  if (model.itemVectors.length !== model.itemIds.length * model.factors) {
    throw new Error(`itemVectors has ${model.itemVectors.length} values, expected ${model.itemIds.length} items × ${model.factors} factors`);
  }
  if (model.itemNorms.length !== model.itemIds.length) {
    throw new Error(`itemNorms has ${model.itemNorms.length} values, expected one per item (${model.itemIds.length})`);
  }
  if (new Set(model.itemIds).size !== model.itemIds.length) throw new Error('itemIds must be distinct');
  checkMetrics(model.metrics);
  const version = model.version ?? newModelVersionId();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<SummaryRow>(
      `INSERT INTO model_versions (version, metrics, split_id, feature_schema, factors, item_ids, item_vectors, item_norms, ranker_onnx)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       RETURNING ${SUMMARY_COLUMNS}`,
      [version, JSON.stringify(model.metrics), model.splitId, model.featureSchema, model.factors, model.itemIds, encodeFloat32(model.itemVectors), encodeFloat32(model.itemNorms), Buffer.from(model.rankerOnnx)],
    );
    await client.query('INSERT INTO model_evaluations (version, split_id, metrics) VALUES ($1, $2, $3)', [version, model.splitId, JSON.stringify(model.metrics)]);
    await client.query('COMMIT');
    return toSummary(rows[0] as SummaryRow);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Records (or replaces) the metrics of an existing version measured on `splitId`. */
export async function recordEvaluation(pool: Pool, version: string, splitId: string, metrics: ModelMetrics): Promise<void> {
  checkMetrics(metrics);
  await pool.query(
    `INSERT INTO model_evaluations (version, split_id, metrics) VALUES ($1, $2, $3)
     ON CONFLICT (version, split_id) DO UPDATE SET metrics = EXCLUDED.metrics, evaluated_at = now()`,
    [version, splitId, JSON.stringify(metrics)],
  );
}

/**
 * In one transaction (serialised with every other promotion): promotes `version` to champion when
 * there is none, or when its `metricName` is strictly better than the champion's on the same split;
 * the old champion is retired and `NOTIFY orrery_model_promoted, '<version>'` fires on commit.
 * Throws when the version is unknown or lacks the metric.
 */
export async function promoteIfBetter(pool: Pool, version: string, metricName: string): Promise<PromotionDecision> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One promotion at a time, so two challengers cannot both beat the same old champion.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('orrery_model_promotion'))`);
    const candidateRows = await client.query<{ status: string; split_id: string; feature_schema: string; value: number | null; baseline: number | null }>(
      `SELECT status, split_id, feature_schema, (metrics ->> $2)::float8 AS value, (metrics ->> ('${BASELINE_METRIC_PREFIX}' || $2))::float8 AS baseline
         FROM model_versions WHERE version = $1 FOR UPDATE`,
      [version, metricName],
    );
    const candidate = candidateRows.rows[0];
    if (!candidate) throw new Error(`model version ${version} is not registered`);
    if (candidate.value === null) throw new Error(`model version ${version} has no metric ${metricName}`);
    const champion = await championOnSplit(client, candidate.split_id, metricName);
    const status = parseModelStatus(candidate.status);
    if (status !== 'candidate') {
      await client.query('ROLLBACK');
      return {
        promoted: false,
        version,
        metricName,
        splitId: candidate.split_id,
        candidateValue: candidate.value,
        previousChampion: champion,
        reason: status === 'champion' ? 'already the champion' : 'retired versions are not promoted again',
      };
    }
    const decision = decidePromotion(
      { version, splitId: candidate.split_id, value: candidate.value, featureSchema: candidate.feature_schema, baselineValue: candidate.baseline ?? undefined },
      metricName,
      champion,
    );
    if (!decision.promoted) {
      await client.query('ROLLBACK');
      return decision;
    }
    await client.query(`UPDATE model_versions SET status = 'retired', retired_at = now() WHERE status = 'champion'`);
    await client.query(`UPDATE model_versions SET status = 'champion', promoted_at = now() WHERE version = $1`, [version]);
    await client.query('SELECT pg_notify($1, $2)', [MODEL_PROMOTED_CHANNEL, version]);
    await client.query('COMMIT');
    return decision;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function championOnSplit(client: PoolClient, splitId: string, metricName: string): Promise<ChampionOnSplit | undefined> {
  const { rows } = await client.query<{ version: string; value: number | null; feature_schema: string }>(
    `SELECT v.version, v.feature_schema, (e.metrics ->> $2)::float8 AS value
       FROM model_versions v
       LEFT JOIN model_evaluations e ON e.version = v.version AND e.split_id = $1
      WHERE v.status = 'champion'
      FOR UPDATE OF v`,
    [splitId, metricName],
  );
  const row = rows[0];
  return row ? { version: row.version, value: row.value ?? undefined, featureSchema: row.feature_schema } : undefined;
}

/**
 * Deletes every version but the champion and the `keep` newest (their evaluations go with them): each
 * version holds its item vectors (factors × items float32: 128 MB a million items at 32 factors) and its
 * ranker, and a scheduled trainer registers one a run. The newest ones stay, so a candidate being
 * registered or promoted, and the challenger scoring shadows (the newest candidate), are never deleted.
 * Returns the versions deleted, oldest first.
 */
export async function pruneModelVersions(pool: Pool, keep: number): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new Error(`keep must be a positive integer, got ${keep}`);
  const { rows } = await pool.query<{ version: string; created_at: Date }>(
    `DELETE FROM model_versions
      WHERE status <> 'champion'
        AND version NOT IN (SELECT version FROM model_versions ORDER BY created_at DESC, version DESC LIMIT $1)
      RETURNING version, created_at`,
    [keep],
  );
  return rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime()).map((row) => row.version);
}

/** The serving champion with its payloads, or undefined when none was promoted yet. */
export async function loadChampion(pool: Pool): Promise<ModelVersion | undefined> {
  const { rows } = await pool.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE status = 'champion'`);
  return rows[0] ? toVersion(rows[0]) : undefined;
}

/** The champion's version id only (cheap), or undefined. */
export async function championVersion(pool: Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ version: string }>(`SELECT version FROM model_versions WHERE status = 'champion'`);
  return rows[0]?.version;
}

/** One version with its payloads, or undefined when unknown. */
export async function loadModelVersion(pool: Pool, version: string): Promise<ModelVersion | undefined> {
  const { rows } = await pool.query<VersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE version = $1`, [version]);
  return rows[0] ? toVersion(rows[0]) : undefined;
}

/** Summaries of the newest `limit` versions, newest first. */
export async function listModelVersions(pool: Pool, limit = 20): Promise<ModelSummary[]> {
  const { rows } = await pool.query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM model_versions ORDER BY created_at DESC, version DESC LIMIT $1`, [limit]);
  return rows.map(toSummary);
}
