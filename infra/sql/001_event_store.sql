-- Orrery write side: the append-only event store, the current-state catalog tables the command
-- side keeps, and the transactional outbox the relay publishes to Kafka.
-- Applied once by libs/store migrate() (recorded in schema_migrations, under an advisory lock).

-- One global commit order shared by interactions and catalog changes: DomainEvent.sequence.
CREATE SEQUENCE commit_sequence AS bigint;

-- Every interaction ever accepted, in commit order. Append-only: rows are never updated or deleted.
-- event_id is the idempotency key: a repeated id is stored once.
CREATE TABLE events (
  sequence     bigint PRIMARY KEY DEFAULT nextval('commit_sequence'),
  event_id     text NOT NULL UNIQUE CHECK (event_id <> ''),
  user_id      text NOT NULL CHECK (user_id <> ''),
  item_id      text NOT NULL CHECK (item_id <> ''),
  -- Lower-case name of orrery.v1.EventType without its prefix: view, click, add_to_cart, …
  type         text NOT NULL CHECK (type IN ('view', 'click', 'add_to_cart', 'purchase', 'rating', 'like', 'dislike')),
  value        double precision NOT NULL,
  occurred_at  timestamptz NOT NULL,
  context      jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE commit_sequence OWNED BY events.sequence;
CREATE INDEX events_user_sequence ON events (user_id, sequence);
CREATE INDEX events_occurred_at ON events (occurred_at);

-- Current state of the catalog (last upsert wins).
CREATE TABLE items (
  item_id       text PRIMARY KEY CHECK (item_id <> ''),
  categories    text[] NOT NULL DEFAULT '{}',
  tags          text[] NOT NULL DEFAULT '{}',
  attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
  published_at  timestamptz,
  hidden        boolean NOT NULL DEFAULT false,
  -- commit_sequence value of the change that produced this state.
  sequence      bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  user_id     text PRIMARY KEY CHECK (user_id <> ''),
  attributes  jsonb NOT NULL DEFAULT '{}'::jsonb,
  sequence    bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Committed facts waiting to be published to Kafka. Written in the same transaction as the fact;
-- the relay publishes rows in sequence order and deletes them once Kafka acknowledged them.
CREATE TABLE outbox (
  -- The DomainEvent's sequence (= events.sequence for interactions).
  sequence       bigint PRIMARY KEY,
  -- Kafka message key (domainEventKey).
  partition_key  text NOT NULL,
  -- Serialized orrery.v1.DomainEvent.
  payload        bytea NOT NULL,
  -- W3C trace context of the command that wrote the row ('' when untraced), so the event's trace
  -- continues through the relay into the consumers.
  traceparent    text NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- Wakes the relay (LISTEN orrery_outbox) when a transaction that wrote outbox rows commits:
-- NOTIFY is delivered at commit, and not at all on rollback.
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('orrery_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
