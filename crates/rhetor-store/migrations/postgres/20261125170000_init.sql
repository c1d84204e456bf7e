-- The article archive: one row per saved analysis, and its span counts per technique.
-- The same schema as migrations/sqlite/20261125170000_init.sql, in PostgreSQL's dialect.
CREATE TABLE articles (
    id          BIGSERIAL PRIMARY KEY,
    created_at  TEXT    NOT NULL
                DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    source      TEXT,
    url         TEXT,
    title       TEXT,
    byline      TEXT,
    published   TEXT,
    model       TEXT    NOT NULL,
    length      BIGINT  NOT NULL,
    span_count  BIGINT  NOT NULL,
    density     DOUBLE PRECISION NOT NULL,
    text        TEXT    NOT NULL,
    analysis    TEXT    NOT NULL
);
CREATE INDEX articles_source ON articles (source, created_at);
CREATE INDEX articles_created ON articles (created_at);

CREATE TABLE article_techniques (
    technique   TEXT    NOT NULL,
    article_id  BIGINT  NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    spans       BIGINT  NOT NULL,
    PRIMARY KEY (technique, article_id)
);
CREATE INDEX article_techniques_article ON article_techniques (article_id);
