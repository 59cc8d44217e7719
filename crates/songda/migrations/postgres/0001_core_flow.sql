-- The core service flow: accounts, courts, cases, parties and their consent, documents,
-- services, policy decisions, evidence and the notification outbox.
-- PostgreSQL version of sqlite/0001_core_flow.sql: the same tables, columns and rules.
-- Ids are UUID text; times are RFC 3339 UTC text with microseconds (fixed width, so text
-- order is time order); integers are BIGINT. Append-only: never edit this file once applied; add 0002_... instead.

CREATE TABLE courts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- NULL: regime chosen by dispatch date; otherwise a fixed regime id such as CPL2017-A87.
    regime      TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id                 TEXT PRIMARY KEY,
    role               TEXT NOT NULL CHECK (role IN ('admin', 'clerk', 'party')),
    name               TEXT NOT NULL,
    -- Staff log in with a login name; parties with phone or email.
    login              TEXT UNIQUE,
    phone              TEXT UNIQUE,
    email              TEXT UNIQUE,
    password_hash      TEXT NOT NULL,
    phone_verified_at  TEXT,
    court_id           TEXT REFERENCES courts(id),
    created_at         TEXT NOT NULL,
    CHECK (role <> 'clerk' OR court_id IS NOT NULL)
);

-- Bearer tokens and browser sessions; only a SHA-256 of the token is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    kind        TEXT NOT NULL CHECK (kind IN ('api', 'browser')),
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- One pending phone verification code per phone, stored as an HMAC.
CREATE TABLE phone_codes (
    phone       TEXT PRIMARY KEY,
    code_hmac   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    sent_at     TEXT NOT NULL
);

-- Fixed-window counters for rate limits (wrong codes, logins, resends).
CREATE TABLE rate_limits (
    key           TEXT PRIMARY KEY,
    window_start  TEXT NOT NULL,
    count         BIGINT NOT NULL
);

-- Login and authentication log (Online Litigation Rules Art. 7; Evidence Provisions Art. 14).
CREATE TABLE auth_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    user_id     TEXT,
    login       TEXT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL
);

CREATE TABLE cases (
    id           TEXT PRIMARY KEY,
    court_id     TEXT NOT NULL REFERENCES courts(id),
    -- As the clerk wrote it; case_key is the normalised form used for look-up.
    case_number  TEXT NOT NULL,
    case_key     TEXT NOT NULL,
    title        TEXT NOT NULL,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   TEXT NOT NULL,
    UNIQUE (court_id, case_key)
);
CREATE INDEX cases_key ON cases(case_key);

CREATE TABLE parties (
    id                 TEXT PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases(id),
    name               TEXT NOT NULL,
    role               TEXT NOT NULL,
    phone              TEXT NOT NULL,
    email              TEXT,
    binding_code_hmac  TEXT NOT NULL UNIQUE,
    bound_user_id      TEXT REFERENCES users(id),
    bound_at           TEXT,
    created_by         TEXT NOT NULL REFERENCES users(id),
    created_at         TEXT NOT NULL
);
CREATE INDEX parties_case ON parties(case_id);
CREATE INDEX parties_user ON parties(bound_user_id);

-- Address confirmations, versioned and append-only: the latest version of a party is its
-- current state; a withdrawal is a version of its own and works for the future only.
CREATE TABLE consents (
    party_id        TEXT NOT NULL REFERENCES parties(id),
    version         BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('confirm', 'withdraw')),
    basis           TEXT,
    channels        TEXT NOT NULL,
    phone           TEXT,
    email           TEXT,
    provenance      TEXT NOT NULL,
    notice_version  TEXT,
    recorded_by     TEXT NOT NULL REFERENCES users(id),
    recorded_at     TEXT NOT NULL,
    PRIMARY KEY (party_id, version)
);

CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases(id),
    title        TEXT NOT NULL,
    doc_type     TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    page_count   BIGINT NOT NULL,
    uploaded_by  TEXT NOT NULL REFERENCES users(id),
    uploaded_at  TEXT NOT NULL
);
CREATE INDEX documents_case ON documents(case_id);

CREATE TABLE services (
    id               TEXT PRIMARY KEY,
    case_id          TEXT NOT NULL REFERENCES cases(id),
    party_id         TEXT NOT NULL REFERENCES parties(id),
    stage            TEXT NOT NULL,
    regime           TEXT NOT NULL,
    provenance       TEXT NOT NULL,
    consent_basis    TEXT NOT NULL,
    consent_version  BIGINT NOT NULL,
    deposited_at     TEXT NOT NULL,
    served_at        TEXT,
    service_rule     TEXT,
    first_viewed_at  TEXT,
    signed_at        TEXT,
    refused_at       TEXT,
    refusal_reason   TEXT,
    refusal_note     TEXT,
    created_by       TEXT NOT NULL REFERENCES users(id),
    created_at       TEXT NOT NULL
);
CREATE INDEX services_case ON services(case_id);
CREATE INDEX services_party ON services(party_id);

CREATE TABLE service_documents (
    service_id   TEXT NOT NULL REFERENCES services(id),
    document_id  TEXT NOT NULL REFERENCES documents(id),
    position     BIGINT NOT NULL,
    PRIMARY KEY (service_id, document_id)
);

-- Every policy decision, refusals included, with the regime it was made under.
CREATE TABLE policy_decisions (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id),
    party_id      TEXT NOT NULL REFERENCES parties(id),
    document_ids  TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('permitted', 'refused')),
    regime        TEXT,
    reason_code   TEXT,
    explanation   TEXT NOT NULL,
    service_id    TEXT REFERENCES services(id),
    decided_by    TEXT NOT NULL REFERENCES users(id),
    decided_at    TEXT NOT NULL
);
CREATE INDEX policy_decisions_case ON policy_decisions(case_id);

-- The evidence log: one row per event, in one total order (seq). body is the event JSON.
-- seq is assigned by the appender under a transaction-scoped advisory lock, so that seq
-- order is commit order (a sequence would hand out numbers that commit out of order).
CREATE TABLE evidence (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    event_type  TEXT NOT NULL,
    at          TEXT NOT NULL,
    case_id     TEXT,
    service_id  TEXT,
    body        TEXT NOT NULL
);
CREATE INDEX evidence_service ON evidence(service_id, seq);
CREATE INDEX evidence_case ON evidence(case_id, seq);

-- Notifications queued in the transaction of the fact they report; the worker sends them.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    purpose          TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT,
    -- The text as stored and shown; a one-time code appears only as {{code}}.
    body             TEXT NOT NULL,
    -- The one-time code substituted at send time; erased once the message is accepted.
    secret           TEXT,
    case_id          TEXT,
    service_id       TEXT,
    party_id         TEXT,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_until      TEXT,
    last_error       TEXT,
    gateway_ref      TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
