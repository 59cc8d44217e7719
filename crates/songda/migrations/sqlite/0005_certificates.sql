-- The short verification code printed on a service certificate (and in its QR code), so
-- that anyone holding the paper can open the public verification page for it. Given at
-- the first certificate of a service and never changed; unique across the platform.
ALTER TABLE services ADD COLUMN verification_code TEXT;
CREATE UNIQUE INDEX services_verification_code ON services(verification_code);
