-- A court may also serve by email: its notice to a confirmed email address then carries the
-- documents (attached), and the mail server's acceptance is that channel's completion.
ALTER TABLE courts ADD COLUMN email_documents BIGINT NOT NULL DEFAULT 0;
-- The message carries the service's documents as attachments.
ALTER TABLE outbox ADD COLUMN attach_documents BIGINT NOT NULL DEFAULT 0;
-- When the mail server accepted the email carrying a service's documents.
ALTER TABLE services ADD COLUMN email_arrived_at TEXT;
