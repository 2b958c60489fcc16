-- The notifier (services/notifier) delivers the notifications outbox.
--
-- message_id: the Message-ID of a mail, chosen once (notification-<id>@<domain>), so
-- every try of the same row carries the same id: a resend after a crash is recognisable
-- and threads with the first copy in the reader's client.
-- last_tried_at: when the last try ended (the delivery log of mails is the row itself:
-- attempts, error_code, last_error; webhooks keep one row per try in their own log).
-- 'suppressed': an administrator alert whose cause was mailed within the last interval
-- (setting notifications.admin_alert_interval_min): an outage is one mail, not a thousand.
-- 'ingest_refused': mail-ingest's "cannot fax this" reply.
ALTER TABLE notifications ADD COLUMN message_id text;
ALTER TABLE notifications ADD COLUMN last_tried_at timestamptz;
ALTER TABLE notifications DROP CONSTRAINT notifications_state_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_state_check
  CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'suppressed'));
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
  CHECK (kind IN ('fax_to_email', 'return_receipt', 'enqueued_receipt', 'failure_receipt', 'send_refused',
                  'failed_incoming_call', 'admin_alert', 'ingest_refused', 'webhook'));

-- One row per alert cause (an error code, or a watchdog's name): when it was last mailed.
CREATE TABLE alert_causes (
  cause          text PRIMARY KEY,
  last_sent_at   timestamptz NOT NULL,
  suppressed     bigint NOT NULL DEFAULT 0   -- alerts of this cause not mailed since then
);

-- Mail templates an administrator changed (GET/PUT /api/v1/templates); a name and
-- language without a row reads the built-in template shipped with the notifier.
-- part: subject | text | html.
CREATE TABLE mail_templates (
  name        text NOT NULL,
  language    text NOT NULL,
  part        text NOT NULL CHECK (part IN ('subject', 'text', 'html')),
  body        text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  bigint REFERENCES users(id) ON DELETE SET NULL,
  PRIMARY KEY (name, language, part)
);
