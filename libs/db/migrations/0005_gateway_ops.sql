-- Media gateway operations (issue 6). 0004 is left to the gateway's audio branch.
-- * gateway_health keeps the status code of the last OPTIONS ping beside its state, so
--   a dashboard can tell "answers 503" from "does not answer" (a local 408).
ALTER TABLE gateway_health ADD COLUMN last_status int;
