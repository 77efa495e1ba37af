-- The monthly report's roll-ups: for each measure, the rows (and their amounts) counted per
-- slot and key, kept by the triggers below in the same transaction as each change to the
-- rows they count, so a report reads counts per hour and per day, whose number grows with
-- the years of history and not with the agreements, instead of the tables. A slot is the
-- start of a UTC hour for instants (when a request was made, approved, closed; a policy
-- bound; a claim filed, decided, paid), of a UTC day for the
-- decision-day histogram and the breakdowns by technology and province, and the calendar day
-- itself for dates (a trial's first and last day, a conversion, a payment received). The
-- report adds the slots inside its bounds and reads the rows of a slot a bound cuts through
-- from the tables (`reports::figures`); the GROUP BY over the tables stays as the check
-- (`usefirst report-check`). Written by scripts/report-tallies-sql.py.
CREATE TABLE report_tallies (
    measure TEXT NOT NULL,
    slot TIMESTAMP NOT NULL,
    k TEXT NOT NULL,
    n BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    amount2 BIGINT NOT NULL,
    PRIMARY KEY (measure, slot, k)
);

-- While a row is here the triggers count nothing: `seed-synthetic` loads years of history
-- with it, then counts everything again from the views below and removes it in one
-- transaction (`reports::tallies::rebuild`); a report made meanwhile reads the tables.
CREATE TABLE report_tallies_paused (
    since TIMESTAMP NOT NULL
);

-- A report in a zone whose midnights cut through a UTC hour reads that hour's claims from
-- the table: by when they were filed, decided and paid.
CREATE INDEX insurance_claims_filed_at ON insurance_claims (filed_at);
CREATE INDEX insurance_claims_decided_at ON insurance_claims (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX insurance_claims_paid_at ON insurance_claims (paid_at) WHERE paid_at IS NOT NULL;


CREATE VIEW report_tally_rows_agreements AS
    SELECT 'requests' AS measure, strftime('%Y-%m-%d %H:00:00', R.created_at) AS slot, '' AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'approvals' AS measure, strftime('%Y-%m-%d %H:00:00', R.approved_at) AS slot, '' AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'closings' AS measure, strftime('%Y-%m-%d %H:00:00', R.closed_at) AS slot, R.status AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'started' AS measure, strftime('%Y-%m-%d 00:00:00', R.started_on) AS slot, '' AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'ended' AS measure, strftime('%Y-%m-%d 00:00:00', R.trial_ended_on) AS slot, '' AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', R.closed_at) END AS slot, CAST(R.decision_days AS TEXT) AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'requests_by_technology' AS measure, strftime('%Y-%m-%d 00:00:00', R.created_at) AS slot, R.technology_id AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'requests_by_province' AS measure, strftime('%Y-%m-%d 00:00:00', R.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'started_by_technology' AS measure, strftime('%Y-%m-%d 00:00:00', R.started_on) AS slot, R.technology_id AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'started_by_province' AS measure, strftime('%Y-%m-%d 00:00:00', R.started_on) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN R.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', R.closed_at) END AS slot, R.technology_id AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN R.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', R.closed_at) END AS slot, R.technology_id AS k, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 0 AS amount, 0 AS amount2 FROM agreements R;

CREATE TRIGGER report_tallies_requests_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', NEW.created_at) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests', strftime('%Y-%m-%d %H:00:00', NEW.created_at), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.created_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d %H:00:00', OLD.created_at) IS strftime('%Y-%m-%d %H:00:00', NEW.created_at))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests', strftime('%Y-%m-%d %H:00:00', OLD.created_at), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.created_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests', strftime('%Y-%m-%d %H:00:00', NEW.created_at), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.created_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', OLD.created_at) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests', strftime('%Y-%m-%d %H:00:00', OLD.created_at), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.created_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_approvals_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', NEW.approved_at) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'approvals', strftime('%Y-%m-%d %H:00:00', NEW.approved_at), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.approved_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_approvals_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d %H:00:00', OLD.approved_at) IS strftime('%Y-%m-%d %H:00:00', NEW.approved_at))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'approvals', strftime('%Y-%m-%d %H:00:00', OLD.approved_at), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.approved_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'approvals', strftime('%Y-%m-%d %H:00:00', NEW.approved_at), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.approved_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_approvals_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', OLD.approved_at) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'approvals', strftime('%Y-%m-%d %H:00:00', OLD.approved_at), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.approved_at) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_closings_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', NEW.closed_at) IS NOT NULL AND NEW.status IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'closings', strftime('%Y-%m-%d %H:00:00', NEW.closed_at), NEW.status, 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.closed_at) IS NOT NULL AND NEW.status IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_closings_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d %H:00:00', OLD.closed_at) IS strftime('%Y-%m-%d %H:00:00', NEW.closed_at) AND OLD.status IS NEW.status)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'closings', strftime('%Y-%m-%d %H:00:00', OLD.closed_at), OLD.status, -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.closed_at) IS NOT NULL AND OLD.status IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'closings', strftime('%Y-%m-%d %H:00:00', NEW.closed_at), NEW.status, 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.closed_at) IS NOT NULL AND NEW.status IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_closings_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', OLD.closed_at) IS NOT NULL AND OLD.status IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'closings', strftime('%Y-%m-%d %H:00:00', OLD.closed_at), OLD.status, -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.closed_at) IS NOT NULL AND OLD.status IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started', strftime('%Y-%m-%d 00:00:00', NEW.started_on), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS strftime('%Y-%m-%d 00:00:00', NEW.started_on))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started', strftime('%Y-%m-%d 00:00:00', OLD.started_on), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started', strftime('%Y-%m-%d 00:00:00', NEW.started_on), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started', strftime('%Y-%m-%d 00:00:00', OLD.started_on), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_ended_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.trial_ended_on) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'ended', strftime('%Y-%m-%d 00:00:00', NEW.trial_ended_on), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.trial_ended_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_ended_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.trial_ended_on) IS strftime('%Y-%m-%d 00:00:00', NEW.trial_ended_on))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'ended', strftime('%Y-%m-%d 00:00:00', OLD.trial_ended_on), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.trial_ended_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'ended', strftime('%Y-%m-%d 00:00:00', NEW.trial_ended_on), '', 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.trial_ended_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_ended_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.trial_ended_on) IS NOT NULL AND '' IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'ended', strftime('%Y-%m-%d 00:00:00', OLD.trial_ended_on), '', -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.trial_ended_on) IS NOT NULL AND '' IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decision_days_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND CAST(NEW.decision_days AS TEXT) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decision_days', CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, CAST(NEW.decision_days AS TEXT), 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND CAST(NEW.decision_days AS TEXT) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decision_days_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END AND CAST(OLD.decision_days AS TEXT) IS CAST(NEW.decision_days AS TEXT))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decision_days', CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, CAST(OLD.decision_days AS TEXT), -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND CAST(OLD.decision_days AS TEXT) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decision_days', CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, CAST(NEW.decision_days AS TEXT), 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND CAST(NEW.decision_days AS TEXT) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decision_days_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND CAST(OLD.decision_days AS TEXT) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decision_days', CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, CAST(OLD.decision_days AS TEXT), -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND CAST(OLD.decision_days AS TEXT) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_by_technology_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.created_at) IS NOT NULL AND NEW.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_technology', strftime('%Y-%m-%d 00:00:00', NEW.created_at), NEW.technology_id, 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.created_at) IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_by_technology_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS strftime('%Y-%m-%d 00:00:00', NEW.created_at) AND OLD.technology_id IS NEW.technology_id)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_technology', strftime('%Y-%m-%d 00:00:00', OLD.created_at), OLD.technology_id, -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_technology', strftime('%Y-%m-%d 00:00:00', NEW.created_at), NEW.technology_id, 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.created_at) IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_by_technology_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS NOT NULL AND OLD.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_technology', strftime('%Y-%m-%d 00:00:00', OLD.created_at), OLD.technology_id, -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_by_province_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.created_at) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_province', strftime('%Y-%m-%d 00:00:00', NEW.created_at), (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.created_at) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_by_province_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS strftime('%Y-%m-%d 00:00:00', NEW.created_at) AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_province', strftime('%Y-%m-%d 00:00:00', OLD.created_at), (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_province', strftime('%Y-%m-%d 00:00:00', NEW.created_at), (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.created_at) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_requests_by_province_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'requests_by_province', strftime('%Y-%m-%d 00:00:00', OLD.created_at), (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.created_at) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_by_technology_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND NEW.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_technology', strftime('%Y-%m-%d 00:00:00', NEW.started_on), NEW.technology_id, 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_by_technology_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS strftime('%Y-%m-%d 00:00:00', NEW.started_on) AND OLD.technology_id IS NEW.technology_id)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_technology', strftime('%Y-%m-%d 00:00:00', OLD.started_on), OLD.technology_id, -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_technology', strftime('%Y-%m-%d 00:00:00', NEW.started_on), NEW.technology_id, 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_by_technology_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND OLD.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_technology', strftime('%Y-%m-%d 00:00:00', OLD.started_on), OLD.technology_id, -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_by_province_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_province', strftime('%Y-%m-%d 00:00:00', NEW.started_on), (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_by_province_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS strftime('%Y-%m-%d 00:00:00', NEW.started_on) AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_province', strftime('%Y-%m-%d 00:00:00', OLD.started_on), (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_province', strftime('%Y-%m-%d 00:00:00', NEW.started_on), (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.started_on) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_started_by_province_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'started_by_province', strftime('%Y-%m-%d 00:00:00', OLD.started_on), (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.started_on) IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_converted_by_technology_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND NEW.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_technology', CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, NEW.technology_id, 1, 0, 0
  WHERE CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_converted_by_technology_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END AND OLD.technology_id IS NEW.technology_id)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_technology', CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, OLD.technology_id, -1, 0, 0
  WHERE CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_technology', CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, NEW.technology_id, 1, 0, 0
  WHERE CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_converted_by_technology_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND OLD.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_technology', CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, OLD.technology_id, -1, 0, 0
  WHERE CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_converted_by_province_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_province', CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_converted_by_province_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_province', CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_province', CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE CASE WHEN NEW.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_converted_by_province_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'converted_by_province', CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE CASE WHEN OLD.status = 'converted' THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decided_by_technology_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND NEW.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_technology', CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, NEW.technology_id, 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decided_by_technology_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END AND OLD.technology_id IS NEW.technology_id)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_technology', CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, OLD.technology_id, -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_technology', CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, NEW.technology_id, 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND NEW.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decided_by_technology_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND OLD.technology_id IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_technology', CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, OLD.technology_id, -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND OLD.technology_id IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decided_by_province_inserted AFTER INSERT ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_province', CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decided_by_province_updated AFTER UPDATE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_province', CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_province', CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id), 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', NEW.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = NEW.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_decided_by_province_deleted AFTER DELETE ON agreements
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'decided_by_province', CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END, (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id), -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('converted', 'declined', 'lapsed') THEN strftime('%Y-%m-%d 00:00:00', OLD.closed_at) END IS NOT NULL AND (SELECT o.province FROM organisations o WHERE o.id = OLD.sme_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE VIEW report_tally_rows_conversion_contracts AS
    SELECT 'contracts' AS measure, strftime('%Y-%m-%d 00:00:00', R.converted_on) AS slot, R.currency AS k, R.total_minor AS amount, 0 AS amount2 FROM conversion_contracts R;

CREATE TRIGGER report_tallies_contracts_inserted AFTER INSERT ON conversion_contracts
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.converted_on) IS NOT NULL AND NEW.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'contracts', strftime('%Y-%m-%d 00:00:00', NEW.converted_on), NEW.currency, 1, NEW.total_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.converted_on) IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_contracts_updated AFTER UPDATE ON conversion_contracts
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.converted_on) IS strftime('%Y-%m-%d 00:00:00', NEW.converted_on) AND OLD.currency IS NEW.currency AND OLD.total_minor IS NEW.total_minor)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'contracts', strftime('%Y-%m-%d 00:00:00', OLD.converted_on), OLD.currency, -1, -OLD.total_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.converted_on) IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'contracts', strftime('%Y-%m-%d 00:00:00', NEW.converted_on), NEW.currency, 1, NEW.total_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.converted_on) IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_contracts_deleted AFTER DELETE ON conversion_contracts
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.converted_on) IS NOT NULL AND OLD.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'contracts', strftime('%Y-%m-%d 00:00:00', OLD.converted_on), OLD.currency, -1, -OLD.total_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.converted_on) IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE VIEW report_tally_rows_payments AS
    SELECT 'payments' AS measure, strftime('%Y-%m-%d 00:00:00', R.received_on) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id) AS k, R.amount_minor AS amount, 0 AS amount2 FROM payments R;

