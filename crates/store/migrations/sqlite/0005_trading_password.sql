-- The trading password (取引パスワード): a second knowledge secret the firm may ask for before
-- sensitive changes. Stored only as an Argon2id hash, like the login password.
ALTER TABLE logins ADD COLUMN trading_password_hash TEXT;
ALTER TABLE logins ADD COLUMN trading_password_changed_at BIGINT;
