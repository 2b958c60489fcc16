-- Permission levels are inherited: a user without a level of their own has the default
-- level (the setting users.default_permission_level, 2 unless an administrator changes
-- it), and an administrator sets only the differences. NULL is "inherits". Users at
-- level 2 so far got it from the old column default, so they become inheriting users:
-- their level stays 2 until the default changes.
ALTER TABLE users ALTER COLUMN permission_level DROP NOT NULL;
ALTER TABLE users ALTER COLUMN permission_level DROP DEFAULT;
UPDATE users SET permission_level = NULL WHERE permission_level = 2;

-- A user's own tokens are listed by user (the token list of the API and the CLI).
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, id);
