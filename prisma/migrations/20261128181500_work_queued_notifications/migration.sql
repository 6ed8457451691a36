-- A trial that becomes QUEUED (a new job, a requeue, a released lease) NOTIFYs `ptune_work_queued`
-- with the milliseconds until it may run (its retry backoff; "0" for a new job), so idle LeaseTrial
-- calls on every coordinator replica wake when work appears, not at their fallback poll
-- (services/coordinator/index.ts). Written by hand: Prisma's schema has no triggers. Identical
-- payloads of one transaction are delivered once: a 1000-trial job is one notification.
CREATE FUNCTION ptune_notify_work_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('ptune_work_queued', greatest(0, ceil(extract(epoch FROM NEW.not_before - now()) * 1000))::bigint::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER trial_notify_queued_insert AFTER INSERT ON trial
  FOR EACH ROW WHEN (NEW.state = 'QUEUED') EXECUTE FUNCTION ptune_notify_work_queued();

CREATE TRIGGER trial_notify_queued_update AFTER UPDATE OF state ON trial
  FOR EACH ROW WHEN (NEW.state = 'QUEUED' AND OLD.state <> 'QUEUED') EXECUTE FUNCTION ptune_notify_work_queued();
