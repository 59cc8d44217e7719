-- The time limit that serving a document starts (DOMAIN.md section 4): its kind (appeal,
-- answer or evidence) and length in days, fixed at upload; NULL for none. Documents
-- uploaded before take the limit the law sets for their type.
ALTER TABLE documents ADD COLUMN time_limit TEXT;
ALTER TABLE documents ADD COLUMN time_limit_days BIGINT;
UPDATE documents SET time_limit = 'appeal', time_limit_days = 15 WHERE doc_type = 'judgment';
UPDATE documents SET time_limit = 'appeal', time_limit_days = 10 WHERE doc_type = 'ruling';
UPDATE documents SET time_limit = 'answer', time_limit_days = 15 WHERE doc_type = 'complaint_copy';

-- Holidays and make-up working days an administrator adds over the built-in calendar, in
-- the built-in calendar's line format. Each save is a new version; the latest applies and
-- the earlier ones are kept.
CREATE TABLE calendars (
    version   BIGINT PRIMARY KEY,
    body      TEXT NOT NULL,
    saved_by  TEXT NOT NULL REFERENCES users(id),
    saved_at  TEXT NOT NULL
);
