DROP INDEX audit_events_organisation;
DROP INDEX audit_events_action;
