-- Model registry: every trained model version, its offline metrics and which one is serving.
-- Owned by libs/models (registerModel, promoteIfBetter, loadChampion, watchChampion); applied by libs/store migrate().

CREATE TABLE IF NOT EXISTS model_versions (
  -- e.g. m-20261125-153000-ab12: sortable by time, unique by its random suffix.
  version        text PRIMARY KEY,
  created_at     timestamptz NOT NULL DEFAULT now(),
  status         text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'champion', 'retired')),
  -- The candidate's own offline metrics on split_id, flat name -> number (e.g. "ndcg@10").
  metrics        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Identity of the held-out split the metrics were measured on; comparisons need the same split.
  split_id       text NOT NULL,
  -- RANKING_FEATURE_SCHEMA of the ranker; scoring refuses requests built on another schema.
  feature_schema text NOT NULL,
  factors        integer NOT NULL CHECK (factors > 0),
  -- Row r of item_vectors belongs to item_ids[r].
  item_ids       text[] NOT NULL,
  -- item count x factors little-endian float32, each row L2-normalised.
  item_vectors   bytea NOT NULL CHECK (octet_length(item_vectors) = 4 * factors * cardinality(item_ids)),
  -- L2 norm of each raw item vector (little-endian float32): unit row × norm is the raw vector,
  -- whose dot product with a user vector is the ALS affinity (the ann_score ranking feature).
  item_norms     bytea NOT NULL CHECK (octet_length(item_norms) = 4 * cardinality(item_ids)),
  ranker_onnx    bytea NOT NULL,
  promoted_at    timestamptz,
  retired_at     timestamptz
);

-- At most one champion at any time, enforced by the database, not only by the promotion code.
CREATE UNIQUE INDEX IF NOT EXISTS model_versions_single_champion
  ON model_versions ((status)) WHERE status = 'champion';

CREATE INDEX IF NOT EXISTS model_versions_created_at ON model_versions (created_at DESC);

-- Metrics of a version measured on some split. The trainer re-evaluates the champion on each new
-- split, so a challenger is compared with the champion on the same held-out data.
CREATE TABLE IF NOT EXISTS model_evaluations (
  version      text NOT NULL REFERENCES model_versions (version) ON DELETE CASCADE,
  split_id     text NOT NULL,
  metrics      jsonb NOT NULL,
  evaluated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (version, split_id)
);
