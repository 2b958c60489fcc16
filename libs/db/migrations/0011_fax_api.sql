-- The fax endpoints of /api/v1 (POST/GET /faxes, libs/db/src/faxes.cpp).
-- * labels and client_reference: what an integration tags its faxes with and finds them
--   by again (GET /faxes?label=...&reference=...). A broadcast's jobs share both.
-- * The list is newest first, per sender (a user) or over everybody (an administrator),
--   paged by (created_at, id): one index for each, in that order, so a page is an index
--   range however many faxes are stored. The old (sender_user_id, created_at) index is
--   a prefix of the new one.
-- * Idempotency keys (idempotency_keys, 0001) are claimed before the jobs are written:
--   status 0 marks a claim whose request is still running; the 24 h lifetime is kept
--   by the claim itself (an expired key is taken over), and a sweep by created_at.
ALTER TABLE fax_jobs
  ADD COLUMN labels text[] NOT NULL DEFAULT '{}',
  ADD COLUMN client_reference text CHECK (client_reference IS NULL OR length(client_reference) BETWEEN 1 AND 128);

DROP INDEX fax_jobs_sender_idx;
CREATE INDEX fax_jobs_sender_list_idx ON fax_jobs (sender_user_id, created_at DESC, id DESC);
CREATE INDEX fax_jobs_list_idx ON fax_jobs (created_at DESC, id DESC);
CREATE INDEX fax_jobs_labels_idx ON fax_jobs USING gin (labels);
CREATE INDEX fax_jobs_client_reference_idx ON fax_jobs (client_reference) WHERE client_reference IS NOT NULL;
CREATE INDEX fax_jobs_recipient_idx ON fax_jobs (recipient_canonical, created_at DESC);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Uploads are looked up by owner (POST /faxes checks the caller's files in one query).
CREATE INDEX documents_owner_idx ON documents (owner_user_id, id) WHERE kind = 'upload';
