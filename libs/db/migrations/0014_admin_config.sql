-- Administration of webhook endpoints through the API: a description the administrator
-- recognises them by, when they last changed, and the secret they had before the last
-- rotation, which the notifier keeps signing with (beside the new one, as Standard
-- Webhooks allows several signatures) until previous_secret_until, so a receiver can
-- switch to the new secret without losing deliveries.
ALTER TABLE webhook_endpoints ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret text;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_until timestamptz;
