-- +goose Up
-- The Events API and what it opens: the event log, alerts, incidents, their
-- log entries and notes, and change events.

-- The event log: every event the Events API answered 2xx, in the order it
-- was committed. Append-only and without any secondary index, which would
-- cost the group-commit writer 4-5 times its speed (DESIGN §9); no foreign
-- keys either, so that deleting an integration never scans it. The applier
-- reads it in seq order after its cursor.
CREATE TABLE events (
    seq            BIGSERIAL PRIMARY KEY,
    account_id     TEXT NOT NULL,
    service_id     TEXT NOT NULL,
    integration_id TEXT NOT NULL,
    -- alert or change.
    kind           TEXT NOT NULL,
    -- v1 or v2: the door it came through.
    api            TEXT NOT NULL,
    -- trigger, acknowledge or resolve; '' for a change.
    action         TEXT NOT NULL,
    dedup_key      TEXT NOT NULL,
    received_at    BIGINT NOT NULL,
    -- The rest of the event, JSON (see sqlstore/events.go).
    body           TEXT NOT NULL
);

-- How far the event log has been applied: the seq of the last event whose
-- effects are committed, moved in the same transaction as those effects.
CREATE TABLE event_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);

INSERT INTO event_cursor (name, seq) VALUES ('events', 0);

-- The last incident number given in each account.
CREATE TABLE incident_numbers (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    last_number BIGINT NOT NULL
);

-- Deleting a service deletes its incidents, and with them their alerts,
-- log entries, notes and assignments.
CREATE TABLE incidents (
    id                        TEXT PRIMARY KEY,
    account_id                TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    incident_number           BIGINT NOT NULL,
    service_id                TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- The service's policy when the incident was opened; kept as it was.
    escalation_policy_id      TEXT NOT NULL,
    title                     TEXT NOT NULL,
    status                    TEXT NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved')),
    urgency                   TEXT NOT NULL CHECK (urgency IN ('high', 'low')),
    -- The dedup key of the alert that opened it.
    incident_key              TEXT NOT NULL,
    assigned_via              TEXT NOT NULL,
    -- Who last changed the status: a reference type (service_reference,
    -- user_reference…) and ID.
    last_status_change_by_type TEXT NOT NULL,
    last_status_change_by_id   TEXT NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL,
    last_status_change_at     BIGINT NOT NULL,
    resolved_at               BIGINT,
    UNIQUE (account_id, incident_number)
);

CREATE INDEX incidents_account_created ON incidents (account_id, created_at);
CREATE INDEX incidents_service_status ON incidents (service_id, status);
CREATE INDEX incidents_service_key ON incidents (service_id, incident_key);

-- The users an incident is assigned to, in order; none once resolved.
CREATE TABLE incident_assignments (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, position)
);

CREATE INDEX incident_assignments_user ON incident_assignments (user_id);

-- Who acknowledged an incident since it was last triggered; none once
-- resolved.
CREATE TABLE incident_acknowledgements (
    incident_id       TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    position          INTEGER NOT NULL,
    acknowledger_type TEXT NOT NULL,
    acknowledger_id   TEXT NOT NULL,
    at                BIGINT NOT NULL,
    PRIMARY KEY (incident_id, position)
);

CREATE TABLE alerts (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    service_id     TEXT NOT NULL,
    -- The integration it came through; it may have been deleted since.
    integration_id TEXT NOT NULL,
    incident_id    TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    alert_key      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('triggered', 'resolved')),
    severity       TEXT NOT NULL,
    summary        TEXT NOT NULL,
    -- The alert's body (details, contexts, the trigger's CEF fields), JSON.
    body           TEXT NOT NULL,
    -- The seq of the trigger event that opened it.
    event_seq      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    resolved_at    BIGINT
);

CREATE INDEX alerts_incident ON alerts (incident_id);

-- The alerts not yet resolved, by integration and dedup key: what every
-- alert event looks up. Small, since resolving an alert removes its row.
CREATE TABLE open_alerts (
    integration_id TEXT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    dedup_key      TEXT NOT NULL,
    alert_id       TEXT NOT NULL,
    incident_id    TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    PRIMARY KEY (integration_id, dedup_key)
);

CREATE INDEX open_alerts_incident ON open_alerts (incident_id);

-- The steps of incidents' lives, ordered by seq within the account.
CREATE TABLE log_entries (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    service_id  TEXT NOT NULL,
    type        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    agent_type  TEXT NOT NULL,
    agent_id    TEXT NOT NULL,
    -- The channel, note, assignees and contexts, JSON (see
    -- sqlstore/incidents.go).
    details     TEXT NOT NULL
);

CREATE INDEX log_entries_incident ON log_entries (incident_id, seq);
CREATE INDEX log_entries_account ON log_entries (account_id, seq);

CREATE TABLE incident_notes (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    -- The user who wrote it; NULL once that user is removed.
    user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX incident_notes_incident ON incident_notes (incident_id, created_at);
CREATE INDEX incident_notes_user ON incident_notes (user_id);

CREATE TABLE change_events (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    service_id     TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL,
    summary        TEXT NOT NULL,
    source         TEXT NOT NULL,
    -- When the change happened: as the tool said, or when it arrived.
    occurred_at    BIGINT NOT NULL,
    -- custom_details, links and images, JSON.
    details        TEXT NOT NULL,
    event_seq      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE INDEX change_events_account_occurred ON change_events (account_id, occurred_at);
CREATE INDEX change_events_service_occurred ON change_events (service_id, occurred_at);
