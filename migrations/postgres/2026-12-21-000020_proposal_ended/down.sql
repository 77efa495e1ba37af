-- An ended proposal reads as one still open to a request.
UPDATE demand_proposals SET status = 'proposed' WHERE status = 'ended';
ALTER TABLE demand_proposals DROP CONSTRAINT demand_proposals_status_check;
ALTER TABLE demand_proposals
    ADD CONSTRAINT demand_proposals_status_check CHECK (status IN ('proposed', 'requested'));
