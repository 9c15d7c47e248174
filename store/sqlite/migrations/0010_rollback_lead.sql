-- The incident's lead when a rollback was proposed (package deploys): when
-- the service has rollback approvers, the lead may confirm only a rollback
-- proposed while they led, so that taking the lead does not let anyone
-- confirm a rollback. '' for rollbacks proposed before this column, and
-- when nobody led the incident.
ALTER TABLE rollbacks ADD COLUMN proposed_lead TEXT NOT NULL DEFAULT '';
