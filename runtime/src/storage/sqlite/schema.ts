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
  labels      TEXT NOT NULL,           -- JSON, names sorted
  first_ts    INTEGER,                 -- time span of its entries in ms, for metadata pruning
  last_ts     INTEGER
);

-- seq orders entries with equal timestamps by arrival and backs cursors and FTS.
-- (stream_id, ts, hash) is the deterministic record id (docs/architecture.md §3): a replayed entry is
-- ignored as a duplicate. The same unique index serves reads by stream and time; it grows
-- at its end as time moves on, where a random id column would cost a random B-tree insert.
CREATE TABLE IF NOT EXISTS logs (
  seq       INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL REFERENCES streams(id),
  ts        INTEGER NOT NULL,           -- ns since epoch
  hash      INTEGER NOT NULL,           -- xxHash64 of the message, signed
  message   TEXT    NOT NULL,
  fields    TEXT,                       -- JSON object, NULL when empty
  UNIQUE (stream_id, ts, hash)
);

CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(message, content='logs', content_rowid='seq');

CREATE TABLE IF NOT EXISTS series (
  id          INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  labels      TEXT NOT NULL,            -- JSON including __name__, names sorted
  first_ts    INTEGER,                  -- time span of its samples in ms
  last_ts     INTEGER
);

-- Keyed by (series, timestamp): a replayed sample overwrites itself.
CREATE TABLE IF NOT EXISTS samples (
  series_id INTEGER NOT NULL,
  ts        INTEGER NOT NULL,           -- ms since epoch
  value     REAL,                       -- NULL stands for NaN (SQLite stores NaN as NULL), an 8-byte BLOB for the staleness marker
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

-- Each distinct (type, help, unit) a family was sent with, and when it last came: few rows
-- (one per family and variant), kept as long as the family's samples.
CREATE TABLE IF NOT EXISTS metric_metadata (
  metric    TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  help      TEXT    NOT NULL,
  unit      TEXT    NOT NULL,
  last_seen INTEGER NOT NULL,           -- ms since epoch
  PRIMARY KEY (metric, type, help, unit)
) WITHOUT ROWID;
`;
