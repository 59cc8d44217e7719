-- Finding and organising served documents (issue: records).
--
-- What a service is found by: its case number, case title, court, recipient and document
-- titles, one text per service, written with the service. Chinese has no spaces between
-- words, so the index is of trigrams (pg_trgm): LIKE and ILIKE on any fragment of three or
-- more characters use it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE service_search (
    service_id  TEXT PRIMARY KEY REFERENCES services(id),
    body        TEXT NOT NULL
);
CREATE INDEX service_search_trgm ON service_search USING gin (body gin_trgm_ops);
INSERT INTO service_search (service_id, body)
SELECT s.id,
       c.case_number || ' ' || c.title || ' ' || ct.name || ' ' || p.name || ' ' ||
       COALESCE((SELECT string_agg(d.title, ' ') FROM service_documents sd
                 JOIN documents d ON d.id = sd.document_id WHERE sd.service_id = s.id), '')
FROM services s
JOIN cases c ON c.id = s.case_id
JOIN courts ct ON ct.id = c.court_id
JOIN parties p ON p.id = s.party_id;

-- Each user's own markers on what was served on them: pinned, and when first read.
CREATE TABLE service_marks (
    user_id     TEXT NOT NULL REFERENCES users(id),
    service_id  TEXT NOT NULL REFERENCES services(id),
    pinned      BIGINT NOT NULL DEFAULT 0,
    read_at     TEXT,
    PRIMARY KEY (user_id, service_id)
);

-- A user's folders; a service may be filed in several.
CREATE TABLE folders (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (user_id, name)
);
CREATE TABLE folder_services (
    folder_id   TEXT NOT NULL REFERENCES folders(id),
    service_id  TEXT NOT NULL REFERENCES services(id),
    added_at    TEXT NOT NULL,
    PRIMARY KEY (folder_id, service_id)
);
CREATE INDEX folder_services_service ON folder_services(service_id);

-- Lists count services by stage and sort them by time within a party or a case from the
-- index alone, and find failed notifications by service or case.
CREATE INDEX services_party_list ON services(party_id, stage, created_at, id);
CREATE INDEX services_case_list ON services(case_id, stage, created_at, id);
CREATE INDEX outbox_service ON outbox(service_id, status);
CREATE INDEX outbox_case ON outbox(case_id);

-- Services their recipient has opened count as read for the user bound to the recipient.
INSERT INTO service_marks (user_id, service_id, read_at)
SELECT p.bound_user_id, s.id, s.first_viewed_at
FROM services s JOIN parties p ON p.id = s.party_id
WHERE p.bound_user_id IS NOT NULL AND s.first_viewed_at IS NOT NULL;

-- Paper copies of judgments, rulings and mediation documents served electronically, which
-- a party may ask for under CPL2021-A90 (the electronic service still fixes the time); the
-- clerk closes each request with what was done.
CREATE TABLE paper_requests (
    id            TEXT PRIMARY KEY,
    service_id    TEXT NOT NULL REFERENCES services(id),
    document_id   TEXT NOT NULL REFERENCES documents(id),
    case_id       TEXT NOT NULL REFERENCES cases(id),
    requested_by  TEXT NOT NULL REFERENCES users(id),
    requested_at  TEXT NOT NULL,
    address       TEXT NOT NULL,
    note          TEXT,
    closed_by     TEXT REFERENCES users(id),
    closed_at     TEXT,
    outcome       TEXT CHECK (outcome IN ('mailed', 'handed_over', 'declined')),
    closing_note  TEXT,
    UNIQUE (service_id, document_id)
);
CREATE INDEX paper_requests_case ON paper_requests(case_id, requested_at);

-- A corrected document is a new document that names the one it corrects and is served
-- again; the served one is never changed. Versions count from 1 along the chain.
ALTER TABLE documents ADD COLUMN corrects_id TEXT REFERENCES documents(id);
ALTER TABLE documents ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX documents_corrects ON documents(corrects_id);
