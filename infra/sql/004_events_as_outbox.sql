-- The event store is its own outbox: interactions are no longer copied into `outbox` (which now
-- holds catalog and privacy facts only); the relay publishes both in sequence order from a durable
-- position. That halves what an append writes (one row, not two, and no outbox delete later).
--
-- Why a position is safe: every transaction that allocates commit_sequence values holds the
-- commit-order lock (libs/store lockCommitOrder) until it has committed, so sequences become
-- visible in increasing order and no row can ever appear below a position the relay has passed.

-- Trace context of the command that stored the event ('' when untraced), as outbox rows carry it.
ALTER TABLE events ADD COLUMN traceparent text NOT NULL DEFAULT '';

-- How far the relay has published (Kafka acknowledged): every fact with sequence <= published_through.
CREATE TABLE relay_position (
  singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  published_through  bigint NOT NULL
);

-- Start just below the oldest fact not yet published: the oldest outbox row when there is one
-- (events after it may be published a second time, which at-least-once delivery allows: consumers
-- dedupe by event id), else everything allocated so far.
INSERT INTO relay_position (published_through)
SELECT COALESCE((SELECT min(sequence) - 1 FROM outbox), (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM commit_sequence));

-- Interactions waiting in the outbox are published from the events table from now on.
DELETE FROM outbox USING events WHERE outbox.sequence = events.sequence;

-- Appends wake the relay like outbox inserts do (NOTIFY is delivered at commit, not on rollback).
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
