-- Every change to a task's prompt versions or aliases NOTIFYs `ptune_prompt_changes` with the
-- task's "namespace/name" (written by hand: Prisma's schema has no triggers). GetPrompt resolution
-- caches of every server LISTEN and drop that task's entries (services/registry/prompt-changes.ts).
-- NOTIFY is delivered at commit, once per distinct payload per transaction, and never for a
-- rolled-back change.
CREATE FUNCTION ptune_notify_prompt_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed_task uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.task_id ELSE NEW.task_id END;
BEGIN
  PERFORM pg_notify('ptune_prompt_changes', (SELECT t.namespace || '/' || t.name FROM task t WHERE t.id = changed_task));
  RETURN NULL;
END
$$;

CREATE TRIGGER alias_notify_change AFTER INSERT OR UPDATE OR DELETE ON alias
  FOR EACH ROW EXECUTE FUNCTION ptune_notify_prompt_change();

CREATE TRIGGER prompt_version_notify_change AFTER INSERT OR UPDATE OR DELETE ON prompt_version
  FOR EACH ROW EXECUTE FUNCTION ptune_notify_prompt_change();
