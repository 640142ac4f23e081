-- Catalog and privacy commands (DeleteItem, ForgetUser).

-- Items removed from the catalog by DeleteItem: the row leaves `items`, its tombstone stays here
-- (the commit_sequence of the ItemDeleted event), so readers of the event store (the trainer) can
-- leave the item out. An UpsertItems of the same id later re-adds it and removes the tombstone.
CREATE TABLE deleted_items (
  item_id     text PRIMARY KEY CHECK (item_id <> ''),
  sequence    bigint NOT NULL,
  deleted_at  timestamptz NOT NULL DEFAULT now()
);

-- ForgetUser is the one exception to "events are append-only": it deletes every event of the user
-- (events_user_sequence serves that delete) together with their outbox rows not yet published.
COMMENT ON TABLE events IS 'Append-only interaction log; rows are removed only by ForgetUser (erasure on request).';
