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


-- What a row of agreements adds to the tallies (its function is called on the changed rows by
-- the trigger, and on every row by the view).
CREATE FUNCTION report_tally_agreements(status text, created_at timestamp, approved_at timestamp, closed_at timestamp, started_on date, trial_ended_on date, decision_days integer, technology_id text, sme_id text)
RETURNS TABLE (measure text, slot timestamp, k text, amount bigint, amount2 bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'requests' AS measure, date_trunc('hour', report_tally_agreements.created_at) AS slot, '' AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'approvals' AS measure, date_trunc('hour', report_tally_agreements.approved_at) AS slot, '' AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'closings' AS measure, date_trunc('hour', report_tally_agreements.closed_at) AS slot, report_tally_agreements.status AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'started' AS measure, CAST(report_tally_agreements.started_on AS TIMESTAMP) AS slot, '' AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'ended' AS measure, CAST(report_tally_agreements.trial_ended_on AS TIMESTAMP) AS slot, '' AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'decision_days' AS measure, CASE WHEN report_tally_agreements.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', report_tally_agreements.closed_at) END AS slot, CAST(report_tally_agreements.decision_days AS TEXT) AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'requests_by_technology' AS measure, date_trunc('day', report_tally_agreements.created_at) AS slot, report_tally_agreements.technology_id AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'requests_by_province' AS measure, date_trunc('day', report_tally_agreements.created_at) AS slot, (SELECT o.province FROM organisations o WHERE o.id = report_tally_agreements.sme_id) AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'started_by_technology' AS measure, CAST(report_tally_agreements.started_on AS TIMESTAMP) AS slot, report_tally_agreements.technology_id AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'started_by_province' AS measure, CAST(report_tally_agreements.started_on AS TIMESTAMP) AS slot, (SELECT o.province FROM organisations o WHERE o.id = report_tally_agreements.sme_id) AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'converted_by_technology' AS measure, CASE WHEN report_tally_agreements.status = 'converted' THEN date_trunc('day', report_tally_agreements.closed_at) END AS slot, report_tally_agreements.technology_id AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'converted_by_province' AS measure, CASE WHEN report_tally_agreements.status = 'converted' THEN date_trunc('day', report_tally_agreements.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = report_tally_agreements.sme_id) AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'decided_by_technology' AS measure, CASE WHEN report_tally_agreements.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', report_tally_agreements.closed_at) END AS slot, report_tally_agreements.technology_id AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'decided_by_province' AS measure, CASE WHEN report_tally_agreements.status IN ('converted', 'declined', 'lapsed') THEN date_trunc('day', report_tally_agreements.closed_at) END AS slot, (SELECT o.province FROM organisations o WHERE o.id = report_tally_agreements.sme_id) AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
$$;
CREATE VIEW report_tally_rows_agreements AS
    SELECT c.* FROM agreements r CROSS JOIN LATERAL report_tally_agreements(r.status, r.created_at, r.approved_at, r.closed_at, r.started_on, r.trial_ended_on, r.decision_days, r.technology_id, r.sme_id) c;
CREATE FUNCTION report_tallies_agreements() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_agreements(r.status, r.created_at, r.approved_at, r.closed_at, r.started_on, r.trial_ended_on, r.decision_days, r.technology_id, r.sme_id) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_agreements(r.status, r.created_at, r.approved_at, r.closed_at, r.started_on, r.trial_ended_on, r.decision_days, r.technology_id, r.sme_id) c
    UNION ALL SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_agreements(r.status, r.created_at, r.approved_at, r.closed_at, r.started_on, r.trial_ended_on, r.decision_days, r.technology_id, r.sme_id) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_agreements(r.status, r.created_at, r.approved_at, r.closed_at, r.started_on, r.trial_ended_on, r.decision_days, r.technology_id, r.sme_id) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
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

