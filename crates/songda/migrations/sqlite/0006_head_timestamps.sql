-- RFC 3161 timestamps of signed tree heads (SONGDA_TSA_URL): the authority's token (DER,
-- base64) stamping the SHA-256 of the head's signed bytes. Added once the authority
-- answers, which may be after the head was signed; never changed after.
ALTER TABLE tree_heads ADD COLUMN tsa_token TEXT;
