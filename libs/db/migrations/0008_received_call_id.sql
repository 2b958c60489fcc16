-- A gateway stores a received fax from its journal until the commit is known; a retry
-- after an unknown commit looks the call id up first so the fax is stored once. The
-- gateway makes call ids unique per call (instance, start time, call number); rows
-- written before that may repeat one, so this index is not UNIQUE.
CREATE INDEX received_faxes_call_id_idx ON received_faxes (call_id) WHERE call_id <> '';