CREATE TRIGGER report_tallies_payments_inserted AFTER INSERT ON payments
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', NEW.received_on) IS NOT NULL AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = NEW.agreement_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'payments', strftime('%Y-%m-%d 00:00:00', NEW.received_on), (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = NEW.agreement_id), 1, NEW.amount_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.received_on) IS NOT NULL AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = NEW.agreement_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_payments_updated AFTER UPDATE ON payments
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d 00:00:00', OLD.received_on) IS strftime('%Y-%m-%d 00:00:00', NEW.received_on) AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = OLD.agreement_id) IS (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = NEW.agreement_id) AND OLD.amount_minor IS NEW.amount_minor)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'payments', strftime('%Y-%m-%d 00:00:00', OLD.received_on), (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = OLD.agreement_id), -1, -OLD.amount_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.received_on) IS NOT NULL AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = OLD.agreement_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'payments', strftime('%Y-%m-%d 00:00:00', NEW.received_on), (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = NEW.agreement_id), 1, NEW.amount_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', NEW.received_on) IS NOT NULL AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = NEW.agreement_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_payments_deleted AFTER DELETE ON payments
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d 00:00:00', OLD.received_on) IS NOT NULL AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = OLD.agreement_id) IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'payments', strftime('%Y-%m-%d 00:00:00', OLD.received_on), (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = OLD.agreement_id), -1, -OLD.amount_minor, 0
  WHERE strftime('%Y-%m-%d 00:00:00', OLD.received_on) IS NOT NULL AND (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = OLD.agreement_id) IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE VIEW report_tally_rows_insurance_policies AS
    SELECT 'policies' AS measure, strftime('%Y-%m-%d %H:00:00', R.bound_at) AS slot, R.currency AS k, R.premium_minor AS amount, R.subsidy_minor AS amount2 FROM insurance_policies R;

