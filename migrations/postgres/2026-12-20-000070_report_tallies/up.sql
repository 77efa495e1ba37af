-- The monthly report's roll-ups: for each measure, the rows (and their amounts) counted per
-- slot and key, kept by the triggers below in the same transaction as each change to the
-- rows they count, so a report over years of agreements reads a few thousand tallies instead
-- of the tables. A slot is the start of a UTC hour for instants (when a request was made,
-- approved, closed; a policy bound; a claim filed, decided, paid), of a UTC day for the
-- decision-day histogram and the breakdowns by technology and province, and the calendar day
-- itself for dates (a trial's first and last day, a conversion, a payment received). The
-- report adds the slots inside its bounds and reads the rows of a slot a bound cuts through
-- from the tables (`reports::figures`); the GROUP BY over the tables stays as the check
-- (`usefirst report-check`).
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
-- with it, then counts everything again from the tables and removes it in one transaction
-- (`reports::tallies::rebuild`); a report made meanwhile reads the tables.
CREATE TABLE report_tallies_paused (
    since TIMESTAMP NOT NULL
);

-- A report in a zone whose midnights cut through a UTC hour reads that hour's claims from
-- the table: by when they were filed, decided and paid.
CREATE INDEX insurance_claims_filed_at ON insurance_claims (filed_at);
CREATE INDEX insurance_claims_decided_at ON insurance_claims (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX insurance_claims_paid_at ON insurance_claims (paid_at) WHERE paid_at IS NOT NULL;


CREATE FUNCTION report_tallies_agreements() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'requests' AS measure, date_trunc('hour', R.created_at) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'approvals' AS measure, date_trunc('hour', R.approved_at) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'closings' AS measure, date_trunc('hour', R.closed_at) AS slot, R.status AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'started' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'ended' AS measure, CAST(R.trial_ended_on AS TIMESTAMP) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, CAST(R.decision_days AS TEXT) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'requests_by_technology' AS measure, date_trunc('day', R.created_at) AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'requests_by_province' AS measure, date_trunc('day', R.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'started_by_technology' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'started_by_province' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'requests' AS measure, date_trunc('hour', R.created_at) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'approvals' AS measure, date_trunc('hour', R.approved_at) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'closings' AS measure, date_trunc('hour', R.closed_at) AS slot, R.status AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'started' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'ended' AS measure, CAST(R.trial_ended_on AS TIMESTAMP) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, CAST(R.decision_days AS TEXT) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'requests_by_technology' AS measure, date_trunc('day', R.created_at) AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'requests_by_province' AS measure, date_trunc('day', R.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'started_by_technology' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'started_by_province' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'requests' AS measure, date_trunc('hour', R.created_at) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'approvals' AS measure, date_trunc('hour', R.approved_at) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'closings' AS measure, date_trunc('hour', R.closed_at) AS slot, R.status AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'started' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'ended' AS measure, CAST(R.trial_ended_on AS TIMESTAMP) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, CAST(R.decision_days AS TEXT) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'requests_by_technology' AS measure, date_trunc('day', R.created_at) AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'requests_by_province' AS measure, date_trunc('day', R.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'started_by_technology' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'started_by_province' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  HAVING SUM(n) <> 0 OR SUM(amount) <> 0 OR SUM(amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'requests' AS measure, date_trunc('hour', R.created_at) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'approvals' AS measure, date_trunc('hour', R.approved_at) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'closings' AS measure, date_trunc('hour', R.closed_at) AS slot, R.status AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'started' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'ended' AS measure, CAST(R.trial_ended_on AS TIMESTAMP) AS slot, '' AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, CAST(R.decision_days AS TEXT) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'requests_by_technology' AS measure, date_trunc('day', R.created_at) AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'requests_by_province' AS measure, date_trunc('day', R.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'started_by_technology' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'started_by_province' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
END IF;
RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_agreements_inserted AFTER INSERT ON agreements
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_agreements();
CREATE TRIGGER report_tallies_agreements_updated AFTER UPDATE ON agreements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_agreements();
CREATE TRIGGER report_tallies_agreements_deleted AFTER DELETE ON agreements
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_agreements();

CREATE FUNCTION report_tallies_conversion_contracts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'contracts' AS measure, CAST(R.converted_on AS TIMESTAMP) AS slot, R.currency AS k, 1 AS n, R.total_minor AS amount, 0 AS amount2 FROM new_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'contracts' AS measure, CAST(R.converted_on AS TIMESTAMP) AS slot, R.currency AS k, 1 AS n, R.total_minor AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'contracts' AS measure, CAST(R.converted_on AS TIMESTAMP) AS slot, R.currency AS k, -1 AS n, -R.total_minor AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  HAVING SUM(n) <> 0 OR SUM(amount) <> 0 OR SUM(amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'contracts' AS measure, CAST(R.converted_on AS TIMESTAMP) AS slot, R.currency AS k, -1 AS n, -R.total_minor AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
END IF;
RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_conversion_contracts_inserted AFTER INSERT ON conversion_contracts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_conversion_contracts();
CREATE TRIGGER report_tallies_conversion_contracts_updated AFTER UPDATE ON conversion_contracts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_conversion_contracts();
CREATE TRIGGER report_tallies_conversion_contracts_deleted AFTER DELETE ON conversion_contracts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_conversion_contracts();

CREATE FUNCTION report_tallies_payments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'payments' AS measure, CAST(R.received_on AS TIMESTAMP) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id) AS k, 1 AS n, R.amount_minor AS amount, 0 AS amount2 FROM new_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'payments' AS measure, CAST(R.received_on AS TIMESTAMP) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id) AS k, 1 AS n, R.amount_minor AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'payments' AS measure, CAST(R.received_on AS TIMESTAMP) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id) AS k, -1 AS n, -R.amount_minor AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  HAVING SUM(n) <> 0 OR SUM(amount) <> 0 OR SUM(amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'payments' AS measure, CAST(R.received_on AS TIMESTAMP) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id) AS k, -1 AS n, -R.amount_minor AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
END IF;
RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_payments_inserted AFTER INSERT ON payments
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_payments();
CREATE TRIGGER report_tallies_payments_updated AFTER UPDATE ON payments
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_payments();
CREATE TRIGGER report_tallies_payments_deleted AFTER DELETE ON payments
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_payments();

CREATE FUNCTION report_tallies_insurance_policies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'policies' AS measure, date_trunc('hour', R.bound_at) AS slot, R.currency AS k, 1 AS n, R.premium_minor AS amount, R.subsidy_minor AS amount2 FROM new_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'policies' AS measure, date_trunc('hour', R.bound_at) AS slot, R.currency AS k, 1 AS n, R.premium_minor AS amount, R.subsidy_minor AS amount2 FROM new_rows R
    UNION ALL SELECT 'policies' AS measure, date_trunc('hour', R.bound_at) AS slot, R.currency AS k, -1 AS n, -R.premium_minor AS amount, -R.subsidy_minor AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  HAVING SUM(n) <> 0 OR SUM(amount) <> 0 OR SUM(amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'policies' AS measure, date_trunc('hour', R.bound_at) AS slot, R.currency AS k, -1 AS n, -R.premium_minor AS amount, -R.subsidy_minor AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
END IF;
RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_insurance_policies_inserted AFTER INSERT ON insurance_policies
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_insurance_policies();
CREATE TRIGGER report_tallies_insurance_policies_updated AFTER UPDATE ON insurance_policies
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_insurance_policies();
CREATE TRIGGER report_tallies_insurance_policies_deleted AFTER DELETE ON insurance_policies
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_insurance_policies();

CREATE FUNCTION report_tallies_insurance_claims() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'claims_filed' AS measure, date_trunc('hour', R.filed_at) AS slot, R.currency AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN R.status IN ('approved', 'paid') THEN date_trunc('hour', R.decided_at) END AS slot, R.currency AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN R.status = 'paid' THEN date_trunc('hour', R.paid_at) END AS slot, R.currency AS k, 1 AS n, COALESCE(R.payout_minor, 0) AS amount, 0 AS amount2 FROM new_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'claims_filed' AS measure, date_trunc('hour', R.filed_at) AS slot, R.currency AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN R.status IN ('approved', 'paid') THEN date_trunc('hour', R.decided_at) END AS slot, R.currency AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN R.status = 'paid' THEN date_trunc('hour', R.paid_at) END AS slot, R.currency AS k, 1 AS n, COALESCE(R.payout_minor, 0) AS amount, 0 AS amount2 FROM new_rows R
    UNION ALL SELECT 'claims_filed' AS measure, date_trunc('hour', R.filed_at) AS slot, R.currency AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN R.status IN ('approved', 'paid') THEN date_trunc('hour', R.decided_at) END AS slot, R.currency AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN R.status = 'paid' THEN date_trunc('hour', R.paid_at) END AS slot, R.currency AS k, -1 AS n, -COALESCE(R.payout_minor, 0) AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  HAVING SUM(n) <> 0 OR SUM(amount) <> 0 OR SUM(amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'claims_filed' AS measure, date_trunc('hour', R.filed_at) AS slot, R.currency AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN R.status IN ('approved', 'paid') THEN date_trunc('hour', R.decided_at) END AS slot, R.currency AS k, -1 AS n, 0 AS amount, 0 AS amount2 FROM old_rows R
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN R.status = 'paid' THEN date_trunc('hour', R.paid_at) END AS slot, R.currency AS k, -1 AS n, -COALESCE(R.payout_minor, 0) AS amount, 0 AS amount2 FROM old_rows R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
END IF;
RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_insurance_claims_inserted AFTER INSERT ON insurance_claims
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_insurance_claims();
CREATE TRIGGER report_tallies_insurance_claims_updated AFTER UPDATE ON insurance_claims
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_insurance_claims();
CREATE TRIGGER report_tallies_insurance_claims_deleted AFTER DELETE ON insurance_claims
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_insurance_claims();

-- What is already stored.

INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'requests' AS measure, date_trunc('hour', R.created_at) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'approvals' AS measure, date_trunc('hour', R.approved_at) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'closings' AS measure, date_trunc('hour', R.closed_at) AS slot, R.status AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'started' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'ended' AS measure, CAST(R.trial_ended_on AS TIMESTAMP) AS slot, '' AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, CAST(R.decision_days AS TEXT) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'requests_by_technology' AS measure, date_trunc('day', R.created_at) AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'requests_by_province' AS measure, date_trunc('day', R.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'started_by_technology' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'started_by_province' AS measure, CAST(R.started_on AS TIMESTAMP) AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN R.status = 'converted' THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, R.technology_id AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN R.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', R.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = R.sme_id) AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM agreements R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;

INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'contracts' AS measure, CAST(R.converted_on AS TIMESTAMP) AS slot, R.currency AS k, 1 AS n, R.total_minor AS amount, 0 AS amount2 FROM conversion_contracts R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;

INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'payments' AS measure, CAST(R.received_on AS TIMESTAMP) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id) AS k, 1 AS n, R.amount_minor AS amount, 0 AS amount2 FROM payments R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;

INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'policies' AS measure, date_trunc('hour', R.bound_at) AS slot, R.currency AS k, 1 AS n, R.premium_minor AS amount, R.subsidy_minor AS amount2 FROM insurance_policies R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;

INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (
    SELECT 'claims_filed' AS measure, date_trunc('hour', R.filed_at) AS slot, R.currency AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM insurance_claims R
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN R.status IN ('approved', 'paid') THEN date_trunc('hour', R.decided_at) END AS slot, R.currency AS k, 1 AS n, 0 AS amount, 0 AS amount2 FROM insurance_claims R
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN R.status = 'paid' THEN date_trunc('hour', R.paid_at) END AS slot, R.currency AS k, 1 AS n, COALESCE(R.payout_minor, 0) AS amount, 0 AS amount2 FROM insurance_claims R
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL
  GROUP BY measure, slot, k
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
