-- A court's lists and searches run over its every service: tens of thousands of matches
-- for a common word. Reading each match's row in `services` costs more than the search,
-- so the search row carries what the court's lists filter, count and sort by: court,
-- case, stage and times. The stage is written with the service's, in the same
-- transaction.
ALTER TABLE service_search ADD COLUMN court_id TEXT;
ALTER TABLE service_search ADD COLUMN case_id TEXT;
ALTER TABLE service_search ADD COLUMN stage TEXT;
ALTER TABLE service_search ADD COLUMN deposited_at TEXT;
ALTER TABLE service_search ADD COLUMN created_at TEXT;
UPDATE service_search ss
SET court_id = c.court_id, case_id = s.case_id, stage = s.stage,
    deposited_at = s.deposited_at, created_at = s.created_at
FROM services s JOIN cases c ON c.id = s.case_id
WHERE s.id = ss.service_id;
ALTER TABLE service_search ALTER COLUMN court_id SET NOT NULL;
ALTER TABLE service_search ALTER COLUMN case_id SET NOT NULL;
ALTER TABLE service_search ALTER COLUMN stage SET NOT NULL;
ALTER TABLE service_search ALTER COLUMN deposited_at SET NOT NULL;
ALTER TABLE service_search ALTER COLUMN created_at SET NOT NULL;

-- A court's services by stage, pending ones by time of deposit; and one case's.
CREATE INDEX service_search_court
    ON service_search(court_id, stage, deposited_at, created_at, service_id);
CREATE INDEX service_search_case ON service_search(case_id, stage, created_at);
