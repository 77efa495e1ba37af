ALTER TABLE outbox DROP COLUMN attachments;
DROP INDEX monthly_reports_month;
DROP TABLE monthly_reports;
ALTER TABLE agreements DROP COLUMN decision_days;
ALTER TABLE agreements DROP COLUMN closed_at;
ALTER TABLE agreements DROP COLUMN trial_ended_on;
ALTER TABLE agreements DROP COLUMN started_on;
ALTER TABLE agreements DROP COLUMN approved_at;
