-- The dashboard's figures (GET /api/v1/stats, libs/db/src/stats.cpp), each from an
-- index instead of a scan of every job and attempt ever kept (100,000 jobs and more):
-- * open attempts per gateway instance: only the open ones are in the index, a few
--   per channel, however many closed attempts the table holds;
-- * jobs per state while not final (completed_at is set on reaching a final state):
--   an index-only count over the queue, not the history;
-- * jobs completed in the last 24 hours by hour, state and error code: a range of an
--   index that holds all three, so the count reads no table rows;
-- * the oldest waiting job: the first entry of an index on created_at over the waiting
--   states.
CREATE INDEX attempts_open_idx ON attempts (gateway_instance) WHERE state = 'open';
CREATE INDEX fax_jobs_active_state_idx ON fax_jobs (state) WHERE completed_at IS NULL;
CREATE INDEX fax_jobs_completed_cause_idx ON fax_jobs (completed_at, state, error_code)
  WHERE completed_at IS NOT NULL;
CREATE INDEX fax_jobs_waiting_created_idx ON fax_jobs (created_at, id)
  WHERE state IN ('submitted', 'ready', 'queued', 'retry_wait');
