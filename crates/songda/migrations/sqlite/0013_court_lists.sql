-- A court's lists and searches run over its every service: tens of thousands of matches
-- for a common word. Reading each match's row in `services` (by its text key) costs more
-- than the search, so the search row carries what the court's lists filter, count and
-- sort by: court, case, stage and times. The stage is written with the service's, in the
-- same transaction.
-- A change of stage leaves the text, and its index, alone.
DROP TRIGGER service_search_au;
CREATE TRIGGER service_search_au AFTER UPDATE OF body ON service_search BEGIN
    INSERT INTO service_search_fts (service_search_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO service_search_fts (rowid, body) VALUES (new.id, new.body);
END;

ALTER TABLE service_search ADD COLUMN court_id TEXT NOT NULL DEFAULT '';
ALTER TABLE service_search ADD COLUMN case_id TEXT NOT NULL DEFAULT '';
ALTER TABLE service_search ADD COLUMN stage TEXT NOT NULL DEFAULT '';
ALTER TABLE service_search ADD COLUMN deposited_at TEXT NOT NULL DEFAULT '';
ALTER TABLE service_search ADD COLUMN created_at TEXT NOT NULL DEFAULT '';
UPDATE service_search SET (court_id, case_id, stage, deposited_at, created_at) =
    (SELECT c.court_id, s.case_id, s.stage, s.deposited_at, s.created_at
     FROM services s JOIN cases c ON c.id = s.case_id
     WHERE s.id = service_search.service_id);

-- A court's services by stage, pending ones by time of deposit, from the index alone; and
-- one case's.
CREATE INDEX service_search_court
    ON service_search(court_id, stage, deposited_at, created_at, service_id);
CREATE INDEX service_search_case ON service_search(case_id, stage, created_at);

-- Two-character words (surnames and given names, 判决, 裁定) are the commonest Chinese
-- searches and too short for trigrams. A second index holds, for each search row, the
-- distinct pairs of adjacent characters of its text, space-separated, as words: a
-- two-character term is then one lookup. (A pair with a space or punctuation in it indexes
-- as a single character, which no two-character term matches.) The pairs are not stored,
-- only indexed, under the search row's number.
CREATE VIRTUAL TABLE service_search_pairs USING fts5(
    pairs, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0'
);
INSERT INTO service_search_pairs (rowid, pairs)
SELECT id, COALESCE((
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < length(service_search.body))
    SELECT group_concat(p, ' ') FROM (SELECT DISTINCT substr(service_search.body, i, 2) AS p FROM n)), '')
FROM service_search;
CREATE TRIGGER service_search_pairs_ad AFTER DELETE ON service_search BEGIN
    DELETE FROM service_search_pairs WHERE rowid = old.id;
END;
