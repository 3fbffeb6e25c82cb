/**
 * The embedded store's schema. Streams and series are few (low-cardinality labels), so
 * their label sets are also kept in memory for matching; entries and samples are many.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS streams (
  id          INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  labels      TEXT NOT NULL            -- JSON, names sorted
);

-- seq orders entries with equal timestamps by arrival and backs cursors and FTS.
-- record_id is the deterministic content id (DESIGN §3): a replay is ignored as a duplicate.
CREATE TABLE IF NOT EXISTS logs (
  seq       INTEGER PRIMARY KEY,
  record_id BLOB    NOT NULL UNIQUE,
  stream_id INTEGER NOT NULL REFERENCES streams(id),
  ts        INTEGER NOT NULL,           -- ns since epoch
  message   TEXT    NOT NULL,
  fields    TEXT                        -- JSON object, NULL when empty
);
CREATE INDEX IF NOT EXISTS logs_by_stream_time ON logs (stream_id, ts);

CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(message, content='logs', content_rowid='seq');

CREATE TABLE IF NOT EXISTS series (
  id          INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  labels      TEXT NOT NULL             -- JSON including __name__, names sorted
);

-- Keyed by (series, timestamp): a replayed sample overwrites itself.
CREATE TABLE IF NOT EXISTS samples (
  series_id INTEGER NOT NULL,
  ts        INTEGER NOT NULL,           -- ms since epoch
  value     REAL,                       -- NULL stands for NaN (SQLite stores NaN as NULL)
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
`;
