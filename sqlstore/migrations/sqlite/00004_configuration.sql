-- +goose Up
-- The account's configuration that the REST API serves: users' profiles and
-- how they are reached, teams, escalation policies, services and their
-- integrations.

ALTER TABLE users ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN job_title TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN color TEXT NOT NULL DEFAULT '';
-- When the user's license (one per role) was allocated: at creation, and
-- again at each change of role.
ALTER TABLE users ADD COLUMN license_allocated_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET license_allocated_at = created_at;

CREATE TABLE contact_methods (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type             TEXT NOT NULL,
    label            TEXT NOT NULL,
    address          TEXT NOT NULL,
    -- Phone and SMS numbers only.
    country_code     INTEGER,
    send_short_email INTEGER NOT NULL DEFAULT 0 CHECK (send_short_email IN (0, 1)),
    created_at       INTEGER NOT NULL,
    UNIQUE (user_id, type, address)
);

CREATE INDEX contact_methods_account ON contact_methods (account_id);

CREATE TABLE notification_rules (
    id                     TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id                TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_method_id      TEXT NOT NULL REFERENCES contact_methods (id) ON DELETE CASCADE,
    start_delay_in_minutes INTEGER NOT NULL,
    urgency                TEXT NOT NULL,
    created_at             INTEGER NOT NULL
);

CREATE INDEX notification_rules_user ON notification_rules (user_id);
CREATE INDEX notification_rules_contact_method ON notification_rules (contact_method_id);

CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    default_role TEXT NOT NULL DEFAULT 'manager',
    created_at   INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE team_members (
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- observer, responder or manager.
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE escalation_policies (
    id                            TEXT PRIMARY KEY,
    account_id                    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                          TEXT NOT NULL,
    description                   TEXT NOT NULL DEFAULT '',
    num_loops                     INTEGER NOT NULL DEFAULT 0,
    on_call_handoff_notifications TEXT NOT NULL DEFAULT 'if_has_services',
    created_at                    INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

-- The rules of a policy, in order (position 0 is the first).
CREATE TABLE escalation_rules (
    id                          TEXT PRIMARY KEY,
    account_id                  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    policy_id                   TEXT NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    position                    INTEGER NOT NULL,
    escalation_delay_in_minutes INTEGER NOT NULL,
    -- assign_to_everyone or round_robin.
    assignment_strategy         TEXT NOT NULL DEFAULT 'assign_to_everyone',
    UNIQUE (policy_id, position)
);

-- The targets of a rule, in order. Users are the only targets until
-- schedules exist; a user cannot be removed while a rule still names them.
CREATE TABLE escalation_rule_targets (
    rule_id     TEXT NOT NULL REFERENCES escalation_rules (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    target_type TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id),
    PRIMARY KEY (rule_id, position)
);

CREATE INDEX escalation_rule_targets_user ON escalation_rule_targets (user_id);

CREATE TABLE escalation_policy_teams (
    policy_id TEXT NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (policy_id, team_id)
);

CREATE INDEX escalation_policy_teams_team ON escalation_policy_teams (team_id);

CREATE TABLE services (
    id                                  TEXT PRIMARY KEY,
    account_id                          TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                                TEXT NOT NULL,
    description                         TEXT NOT NULL DEFAULT '',
    status                              TEXT NOT NULL,
    -- A policy used by a service cannot be deleted.
    escalation_policy_id                TEXT NOT NULL REFERENCES escalation_policies (id),
    -- Seconds; NULL is off.
    acknowledgement_timeout             INTEGER,
    auto_resolve_timeout                INTEGER,
    alert_creation                      TEXT NOT NULL,
    -- PagerDuty's JSON objects, kept as the client gave them once validated.
    alert_grouping_parameters           TEXT NOT NULL,
    auto_pause_notifications_parameters TEXT NOT NULL,
    incident_urgency_rule               TEXT NOT NULL,
    last_incident_at                    INTEGER,
    created_at                          INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE INDEX services_escalation_policy ON services (escalation_policy_id);

CREATE TABLE integrations (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    service_id      TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    type            TEXT NOT NULL,
    vendor_id       TEXT NOT NULL DEFAULT '',
    -- The Events API routing key: 32 lower-case hex characters, stored as it
    -- is (DESIGN §3) since it is shown in full on the service.
    integration_key TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL
);

CREATE INDEX integrations_service ON integrations (service_id);
