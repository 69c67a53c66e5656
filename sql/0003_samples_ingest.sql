-- 0003_samples_ingest: cheaper rows for single-writer COPY.
--
-- Per-domain btrees only on days that are over.
-- A btree on domain_uuid costs single-writer COPY about 40% of its rate
-- (bench/vsbenchingest): every row descends to a random leaf and rewrites a
-- posting list.  So the day being written keeps only the BRIN on time (a
-- per-domain query there reads that day's recent block ranges and filters),
-- and once a day is over, maintenance builds a (domain_uuid, at) btree on
-- its partition in one sorted pass: compact, and exact for history reads.
-- Rows that arrive late for a closed day (spool replays) still go in, and
-- are indexed as they do.

DROP INDEX samples_domain_uuid_idx;

-- Index the daily partitions of days before @today that lack it; returns
-- how many it indexed.
CREATE FUNCTION vs_samples_index_closed(today date)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    part    text;
    indexed int := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(8535495094727852405);
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'samples'::regclass
          AND c.relname ~ '^samples_[0-9]{8}$'
          AND to_date(substr(c.relname, 9), 'YYYYMMDD') < today
          AND to_regclass(quote_ident(c.relname || '_domain_at_idx')) IS NULL
        ORDER BY c.relname
    LOOP
        EXECUTE format('CREATE INDEX %I ON %I (domain_uuid, at)', part || '_domain_at_idx', part);
        indexed := indexed + 1;
    END LOOP;
    RETURN indexed;
END
$$;

DO $$ BEGIN PERFORM vs_samples_index_closed((now() AT TIME ZONE 'UTC')::date); END $$;

-- Workload labels rarely change, yet every sample carries them: parsing the
-- same jsonb on every row cost COPY about a quarter of its rate.  A sample
-- now points at its label set; the writer resolves each distinct set once
-- per connection.  No foreign key: it would cost a lookup per row, and
-- sets are never deleted.
CREATE TABLE sample_label_sets (
    id     int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    labels jsonb NOT NULL UNIQUE
);

ALTER TABLE samples ADD COLUMN label_set int;
INSERT INTO sample_label_sets (labels)
    SELECT DISTINCT labels FROM samples WHERE labels IS NOT NULL;
UPDATE samples s SET label_set = l.id
    FROM sample_label_sets l WHERE s.labels = l.labels;
ALTER TABLE samples DROP COLUMN labels;
