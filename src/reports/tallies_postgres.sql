-- Generated with the report_tallies migration: every tally counted again from the
-- tables (`reports::tallies::rebuild`, after DELETE FROM report_tallies).
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