CREATE TRIGGER report_tallies_policies_inserted AFTER INSERT ON insurance_policies
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', NEW.bound_at) IS NOT NULL AND NEW.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'policies', strftime('%Y-%m-%d %H:00:00', NEW.bound_at), NEW.currency, 1, NEW.premium_minor, NEW.subsidy_minor
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.bound_at) IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_policies_updated AFTER UPDATE ON insurance_policies
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d %H:00:00', OLD.bound_at) IS strftime('%Y-%m-%d %H:00:00', NEW.bound_at) AND OLD.currency IS NEW.currency AND OLD.premium_minor IS NEW.premium_minor AND OLD.subsidy_minor IS NEW.subsidy_minor)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'policies', strftime('%Y-%m-%d %H:00:00', OLD.bound_at), OLD.currency, -1, -OLD.premium_minor, -OLD.subsidy_minor
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.bound_at) IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'policies', strftime('%Y-%m-%d %H:00:00', NEW.bound_at), NEW.currency, 1, NEW.premium_minor, NEW.subsidy_minor
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.bound_at) IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_policies_deleted AFTER DELETE ON insurance_policies
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', OLD.bound_at) IS NOT NULL AND OLD.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'policies', strftime('%Y-%m-%d %H:00:00', OLD.bound_at), OLD.currency, -1, -OLD.premium_minor, -OLD.subsidy_minor
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.bound_at) IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE VIEW report_tally_rows_insurance_claims AS
    SELECT 'claims_filed' AS measure, strftime('%Y-%m-%d %H:00:00', R.filed_at) AS slot, R.currency AS k, 0 AS amount, 0 AS amount2 FROM insurance_claims R
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN R.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', R.decided_at) END AS slot, R.currency AS k, 0 AS amount, 0 AS amount2 FROM insurance_claims R
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN R.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', R.paid_at) END AS slot, R.currency AS k, COALESCE(R.payout_minor, 0) AS amount, 0 AS amount2 FROM insurance_claims R;

