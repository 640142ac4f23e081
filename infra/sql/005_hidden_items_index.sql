-- The vector service re-reads the items no search may return (hidden ones and deleted_items) every
-- second: a partial index keeps that read to the hidden items instead of a scan of the catalog.
CREATE INDEX items_hidden ON items (item_id) WHERE hidden;
