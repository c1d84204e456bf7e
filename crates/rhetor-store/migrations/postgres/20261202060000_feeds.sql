-- Feed monitoring; the same schema as migrations/sqlite/20261202060000_feeds.sql.
ALTER TABLE articles ADD COLUMN feed TEXT;
ALTER TABLE articles ADD COLUMN content_hash TEXT;
ALTER TABLE articles ADD COLUMN day TEXT;
UPDATE articles SET day = coalesce(substr(published, 1, 10), substr(created_at, 1, 10));
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_url ON articles (url);
CREATE INDEX articles_source_day ON articles (source, day);

CREATE TABLE feeds (
    url           TEXT PRIMARY KEY,
    outlet        TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    checked_at    BIGINT NOT NULL
);

CREATE TABLE feed_items (
    url         TEXT PRIMARY KEY,
    outlet      TEXT NOT NULL,
    feed        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'done', 'failed')),
    worker      TEXT NOT NULL,
    lease_until BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 1,
    article_id  BIGINT REFERENCES articles (id) ON DELETE SET NULL,
    error       TEXT
);
CREATE INDEX feed_items_state ON feed_items (state, lease_until);
