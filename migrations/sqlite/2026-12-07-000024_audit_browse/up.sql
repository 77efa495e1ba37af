-- The auditor's event browser narrows the chain by kind and by acting organisation, newest
-- first; the kind list reads the distinct kinds from the first index.
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_organisation ON audit_events (actor_organisation_id, seq);
