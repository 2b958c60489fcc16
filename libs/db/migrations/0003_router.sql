-- Router (issue 7). 0002 is left to the document pipeline's branch.
-- * fax_jobs gets a leased 'routing' stage between ready and queued (route choice and
--   the send-permission check are one claim-and-finish like every other stage), and
--   dial_number: the number the gateway dials (global prefix applied).
-- * attempts become the router's input queue: a gateway closes an attempt with its
--   outcome (state 'closed') and the router applies it to the job ('applied'), so a
--   result survives any crash between the call and the decision.
ALTER TABLE fax_jobs DROP CONSTRAINT fax_jobs_state_check;
ALTER TABLE fax_jobs ADD CONSTRAINT fax_jobs_state_check CHECK (state IN (
  'submitted', 'converting', 'ready', 'routing', 'queued', 'dialing', 'sending',
  'retry_wait', 'sent', 'partially_sent', 'failed', 'cancelled'));
ALTER TABLE fax_jobs ADD COLUMN dial_number text;
DROP INDEX fax_jobs_lease_idx;
CREATE INDEX fax_jobs_lease_idx ON fax_jobs (state, lease_until)
  WHERE state IN ('converting', 'routing', 'dialing', 'sending');

ALTER TABLE attempts
  ADD COLUMN state text NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'closed', 'applying', 'applied', 'failed')),
  ADD COLUMN not_before timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN priority smallint NOT NULL DEFAULT 100,
  ADD COLUMN owner text,
  ADD COLUMN lease_until timestamptz,
  ADD COLUMN claims int NOT NULL DEFAULT 0;
CREATE INDEX attempts_ready_idx ON attempts (state, priority, not_before, id) WHERE state = 'closed';
CREATE INDEX attempts_lease_idx ON attempts (state, lease_until) WHERE state = 'applying';
CREATE INDEX attempts_job_idx ON attempts (job_id, attempt_no);

-- Every table a db::Queue works on carries the same claim columns (see queue.hpp);
-- these three lacked updated_at.
ALTER TABLE attempts ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE received_faxes ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE notifications ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
