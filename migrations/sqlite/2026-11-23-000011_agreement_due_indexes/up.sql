-- The scheduler's sweeps look for agreements by state and date (signed trials due to start,
-- active trials past their end, decisions past their deadline, reminders ahead of them); with
-- these the cost follows the rows that are due, not the size of the table.
CREATE INDEX agreements_status_trial_start ON agreements (status, trial_start);
CREATE INDEX agreements_status_trial_end ON agreements (status, trial_end);
CREATE INDEX agreements_status_deadline ON agreements (status, decision_deadline);
