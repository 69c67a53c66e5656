-- 0002_samples: telemetry samples, their rollups and workload labels.
-- Needs PostgreSQL 14 or later (date_bin).
--
-- Days are UTC days whatever the session's TimeZone: partition samples_20240131
-- holds [2024-01-31 00:00+00, 2024-02-01 00:00+00).

CREATE TABLE samples (
    at              timestamptz NOT NULL,   -- end of the interval
    domain_uuid     uuid NOT NULL,
    domain_name     text NOT NULL,
    host            text NOT NULL,
    interval_s      real,
    cpu_vcpus       real,
    cpu_per_vcpu    real,
    vcpus           smallint,
    vcpus_max       smallint,
    mem_used_kib    bigint,
    mem_used_is_rss boolean,
    mem_current_kib bigint,
    mem_max_kib     bigint,
    disk_rd_bps     real,
    disk_wr_bps     real,
    disk_rd_iops    real,
    disk_wr_iops    real,
    net_rx_bps      real,
    net_tx_bps      real,
    labels          jsonb
) PARTITION BY RANGE (at);

-- A sample outside the created days is kept here, never rejected;
-- vs_samples_ensure_partitions moves it out when its day is created.
CREATE TABLE samples_default PARTITION OF samples DEFAULT;

-- BRIN for time ranges (tiny, rows arrive in time order); the btree makes
-- per-domain queries cheap at a measured ingest cost (bench/vsbenchingest).
-- It is on domain_uuid alone: deduplicated, it is about 8x smaller than
-- one on (domain_uuid, at) and costs COPY about 11% less CPU; a domain's
-- time range is then a BitmapAnd with the BRIN (a few ms for an hour of
-- one domain in a million-row partition, against about 1 ms).
-- autosummarize: the last hour's block ranges get summarised as they fill,
-- so per-domain queries over recent data keep a tight BitmapAnd.
CREATE INDEX samples_at_idx ON samples USING brin (at) WITH (autosummarize = on);
CREATE INDEX samples_domain_uuid_idx ON samples (domain_uuid);

-- Ids of stored batches, so a replayed batch is stored once.  first_at and
-- last_at bound the batch's samples: maintenance re-rolls the buckets a
-- late batch touched.
CREATE TABLE sample_batches (
    id        bigint PRIMARY KEY,
    stored_at timestamptz DEFAULT now(),
    rollup_s  int,
    first_at  timestamptz,
    last_at   timestamptz
);

CREATE INDEX sample_batches_stored_at_idx ON sample_batches (stored_at);

-- Rollups: bucket is the start of the bucket; cpu is cpu_vcpus (vCPU
-- equivalents), mem_used is mem_used_kib.  n counts the samples behind a
-- row (a 5-minute sample the controller rolled up itself counts 1).
CREATE TABLE samples_5m (
    bucket          timestamptz NOT NULL,
    domain_uuid     uuid NOT NULL,
    domain_name     text NOT NULL,
    n               int NOT NULL,
    cpu_avg         real,
    cpu_max         real,
    cpu_p95         real,
    mem_used_avg    bigint,
    mem_used_max    bigint,
    mem_used_p95    bigint,
    mem_current_avg bigint,
    disk_rd_bps_avg real,
    disk_wr_bps_avg real,
    net_rx_bps_avg  real,
    net_tx_bps_avg  real,
    PRIMARY KEY (domain_uuid, bucket)
);

-- Averages are weighted by n; p95 is the largest 5-minute p95 of the hour,
-- an upper bound of the true p95 (the raw samples may be gone by then).
CREATE TABLE samples_1h (LIKE samples_5m INCLUDING ALL);

CREATE INDEX samples_5m_bucket_idx ON samples_5m USING brin (bucket);
CREATE INDEX samples_1h_bucket_idx ON samples_1h USING brin (bucket);

-- Maintenance progress: 5-minute buckets before rolled_until are done;
-- batches stored before batches_until have been looked at.
CREATE TABLE sample_rollup_state (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    rolled_until  timestamptz,
    batches_until timestamptz
);
INSERT INTO sample_rollup_state DEFAULT VALUES;

CREATE TABLE domain_labels (
    domain_uuid uuid PRIMARY KEY,
    domain_name text,
    labels      jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Create the daily partitions of [from_day, from_day + days) that are
-- missing; returns how many it created.  Rows of such a day that already
-- sit in the default partition move into the new partition.
CREATE FUNCTION vs_samples_ensure_partitions(from_day date, days int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    d       date;
    lo      timestamptz;
    hi      timestamptz;
    part    text;
    created int := 0;
BEGIN
    -- Concurrent maintainers would race on the same names.
    PERFORM pg_advisory_xact_lock(8535495094727852405);
    FOR i IN 0 .. days - 1 LOOP
        d := from_day + i;
        part := 'samples_' || to_char(d, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
        lo := d::timestamp AT TIME ZONE 'UTC';
        hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
        -- Attaching scans the default partition and fails on rows of the
        -- new range: move them first.
        EXECUTE format('CREATE TABLE %I (LIKE samples INCLUDING DEFAULTS)', part);
        EXECUTE format('WITH moved AS (DELETE FROM samples_default'
                       ' WHERE at >= $1 AND at < $2 RETURNING *)'
                       ' INSERT INTO %I SELECT * FROM moved', part)
            USING lo, hi;
        EXECUTE format('ALTER TABLE samples ATTACH PARTITION %I'
                       ' FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drop the daily partitions of days before @day and delete older rows of
-- the default partition; returns how many partitions it dropped.
CREATE FUNCTION vs_samples_drop_before(day date)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    part    text;
    dropped int := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(8535495094727852405);
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'samples'::regclass
          AND c.relname ~ '^samples_[0-9]{8}$'
          AND to_date(substr(c.relname, 9), 'YYYYMMDD') < day
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', part);
        dropped := dropped + 1;
    END LOOP;
    DELETE FROM samples_default WHERE at < day::timestamp AT TIME ZONE 'UTC';
    RETURN dropped;
END
$$;
