-- Faxbridge schema, first version: every piece of durable state of the whole suite.
-- Conventions: bigint identity ids; text states with CHECK lists (easier to extend than
-- enum types); timestamptz everywhere; error codes are the dotted names of
-- libs/core/include/faxbridge/core/error.hpp. Rows that are work for a service carry
-- the claim columns (owner, lease_until, claims) used by db::Queue.

-- Users and permissions -------------------------------------------------------------
CREATE TABLE users (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username              text NOT NULL CHECK (username ~ '^[A-Za-z0-9._@+-]{1,64}$'),
  display_name          text NOT NULL DEFAULT '',
  email                 text NOT NULL DEFAULT '',
  password_hash         text,                      -- Argon2id; NULL: no web login
  permission_level      smallint NOT NULL DEFAULT 2 CHECK (permission_level BETWEEN 0 AND 10),
  fax_number            text,                      -- the user's DID, normalised
  phone_number          text NOT NULL DEFAULT '',
  enable_receive        boolean NOT NULL DEFAULT true,
  enable_send           boolean NOT NULL DEFAULT true,
  enable_fax_to_email   boolean NOT NULL DEFAULT false,
  fax_to_email_address  text NOT NULL DEFAULT '',
  attach_fax            boolean NOT NULL DEFAULT true,
  cover_page_name       text NOT NULL DEFAULT '',  -- '' = the default cover page
  language              text NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  company               text NOT NULL DEFAULT '',
  disabled              boolean NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_fax_number_key ON users (fax_number) WHERE fax_number IS NOT NULL;
CREATE INDEX users_email_idx ON users (lower(email));

-- Group fax numbers: a fax to the group's number reaches every member's inbox.
CREATE TABLE groups (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
  fax_number  text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE group_members (
  group_id  bigint NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  user_id   bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
);

CREATE TABLE api_tokens (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          text NOT NULL,
  token_hash    bytea NOT NULL UNIQUE,            -- SHA-256 of the token; the token is shown once
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  expires_at    timestamptz,
  revoked_at    timestamptz
);

CREATE TABLE sessions (
  id            bytea PRIMARY KEY,                -- SHA-256 of the cookie value
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  user_agent    text NOT NULL DEFAULT '',
  ip            inet
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Outbound routing ------------------------------------------------------------------
-- A route matches the called number by longest prefix; the default route (prefix '')
-- takes what nothing else matches. Its gateways are tried in position order.
CREATE TABLE routes (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  prefix       text NOT NULL CHECK (prefix ~ '^\+?[0-9]*$'),
  is_default   boolean NOT NULL DEFAULT false,
  description  text NOT NULL DEFAULT '',
  t38_policy   text NOT NULL DEFAULT 'auto' CHECK (t38_policy IN ('auto', 'require', 'off')),
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (NOT is_default OR prefix = '')
);
CREATE UNIQUE INDEX routes_prefix_key ON routes (prefix);
CREATE UNIQUE INDEX routes_one_default ON routes (is_default) WHERE is_default;

CREATE TABLE route_gateways (
  route_id    bigint NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
  position    int NOT NULL CHECK (position >= 0),
  address     text NOT NULL CHECK (length(address) BETWEEN 1 AND 255),  -- host[:port] or sip: URI
  transport   text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp', 'tls')),
  PRIMARY KEY (route_id, position)
);

-- Health of each gateway address from OPTIONS pings (media-gateway, dashboard).
CREATE TABLE gateway_health (
  address       text PRIMARY KEY,
  state         text NOT NULL CHECK (state IN ('up', 'down', 'unknown')),
  rtt_ms        int,
  last_ok_at    timestamptz,
  last_fail_at  timestamptz,
  detail        text NOT NULL DEFAULT '',
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Per remote number memory: T.38 failed in negotiation, so dial G.711 next time.
CREATE TABLE remote_capabilities (
  number         text PRIMARY KEY,
  prefer_g711    boolean NOT NULL DEFAULT false,
  t38_failed_at  timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Settings ----------------------------------------------------------------------------
-- Key/value; keys and types are the catalog in libs/db/src/settings.cpp. Every change
-- takes a new version from the sequence, so services reload when max(version) moves.
CREATE SEQUENCE settings_version_seq;
CREATE TABLE settings (
  key         text PRIMARY KEY,
  value       jsonb NOT NULL,
  version     bigint NOT NULL DEFAULT nextval('settings_version_seq'),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  bigint REFERENCES users(id) ON DELETE SET NULL
);

-- Cover page templates (SVG); localized ones are named <lang>_<name>.
CREATE TABLE cover_pages (
  name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
  svg         text NOT NULL,
  is_default  boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cover_pages_one_default ON cover_pages (is_default) WHERE is_default;

-- Documents: the bytes live in Postgres ------------------------------------------------
CREATE TABLE documents (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('upload', 'fax_pages', 'received_tiff', 'pdf', 'preview')),
  media_type     text NOT NULL,
  filename       text NOT NULL DEFAULT '',
  size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
  sha256         bytea NOT NULL,
  page_count     int CHECK (page_count >= 0),
  owner_user_id  bigint REFERENCES users(id) ON DELETE SET NULL,
  bytes          bytea NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_created_idx ON documents (created_at);

-- Reference numbers: YYYY.NNNNNNNN, one counter row per year ---------------------------
CREATE TABLE reference_counters (
  year        int PRIMARY KEY CHECK (year BETWEEN 1970 AND 9999),
  last_value  bigint NOT NULL CHECK (last_value BETWEEN 0 AND 99999999)
);

-- Outbound fax jobs ------------------------------------------------------------------
-- States follow ARCHITECTURE.md section 3. not_before: earliest time the next step may
-- run (schedule, retry interval). The claim columns hold the lease of whoever works on it.
CREATE TABLE fax_jobs (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reference            text UNIQUE CHECK (reference ~ '^[0-9]{4}\.[0-9]{8}$'),
  state                text NOT NULL DEFAULT 'submitted' CHECK (state IN (
                         'submitted', 'converting', 'ready', 'queued', 'dialing', 'sending',
                         'retry_wait', 'sent', 'partially_sent', 'failed', 'cancelled')),
  source               text NOT NULL CHECK (source IN ('email', 'web', 'api', 'cli')),
  sender_user_id       bigint REFERENCES users(id) ON DELETE SET NULL,
  recipient_number     text NOT NULL,              -- as given
  recipient_canonical  text NOT NULL,              -- normalised (core/phone.hpp)
  recipient_name       text NOT NULL DEFAULT '',
  recipient_company    text NOT NULL DEFAULT '',
  subject              text NOT NULL DEFAULT '',
  note                 text NOT NULL DEFAULT '',
  cover_page_name      text,                       -- NULL: the sender's/default; '' = none
  resolution           text NOT NULL DEFAULT 'fine' CHECK (resolution IN ('fine', 'standard')),
  priority             smallint NOT NULL DEFAULT 100 CHECK (priority BETWEEN 0 AND 1000),
  not_before           timestamptz NOT NULL DEFAULT now(),
  scheduled_at         timestamptz,                -- what the sender asked for
  max_attempts         int CHECK (max_attempts BETWEEN 1 AND 100),       -- NULL: from settings
  retry_interval_s     int CHECK (retry_interval_s BETWEEN 10 AND 86400), -- NULL: from settings
  route_id             bigint REFERENCES routes(id) ON DELETE SET NULL,
  attempts             int NOT NULL DEFAULT 0,
  pages_document_id    bigint REFERENCES documents(id) ON DELETE SET NULL,
  page_count           int,
  pages_sent           int NOT NULL DEFAULT 0,
  error_code           text,
  error_category       text CHECK (error_category IN ('document', 'line', 'protocol', 'policy', 'internal')),
  error_detail         text,
  error_retryable      boolean,
  cancel_requested     boolean NOT NULL DEFAULT false,
  idempotency_key      text,
  owner                text,
  lease_until          timestamptz,
  claims               int NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  completed_at         timestamptz
);
-- Claims of the next ready job per stage, and take-over of expired leases.
CREATE INDEX fax_jobs_ready_idx ON fax_jobs (state, priority, not_before, id)
  WHERE state IN ('submitted', 'ready', 'queued', 'retry_wait');
CREATE INDEX fax_jobs_lease_idx ON fax_jobs (state, lease_until)
  WHERE state IN ('converting', 'dialing', 'sending');
CREATE INDEX fax_jobs_sender_idx ON fax_jobs (sender_user_id, created_at DESC);
CREATE INDEX fax_jobs_recipient_active_idx ON fax_jobs (recipient_canonical)
  WHERE state IN ('dialing', 'sending');
CREATE INDEX fax_jobs_completed_idx ON fax_jobs (completed_at) WHERE completed_at IS NOT NULL;
CREATE UNIQUE INDEX fax_jobs_idempotency_key ON fax_jobs (sender_user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- The documents a job sends, in order (the cover page is made by the converter).
CREATE TABLE fax_job_documents (
  job_id       bigint NOT NULL REFERENCES fax_jobs(id) ON DELETE CASCADE,
  position     int NOT NULL CHECK (position >= 0),
  document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  PRIMARY KEY (job_id, position)
);

-- Every state change of a job, written in the transaction that made it.
CREATE TABLE job_events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id      bigint NOT NULL REFERENCES fax_jobs(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  from_state  text,
  to_state    text NOT NULL,
  actor       text NOT NULL DEFAULT '',          -- service instance or user
  error_code  text,
  detail      text NOT NULL DEFAULT ''
);
CREATE INDEX job_events_job_idx ON job_events (job_id, id);

-- Call attempts: the call detail records ---------------------------------------------
CREATE TABLE attempts (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id             bigint NOT NULL REFERENCES fax_jobs(id) ON DELETE CASCADE,
  attempt_no         int NOT NULL CHECK (attempt_no >= 1),
  gateway_instance   text NOT NULL,
  route_id           bigint REFERENCES routes(id) ON DELETE SET NULL,
  gateway_address    text NOT NULL DEFAULT '',
  dialled_number     text NOT NULL DEFAULT '',
  media              text CHECK (media IN ('t38', 'g711a', 'g711u')),
  started_at         timestamptz NOT NULL DEFAULT now(),
  answered_at        timestamptz,
  ended_at           timestamptz,
  outcome            text CHECK (outcome IN ('sent', 'partially_sent', 'busy', 'no_answer',
                       'rejected', 'failed', 'cancelled', 'interrupted')),
  sip_status         int,
  t30_code           int,
  t30_text           text,
  phase_reached      text,                          -- T.30 phase (A-E); C or later: maybe delivered
  pages_sent         int NOT NULL DEFAULT 0,
  bit_rate           int,
  ecm                boolean,
  remote_station_id  text,
  error_code         text,
  retryable          boolean,
  diagnostics        jsonb,                         -- SIP messages and first media events of failed calls
  UNIQUE (job_id, attempt_no)
);
CREATE INDEX attempts_started_idx ON attempts (started_at);

-- Inbound faxes --------------------------------------------------------------------------
CREATE TABLE received_faxes (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reference          text UNIQUE CHECK (reference ~ '^[0-9]{4}\.[0-9]{8}$'),
  state              text NOT NULL DEFAULT 'received' CHECK (state IN (
                       'receiving', 'received', 'routing', 'routed', 'failed')),
  call_id            text NOT NULL DEFAULT '',
  gateway_instance   text NOT NULL DEFAULT '',
  caller_number      text NOT NULL DEFAULT '',
  called_number      text NOT NULL DEFAULT '',       -- the DID, normalised
  remote_station_id  text NOT NULL DEFAULT '',
  pages              int NOT NULL DEFAULT 0,
  media              text CHECK (media IN ('t38', 'g711a', 'g711u')),
  bit_rate           int,
  ecm                boolean,
  resolution         text,
  t30_code           int,
  t30_text           text,
  error_code         text,
  tiff_document_id   bigint REFERENCES documents(id) ON DELETE SET NULL,
  pdf_document_id    bigint REFERENCES documents(id) ON DELETE SET NULL,
  started_at         timestamptz NOT NULL DEFAULT now(),
  ended_at           timestamptz,
  not_before         timestamptz NOT NULL DEFAULT now(),
  priority           smallint NOT NULL DEFAULT 100,
  owner              text,
  lease_until        timestamptz,
  claims             int NOT NULL DEFAULT 0
);
CREATE INDEX received_faxes_ready_idx ON received_faxes (state, priority, not_before, id)
  WHERE state = 'received';
CREATE INDEX received_faxes_lease_idx ON received_faxes (state, lease_until) WHERE state = 'routing';
CREATE INDEX received_faxes_started_idx ON received_faxes (started_at);

CREATE TABLE inbox_entries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_fax_id  bigint NOT NULL REFERENCES received_faxes(id) ON DELETE CASCADE,
  user_id          bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  via_group_id     bigint REFERENCES groups(id) ON DELETE SET NULL,
  read_at          timestamptz,
  deleted_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (received_fax_id, user_id)
);
CREATE INDEX inbox_entries_user_idx ON inbox_entries (user_id, created_at DESC);

-- Notifications: a durable outbox of mails and webhooks --------------------------------
CREATE TABLE webhook_endpoints (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  url         text NOT NULL CHECK (url ~ '^https?://'),
  secret      text NOT NULL,                        -- Standard Webhooks signing secret
  events      text[] NOT NULL DEFAULT '{}',         -- empty: every event
  enabled     boolean NOT NULL DEFAULT true,
  user_id     bigint REFERENCES users(id) ON DELETE CASCADE,  -- NULL: system-wide
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('fax_to_email', 'return_receipt', 'enqueued_receipt',
                     'failure_receipt', 'send_refused', 'failed_incoming_call', 'admin_alert', 'webhook')),
  channel          text NOT NULL CHECK (channel IN ('email', 'webhook')),
  recipient        text NOT NULL,                    -- mail address or webhook URL
  job_id           bigint REFERENCES fax_jobs(id) ON DELETE CASCADE,
  received_fax_id  bigint REFERENCES received_faxes(id) ON DELETE CASCADE,
  user_id          bigint REFERENCES users(id) ON DELETE SET NULL,
  webhook_id       bigint REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  payload          jsonb NOT NULL DEFAULT '{}',
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
  attempts         int NOT NULL DEFAULT 0,
  error_code       text,
  last_error       text,
  not_before       timestamptz NOT NULL DEFAULT now(),
  priority         smallint NOT NULL DEFAULT 100,
  owner            text,
  lease_until      timestamptz,
  claims           int NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
CREATE INDEX notifications_ready_idx ON notifications (state, priority, not_before, id)
  WHERE state = 'pending';
CREATE INDEX notifications_lease_idx ON notifications (state, lease_until) WHERE state = 'sending';

-- Mail-ingest: messages already turned into jobs (Message-ID per mailbox), so a crash
-- between creating the job and deleting the mail never sends it twice.
CREATE TABLE ingested_messages (
  mailbox      text NOT NULL,
  message_id   text NOT NULL,
  job_ids      bigint[] NOT NULL DEFAULT '{}',
  outcome      text NOT NULL,
  ingested_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (mailbox, message_id)
);

-- API idempotency: the response of a create is kept for the key's lifetime.
CREATE TABLE idempotency_keys (
  user_id       bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key           text NOT NULL,
  request_hash  bytea NOT NULL,
  status        int NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);

-- Audit trail of administrative and security-relevant actions.
CREATE TABLE audit_events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  actor_user_id  bigint REFERENCES users(id) ON DELETE SET NULL,
  actor          text NOT NULL,                      -- 'cli', 'system', a username
  action         text NOT NULL,                      -- dotted: user.create, route.update, ...
  object_type    text NOT NULL DEFAULT '',
  object_id      text NOT NULL DEFAULT '',
  details        jsonb NOT NULL DEFAULT '{}',
  ip             inet
);
CREATE INDEX audit_events_at_idx ON audit_events (at);
