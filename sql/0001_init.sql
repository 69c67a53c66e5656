-- 0001_init: controller hosts and domain lifecycle events.
-- vs_schema_migrations itself is created by the store driver.

CREATE TABLE hosts (
    name         text PRIMARY KEY,
    uri          text,
    version      text,
    started_at   timestamptz,
    heartbeat_at timestamptz NOT NULL
);

CREATE TABLE domain_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    host        text NOT NULL,
    domain_uuid uuid,
    domain_name text NOT NULL,
    event       text NOT NULL,
    detail      int NOT NULL DEFAULT 0
);

CREATE INDEX domain_events_domain_uuid_at_idx ON domain_events (domain_uuid, at);