-- What a row of conversion_contracts adds to the tallies (its function is called on the changed rows by
-- the trigger, and on every row by the view).
CREATE FUNCTION report_tally_conversion_contracts(converted_on date, currency text, total_minor bigint)
RETURNS TABLE (measure text, slot timestamp, k text, amount bigint, amount2 bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'contracts' AS measure, CAST(report_tally_conversion_contracts.converted_on AS TIMESTAMP) AS slot, report_tally_conversion_contracts.currency AS k, CAST(report_tally_conversion_contracts.total_minor AS bigint) AS amount, CAST(0 AS bigint) AS amount2
$$;
CREATE VIEW report_tally_rows_conversion_contracts AS
    SELECT c.* FROM conversion_contracts r CROSS JOIN LATERAL report_tally_conversion_contracts(r.converted_on, r.currency, r.total_minor) c;
CREATE FUNCTION report_tallies_conversion_contracts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_conversion_contracts(r.converted_on, r.currency, r.total_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_conversion_contracts(r.converted_on, r.currency, r.total_minor) c
    UNION ALL SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_conversion_contracts(r.converted_on, r.currency, r.total_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_conversion_contracts(r.converted_on, r.currency, r.total_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
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

-- What a row of payments adds to the tallies (its function is called on the changed rows by
-- the trigger, and on every row by the view).
CREATE FUNCTION report_tally_payments(received_on date, agreement_id text, amount_minor bigint)
RETURNS TABLE (measure text, slot timestamp, k text, amount bigint, amount2 bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'payments' AS measure, CAST(report_tally_payments.received_on AS TIMESTAMP) AS slot, (SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = report_tally_payments.agreement_id) AS k, CAST(report_tally_payments.amount_minor AS bigint) AS amount, CAST(0 AS bigint) AS amount2
$$;
CREATE VIEW report_tally_rows_payments AS
    SELECT c.* FROM payments r CROSS JOIN LATERAL report_tally_payments(r.received_on, r.agreement_id, r.amount_minor) c;
CREATE FUNCTION report_tallies_payments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_payments(r.received_on, r.agreement_id, r.amount_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_payments(r.received_on, r.agreement_id, r.amount_minor) c
    UNION ALL SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_payments(r.received_on, r.agreement_id, r.amount_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_payments(r.received_on, r.agreement_id, r.amount_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
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

-- What a row of insurance_policies adds to the tallies (its function is called on the changed rows by
-- the trigger, and on every row by the view).
CREATE FUNCTION report_tally_insurance_policies(bound_at timestamp, currency text, premium_minor bigint, subsidy_minor bigint)
RETURNS TABLE (measure text, slot timestamp, k text, amount bigint, amount2 bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'policies' AS measure, date_trunc('hour', report_tally_insurance_policies.bound_at) AS slot, report_tally_insurance_policies.currency AS k, CAST(report_tally_insurance_policies.premium_minor AS bigint) AS amount, CAST(report_tally_insurance_policies.subsidy_minor AS bigint) AS amount2
$$;
CREATE VIEW report_tally_rows_insurance_policies AS
    SELECT c.* FROM insurance_policies r CROSS JOIN LATERAL report_tally_insurance_policies(r.bound_at, r.currency, r.premium_minor, r.subsidy_minor) c;
CREATE FUNCTION report_tallies_insurance_policies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_insurance_policies(r.bound_at, r.currency, r.premium_minor, r.subsidy_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_insurance_policies(r.bound_at, r.currency, r.premium_minor, r.subsidy_minor) c
    UNION ALL SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_insurance_policies(r.bound_at, r.currency, r.premium_minor, r.subsidy_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_insurance_policies(r.bound_at, r.currency, r.premium_minor, r.subsidy_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
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

-- What a row of insurance_claims adds to the tallies (its function is called on the changed rows by
-- the trigger, and on every row by the view).
CREATE FUNCTION report_tally_insurance_claims(status text, filed_at timestamp, decided_at timestamp, paid_at timestamp, currency text, payout_minor bigint)
RETURNS TABLE (measure text, slot timestamp, k text, amount bigint, amount2 bigint)
LANGUAGE sql STABLE AS $$
    SELECT 'claims_filed' AS measure, date_trunc('hour', report_tally_insurance_claims.filed_at) AS slot, report_tally_insurance_claims.currency AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'claims_approved' AS measure, CASE WHEN report_tally_insurance_claims.status IN ('approved', 'paid') THEN date_trunc('hour', report_tally_insurance_claims.decided_at) END AS slot, report_tally_insurance_claims.currency AS k, CAST(0 AS bigint) AS amount, CAST(0 AS bigint) AS amount2
    UNION ALL SELECT 'claims_paid' AS measure, CASE WHEN report_tally_insurance_claims.status = 'paid' THEN date_trunc('hour', report_tally_insurance_claims.paid_at) END AS slot, report_tally_insurance_claims.currency AS k, CAST(COALESCE(report_tally_insurance_claims.payout_minor, 0) AS bigint) AS amount, CAST(0 AS bigint) AS amount2
$$;
CREATE VIEW report_tally_rows_insurance_claims AS
    SELECT c.* FROM insurance_claims r CROSS JOIN LATERAL report_tally_insurance_claims(r.status, r.filed_at, r.decided_at, r.paid_at, r.currency, r.payout_minor) c;
CREATE FUNCTION report_tallies_insurance_claims() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_insurance_claims(r.status, r.filed_at, r.decided_at, r.paid_at, r.currency, r.payout_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSIF TG_OP = 'UPDATE' THEN
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT 1 AS sign, c.* FROM new_rows r CROSS JOIN LATERAL report_tally_insurance_claims(r.status, r.filed_at, r.decided_at, r.paid_at, r.currency, r.payout_minor) c
    UNION ALL SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_insurance_claims(r.status, r.filed_at, r.decided_at, r.paid_at, r.currency, r.payout_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
  ORDER BY measure, slot, k
  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,
    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;
ELSE
INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)
  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (
    SELECT -1 AS sign, c.* FROM old_rows r CROSS JOIN LATERAL report_tally_insurance_claims(r.status, r.filed_at, r.decided_at, r.paid_at, r.currency, r.payout_minor) c
  ) d
  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k
  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0
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
