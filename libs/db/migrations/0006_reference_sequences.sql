-- Reference numbers from one PostgreSQL sequence per year instead of the counter row.
-- * The counter row was locked from the draw to the commit (numbers without gaps), so
--   every router and converter drawing a number waited for the one before it to commit.
--   A sequence is never locked: numbers stay unique and increasing, restart each year,
--   and a rolled-back transaction may skip one.
-- * faxbridge_next_reference(year) creates the year's sequence on its first draw. Two
--   transactions doing that at once: the second waits on the first's catalog row; when
--   the first commits, its CREATE fails with a unique violation, which is caught, and it
--   draws from the sequence the first made (when the first rolls back, the second's
--   CREATE succeeds). SECURITY DEFINER: a service role that may not create objects can
--   still draw; search_path is pinned for the same reason.
-- * The job's INSERT draws it (the column default): the number exists from the moment a
--   job is accepted, for its receipts, cover page and page header, and nothing later
--   draws another. Jobs still in flight without one get theirs here.
CREATE FUNCTION faxbridge_next_reference(p_year int) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
  seq_name text := 'reference_seq_' || p_year;
  seq regclass;
BEGIN
  IF p_year < 1970 OR p_year > 9999 THEN
    RAISE EXCEPTION 'a reference number needs a four-digit year, not %', p_year USING ERRCODE = '22023';
  END IF;
  seq := to_regclass('public.' || seq_name);
  IF seq IS NULL THEN
    BEGIN
      EXECUTE format('CREATE SEQUENCE IF NOT EXISTS public.%I AS bigint MINVALUE 1 MAXVALUE 99999999 NO CYCLE',
                     seq_name);
    EXCEPTION WHEN unique_violation OR duplicate_table THEN
      NULL;  -- a concurrent first draw of the same year made it
    END;
    seq := ('public.' || seq_name)::regclass;
  END IF;
  -- Past 99999999 nextval fails with SQLSTATE 2200H (db::references: reference.exhausted).
  RETURN lpad(p_year::text, 4, '0') || '.' || lpad(nextval(seq)::text, 8, '0');
END $$;

-- The counters' values carry over: each year's sequence continues after its last number.
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT year, last_value FROM reference_counters WHERE last_value > 0 LOOP
    EXECUTE format('CREATE SEQUENCE public.%I AS bigint MINVALUE 1 MAXVALUE 99999999 NO CYCLE',
                   'reference_seq_' || r.year);
    PERFORM setval(('public.reference_seq_' || r.year)::regclass, r.last_value, true);
  END LOOP;
END $$;
DROP TABLE reference_counters;

ALTER TABLE fax_jobs ALTER COLUMN reference
  SET DEFAULT faxbridge_next_reference(extract(year FROM now() AT TIME ZONE 'UTC')::int);
UPDATE fax_jobs SET reference = faxbridge_next_reference(extract(year FROM created_at AT TIME ZONE 'UTC')::int)
  WHERE reference IS NULL AND state NOT IN ('sent', 'partially_sent', 'failed', 'cancelled');
