-- Routing is one way: the router decides the addresses a gateway dials for a job (the
-- route's, then the default route's) and the route's T.38 policy, and writes them on the
-- job with the move to queued; the gateway only reads them, so a route edited while a
-- job waits changes the next routing, never a call half decided.
ALTER TABLE fax_jobs
  ADD COLUMN gateway_addresses text[] NOT NULL DEFAULT '{}',
  ADD COLUMN t38_policy text CHECK (t38_policy IN ('auto', 'require', 'off'));

-- Jobs routed before this migration get what the gateway used to read for them.
UPDATE fax_jobs j SET
  gateway_addresses =
    ARRAY(SELECT g.address FROM route_gateways g WHERE g.route_id = j.route_id ORDER BY g.position) ||
    ARRAY(SELECT g.address FROM route_gateways g JOIN routes d ON d.id = g.route_id
          WHERE d.is_default AND d.enabled AND d.id IS DISTINCT FROM j.route_id ORDER BY d.id, g.position),
  t38_policy = (SELECT r.t38_policy FROM routes r WHERE r.id = j.route_id)
WHERE j.state IN ('queued', 'dialing', 'sending', 'retry_wait');
