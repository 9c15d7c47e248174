-- The weekly review digest (package digest) reads the incidents resolved in
-- a period and the alerts that fired in a period. Without these indexes it
-- would read every incident and every alert change ever stored, which are
-- kept for good; each is small beside what it saves.
--
-- alert_changes_firing_at holds only the changes to firing, which are what
-- the digest counts; its queries repeat "status = 'firing'".
CREATE INDEX incidents_resolved_at ON incidents (resolved_at);
CREATE INDEX alert_changes_firing_at ON alert_changes (at) WHERE status = 'firing';