CREATE TRIGGER report_tallies_claims_filed_inserted AFTER INSERT ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', NEW.filed_at) IS NOT NULL AND NEW.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_filed', strftime('%Y-%m-%d %H:00:00', NEW.filed_at), NEW.currency, 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.filed_at) IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_filed_updated AFTER UPDATE ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (strftime('%Y-%m-%d %H:00:00', OLD.filed_at) IS strftime('%Y-%m-%d %H:00:00', NEW.filed_at) AND OLD.currency IS NEW.currency)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_filed', strftime('%Y-%m-%d %H:00:00', OLD.filed_at), OLD.currency, -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.filed_at) IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_filed', strftime('%Y-%m-%d %H:00:00', NEW.filed_at), NEW.currency, 1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', NEW.filed_at) IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_filed_deleted AFTER DELETE ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND strftime('%Y-%m-%d %H:00:00', OLD.filed_at) IS NOT NULL AND OLD.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_filed', strftime('%Y-%m-%d %H:00:00', OLD.filed_at), OLD.currency, -1, 0, 0
  WHERE strftime('%Y-%m-%d %H:00:00', OLD.filed_at) IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_approved_inserted AFTER INSERT ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', NEW.decided_at) END IS NOT NULL AND NEW.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_approved', CASE WHEN NEW.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', NEW.decided_at) END, NEW.currency, 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', NEW.decided_at) END IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_approved_updated AFTER UPDATE ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', OLD.decided_at) END IS CASE WHEN NEW.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', NEW.decided_at) END AND OLD.currency IS NEW.currency)
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_approved', CASE WHEN OLD.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', OLD.decided_at) END, OLD.currency, -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', OLD.decided_at) END IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_approved', CASE WHEN NEW.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', NEW.decided_at) END, NEW.currency, 1, 0, 0
  WHERE CASE WHEN NEW.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', NEW.decided_at) END IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_approved_deleted AFTER DELETE ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', OLD.decided_at) END IS NOT NULL AND OLD.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_approved', CASE WHEN OLD.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', OLD.decided_at) END, OLD.currency, -1, 0, 0
  WHERE CASE WHEN OLD.status IN ('approved', 'paid') THEN strftime('%Y-%m-%d %H:00:00', OLD.decided_at) END IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_paid_inserted AFTER INSERT ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN NEW.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', NEW.paid_at) END IS NOT NULL AND NEW.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_paid', CASE WHEN NEW.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', NEW.paid_at) END, NEW.currency, 1, COALESCE(NEW.payout_minor, 0), 0
  WHERE CASE WHEN NEW.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', NEW.paid_at) END IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_paid_updated AFTER UPDATE ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND NOT (CASE WHEN OLD.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', OLD.paid_at) END IS CASE WHEN NEW.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', NEW.paid_at) END AND OLD.currency IS NEW.currency AND COALESCE(OLD.payout_minor, 0) IS COALESCE(NEW.payout_minor, 0))
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_paid', CASE WHEN OLD.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', OLD.paid_at) END, OLD.currency, -1, -COALESCE(OLD.payout_minor, 0), 0
  WHERE CASE WHEN OLD.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', OLD.paid_at) END IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_paid', CASE WHEN NEW.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', NEW.paid_at) END, NEW.currency, 1, COALESCE(NEW.payout_minor, 0), 0
  WHERE CASE WHEN NEW.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', NEW.paid_at) END IS NOT NULL AND NEW.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

CREATE TRIGGER report_tallies_claims_paid_deleted AFTER DELETE ON insurance_claims
WHEN NOT EXISTS (SELECT 1 FROM report_tallies_paused) AND CASE WHEN OLD.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', OLD.paid_at) END IS NOT NULL AND OLD.currency IS NOT NULL
BEGIN
INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT 'claims_paid', CASE WHEN OLD.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', OLD.paid_at) END, OLD.currency, -1, -COALESCE(OLD.payout_minor, 0), 0
  WHERE CASE WHEN OLD.status = 'paid' THEN strftime('%Y-%m-%d %H:00:00', OLD.paid_at) END IS NOT NULL AND OLD.currency IS NOT NULL
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,
    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;
END;

-- What is already stored.

INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) FROM report_tally_rows_agreements
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k;

INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) FROM report_tally_rows_conversion_contracts
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k;

INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) FROM report_tally_rows_payments
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k;

INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) FROM report_tally_rows_insurance_policies
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k;

INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) FROM report_tally_rows_insurance_claims
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k;
