-- The article archive: one row per saved analysis, and its span counts per technique.
CREATE TABLE articles (
    id          INTEGER PRIMARY KEY,
    created_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    source      TEXT,            -- the outlet, as given or taken from the page
    url         TEXT,
    title       TEXT,
    byline      TEXT,
    published   TEXT,            -- as the page states it
    model       TEXT    NOT NULL,
    length      INTEGER NOT NULL, -- code points
    span_count  INTEGER NOT NULL,
    density     REAL    NOT NULL, -- share of code points inside a span
    text        TEXT    NOT NULL,
    analysis    TEXT    NOT NULL  -- the Analysis JSON (docs/analysis-json.md)
);
CREATE INDEX articles_source ON articles (source, created_at);
CREATE INDEX articles_created ON articles (created_at);

CREATE TABLE article_techniques (
    technique   TEXT    NOT NULL,
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    spans       INTEGER NOT NULL,
    PRIMARY KEY (technique, article_id)
) WITHOUT ROWID;
CREATE INDEX article_techniques_article ON article_techniques (article_id);
