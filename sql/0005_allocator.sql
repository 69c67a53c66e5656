-- 0005_allocator: the predictive allocator's audit trail and hints.
--
-- Every decision on every resource of every domain is kept, "do nothing"
-- included, with the inputs that led to it, so "virt-shadow explain" can
-- tell an admin why a change happened or did not.  Hints announce demand
-- ahead of time; a change to one is NOTIFYed on channel 'vs_hint' with the
-- domain's UUID as payload, so running daemons pick it up at once.  Policy
-- lives in the domain XML, not here: the CLI notifies 'vs_policy' itself.

-- What the allocator sizes a domain for, beside each forecast: the bound
-- the forecaster's backtest chose (CPU in vCPU-equivalents, memory in
-- MiB), so "virt-shadow plan" decides as the daemon does.  NULL: none.
ALTER TABLE forecasts ADD COLUMN allocation double precision;

-- Units: vCPUs as counts, memory in KiB.  NULL doubles are unknown.
CREATE TABLE decisions (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    host        text NOT NULL,
    domain_uuid uuid NOT NULL,
    domain_name text NOT NULL,
    resource    text NOT NULL CHECK (resource IN ('cpu', 'memory')),
    current     double precision,   -- what the domain had
    wanted      double precision,   -- the raw target, before the policy
    target      double precision,   -- what it should get
    forecast    double precision,   -- point forecast at the lead
    upper       double precision,   -- the bound the target came from
    model       text,
    confidence  double precision,
    reactive    boolean NOT NULL,   -- the reactive rule decided
    hinted      boolean NOT NULL,   -- a hint raised the floor
    action      text NOT NULL
                CHECK (action IN ('none', 'grow', 'shrink', 'hold', 'queued')),
    clause      text,               -- the policy clause that bound it
    reason      text,
    outcome     text NOT NULL
                CHECK (outcome IN ('pending', 'advised', 'applied', 'failed', 'skipped')),
    error       text
);

-- "explain": one domain's decisions since T, found by UUID or by name;
-- the one on time serves every domain's since T and retention.
CREATE INDEX decisions_domain_at_idx ON decisions (domain_uuid, at);
CREATE INDEX decisions_domain_name_idx ON decisions (domain_name);
CREATE INDEX decisions_at_idx ON decisions (at);

-- Announced demand over [starts_at, ends_at).  A cancelled hint is kept
-- (with when) for the record.
CREATE TABLE hints (
    id           bigserial PRIMARY KEY,
    domain_uuid  uuid NOT NULL,
    domain_name  text NOT NULL,
    vcpus        int CHECK (vcpus > 0),
    memory_kib   bigint CHECK (memory_kib > 0),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    CONSTRAINT hints_window_check CHECK (ends_at > starts_at),
    CONSTRAINT hints_demand_check CHECK (vcpus IS NOT NULL OR memory_kib IS NOT NULL)
);

-- The daemon reads the hints not over yet; the CLI lists one domain's.
CREATE INDEX hints_open_idx ON hints (ends_at) WHERE cancelled_at IS NULL;
CREATE INDEX hints_domain_idx ON hints (domain_uuid, ends_at);

CREATE FUNCTION vs_hints_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vs_hint', NEW.domain_uuid::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER hints_notify AFTER INSERT OR UPDATE ON hints
    FOR EACH ROW EXECUTE FUNCTION vs_hints_notify();

-- Retention, run by sample maintenance with the rollups' cutoff: decisions
-- made and hints over before @before go.  NULL keeps.  Returns the rows
-- deleted.
CREATE FUNCTION vs_allocator_expire(before timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n     bigint;
    total bigint := 0;
BEGIN
    IF before IS NOT NULL THEN
        DELETE FROM decisions WHERE at < before;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
        DELETE FROM hints WHERE ends_at < before;
        GET DIAGNOSTICS n = ROW_COUNT;
        total := total + n;
    END IF;
    RETURN total;
END
$$;
