-- 0004_forecasts: the forecasting feedback loop.
--
-- virt-shadowd forecasts every domain's CPU (vCPU-equivalents) and memory
-- (MiB) on a 5-minute grid, scores each forecast once its slot has been
-- observed, keeps a rolling error per domain and resource, and records the
-- observations that fell outside the 99 % prediction interval.

-- One row per domain, resource and slot: the latest forecast made for it.
-- A slot is re-forecast every cycle as it approaches, so rows are rewritten
-- often: the free space (fillfactor) keeps those rewrites HOT, on their own
-- page and out of the indexes (no indexed column ever changes).
CREATE TABLE forecasts (
    domain_uuid uuid NOT NULL,
    resource    text NOT NULL CHECK (resource IN ('cpu', 'memory')),
    at          timestamptz NOT NULL,       -- start of the 5-minute slot
    domain_name text NOT NULL,
    host        text NOT NULL,
    made_at     timestamptz NOT NULL,
    model       text NOT NULL,
    point       double precision NOT NULL,
    lower90     double precision,           -- NULL: no calibrated interval yet
    upper90     double precision,
    lower99     double precision,
    upper99     double precision,
    actual      double precision,           -- NULL until the slot is observed
    PRIMARY KEY (domain_uuid, resource, at)
) WITH (fillfactor = 70);

-- The primary key serves a domain's latest forecasts.  Slots are inserted
-- in time order, so a BRIN on them stays tight for retention and
-- time-bounded scans.  Names resolve through their own (deduplicated,
-- tiny) btree, touched only when a slot is first forecast.
CREATE INDEX forecasts_at_idx ON forecasts USING brin (at);
CREATE INDEX forecasts_domain_name_idx ON forecasts (domain_name);

-- The rolling score of each domain's forecasts, one row per resource.
CREATE TABLE forecast_errors (
    domain_uuid uuid NOT NULL,
    resource    text NOT NULL CHECK (resource IN ('cpu', 'memory')),
    domain_name text NOT NULL,
    model       text NOT NULL,
    mae         double precision,   -- mean absolute error, in the resource's unit
    mase        double precision,   -- MAE over the seasonal naive forecast's MAE
    coverage90  double precision,   -- fraction of actuals inside the 90 % interval
    n           int NOT NULL,       -- forecasts scored
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (domain_uuid, resource)
);

-- Observations outside the 99 % prediction interval.
CREATE TABLE anomalies (
    id          bigserial PRIMARY KEY,
    domain_uuid uuid NOT NULL,
    domain_name text NOT NULL,
    host        text NOT NULL,
    resource    text NOT NULL CHECK (resource IN ('cpu', 'memory')),
    at          timestamptz NOT NULL,
    value       double precision NOT NULL,
    lower99     double precision NOT NULL,
    upper99     double precision NOT NULL,
    model       text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- One anomaly per domain, time and resource, so a write retried after an
-- ambiguous commit records nothing twice; the same index reads a domain's
-- anomalies newest first.  The one on time serves "since T" and retention.
CREATE UNIQUE INDEX anomalies_domain_at_idx ON anomalies (domain_uuid, at, resource);
CREATE INDEX anomalies_at_idx ON anomalies (at);

-- Retention, run by sample maintenance: forecasts go with the raw samples
-- (before @forecasts_before), scores and anomalies with the rollups
-- (before @history_before).  NULL keeps.  Returns the rows deleted.
CREATE FUNCTION vs_forecasts_expire(forecasts_before timestamptz,
                                    history_before timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n     bigint;
    total bigint := 0;
BEGIN
    IF forecasts_before IS NOT NULL THEN
        DELETE FROM forecasts WHERE at < forecasts_before;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END IF;
    IF history_before IS NOT NULL THEN
        DELETE FROM anomalies WHERE at < history_before;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
        -- a domain not scored for that long is gone
        DELETE FROM forecast_errors WHERE updated_at < history_before;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END IF;
    RETURN total;
END
$$;
