-- 0006_host_room: each controller's free room, for the others' migration
-- suggestions.
--
-- After every control interval a controller publishes what its host's
-- ledger can still grant: capacity x overcommit minus what the domains
-- hold and what is reserved for them (vCPUs; memory in KiB).  A rise
-- another host cannot serve is queued there, and the host among these
-- with room for the whole domain is suggested as a migration target.
-- Rooms older than a few control intervals are not read: that controller
-- is stopped, or its allocator is off.  NULL until first published.
ALTER TABLE hosts
    ADD COLUMN room_vcpus      double precision CHECK (room_vcpus >= 0),
    ADD COLUMN room_memory_kib double precision CHECK (room_memory_kib >= 0),
    ADD COLUMN room_at         timestamptz,
    ADD CONSTRAINT hosts_room_check
        CHECK ((room_at IS NULL) = (room_vcpus IS NULL)
               AND (room_at IS NULL) = (room_memory_kib IS NULL));
