-- The vector service reads the catalog changes after the last one it read every second
-- (readAvailabilityChanges in libs/models): these keep that read to the new rows.
CREATE INDEX items_sequence ON items (sequence);
CREATE INDEX deleted_items_sequence ON deleted_items (sequence);
