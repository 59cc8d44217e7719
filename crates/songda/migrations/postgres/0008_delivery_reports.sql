-- Delivery reports. An SMS gateway names each message it accepted by an id of its own (one
-- per part of a long SMS); its reports name that id. Ids are unique only within a gateway.
CREATE TABLE gateway_messages (
    gateway          TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    notification_id  TEXT NOT NULL REFERENCES outbox(id),
    part             BIGINT NOT NULL,
    -- The last state reported (SMPP stat words: DELIVRD, UNDELIV, EXPIRED, ...).
    state            TEXT,
    reported_at      TEXT,
    PRIMARY KEY (gateway, message_id)
);
CREATE INDEX gateway_messages_notification ON gateway_messages(notification_id);

-- The last delivery state reported for a sent notification.
ALTER TABLE outbox ADD COLUMN delivery TEXT;
