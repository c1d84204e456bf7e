-- Feed monitoring: where an article came from, its content hash, the day it counts for in
-- aggregates, the feeds' conditional-GET validators, and the claims on feed items.
ALTER TABLE articles ADD COLUMN feed TEXT;
ALTER TABLE articles ADD COLUMN content_hash TEXT;   -- SHA-256 of the text, hex
ALTER TABLE articles ADD COLUMN day TEXT;            -- YYYY-MM-DD: publication day, else day saved
UPDATE articles SET day = coalesce(date(published), date(created_at));
CREATE INDEX articles_content_hash ON articles (content_hash);
CREATE INDEX articles_url ON articles (url);
CREATE INDEX articles_source_day ON articles (source, day);

CREATE TABLE feeds (
    url           TEXT PRIMARY KEY,
    outlet        TEXT NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    checked_at    INTEGER NOT NULL   -- seconds since the epoch
);

-- One row per item link: 'claimed' (lease_until in epoch seconds), 'done' or 'failed'.
CREATE TABLE feed_items (
    url         TEXT PRIMARY KEY,
    outlet      TEXT NOT NULL,
    feed        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('claimed', 'done', 'failed')),
    worker      TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    article_id  INTEGER REFERENCES articles (id) ON DELETE SET NULL,
    error       TEXT
);
CREATE INDEX feed_items_state ON feed_items (state, lease_until);
