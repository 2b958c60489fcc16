-- Webhook delivery (libs/webhook): how each endpoint is signed, and one row per try.
-- signing: 'hmac' (Standard Webhooks v1, HMAC-SHA256 with `secret`) or 'ed25519' (the
-- specification's asymmetric v1a: the notifier signs with signing_key, "whsk_" + base64
-- of libsodium's 64-byte secret key, and receivers verify with public_key, "whpk_" +
-- base64 of the 32-byte public key, which the API shows). The signing key is stored as
-- the HMAC secret is (no sealed-secret helper existed when this was written).
ALTER TABLE webhook_endpoints ADD COLUMN signing text NOT NULL DEFAULT 'hmac'
  CHECK (signing IN ('hmac', 'ed25519'));
ALTER TABLE webhook_endpoints ADD COLUMN public_key text;
ALTER TABLE webhook_endpoints ADD COLUMN signing_key text;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_ed25519_keys
  CHECK (signing <> 'ed25519' OR (public_key IS NOT NULL AND signing_key IS NOT NULL));

-- The delivery log: every POST the notifier made (or refused to make), newest first per
-- endpoint. status is the receiver's HTTP status, NULL when none came back (refused
-- address, no connection, timeout); response_excerpt is the start of its answer
-- (at most 1 KiB, as text); error_code is NULL for a 2xx.
CREATE TABLE webhook_deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notification_id  bigint NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
  webhook_id       bigint NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  message_id       text NOT NULL,                    -- the webhook-id header sent
  attempt          int NOT NULL,                     -- 1 for the notification's first try
  status           int,
  duration_ms      int NOT NULL,
  error_code       text,
  response_excerpt text NOT NULL DEFAULT '',
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_notification_idx ON webhook_deliveries (notification_id);
