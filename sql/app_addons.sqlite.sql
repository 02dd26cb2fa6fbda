-- libvalkeyaddon: the app_addons table for SQLite (the embedded default).
-- The library runs this text on open (it is compiled in from this file), in
-- one transaction; it is idempotent. Installed under $(datadir)/libvalkeyaddon/
-- for your own migration tool; sql/app_addons.postgres.sql is the same table
-- for PostgreSQL.
--
-- One row per (app_id, addon_type): the UNIQUE constraint is what makes
-- INSERT ... ON CONFLICT (app_id, addon_type) DO UPDATE an upsert, and gives
-- the index that get and the ordered list use. Text compares byte-wise
-- (BINARY), the order every backend lists in. Timestamps are Unix time in
-- milliseconds, set by the library: created_at once, updated_at on every write.
CREATE TABLE IF NOT EXISTS app_addons (
    app_id         TEXT    NOT NULL,
    addon_type     TEXT    NOT NULL,
    tenant_id      TEXT    NOT NULL DEFAULT '',
    plan           TEXT    NOT NULL DEFAULT '',
    status         TEXT    NOT NULL CHECK (status IN ('creating', 'ready', 'failed')),
    status_message TEXT    NOT NULL DEFAULT '',
    resource_name  TEXT    NOT NULL DEFAULT '',
    namespace      TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (app_id, addon_type)
);
