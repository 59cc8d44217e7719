-- How many reminders have been queued for a service still awaiting signature.
ALTER TABLE services ADD COLUMN reminders BIGINT NOT NULL DEFAULT 0;

-- Per-recipient limits count what was sent to an address in the last hour.
CREATE INDEX outbox_recipient_sent ON outbox(recipient, sent_at);
