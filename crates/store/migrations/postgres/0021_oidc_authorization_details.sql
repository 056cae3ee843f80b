-- Rich Authorization Requests (RFC 9396): the operation a customer confirmed for a code (one
-- `sekisho_operation` entry, as JSON text, with how it was confirmed), carried to the tokens of
-- the code exchange. NULL for a code without `authorization_details`.
ALTER TABLE oidc_codes ADD COLUMN authorization_details TEXT;
