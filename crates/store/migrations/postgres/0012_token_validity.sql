-- What a token's seed file says about its use (issue 18): the validity period (PSKC StartDate /
-- ExpiryDate) and how many codes it may give (NumberOfTransactions), with the count of codes
-- accepted so far. A token outside its period or out of codes can neither be assigned nor log
-- in. NULL means no limit.
ALTER TABLE tokens ADD COLUMN valid_from BIGINT;
ALTER TABLE tokens ADD COLUMN valid_until BIGINT;
ALTER TABLE tokens ADD COLUMN max_transactions BIGINT;
ALTER TABLE tokens ADD COLUMN transactions BIGINT NOT NULL DEFAULT 0;
