#!/usr/bin/env python3
# Writes the SQL of the report's roll-ups from one list of measures per table: the migration
# migrations/{sqlite,postgres}/2026-12-20-000070_report_tallies (the table, the triggers and the
# first count) and src/reports/tallies_{sqlite,postgres}.sql (the recount). An authoring aid:
# the build reads the files it wrote. Usage: python3 scripts/report-tallies-sql.py . (the repo root)
import sys, os
DECIDED = "('converted', 'declined', 'lapsed')"

def fns(backend):
    if backend == 'sqlite':
        return dict(
            H=lambda x: f"strftime('%Y-%m-%d %H:00:00', {x})",
            DAY=lambda x: f"strftime('%Y-%m-%d 00:00:00', {x})",
            D=lambda x: f"strftime('%Y-%m-%d 00:00:00', {x})",
            TXT=lambda x: f"CAST({x} AS TEXT)",
        )
    return dict(
        H=lambda x: f"date_trunc('hour', {x})",
        DAY=lambda x: f"date_trunc('day', {x})",
        D=lambda x: f"CAST({x} AS TIMESTAMP)",
        TXT=lambda x: f"CAST({x} AS TEXT)",
    )

def when(cond, x):
    return f"CASE WHEN {cond} THEN {x} END"

# Each table's contributions: (measure, slot, key, amount, amount2) over row R.
def contributions(table, f):
    H, DAY, D, TXT = f['H'], f['DAY'], f['D'], f['TXT']
    prov = "(SELECT o.province FROM organisations o WHERE o.id = R.sme_id)"
    if table == 'agreements':
        dec_day = when(f"R.status IN {DECIDED}", DAY("R.closed_at"))
        conv_day = when("R.status = 'converted'", DAY("R.closed_at"))
        return [
            ('requests', H("R.created_at"), "''", '0', '0'),
            ('approvals', H("R.approved_at"), "''", '0', '0'),
            ('closings', H("R.closed_at"), "R.status", '0', '0'),
            ('started', D("R.started_on"), "''", '0', '0'),
            ('ended', D("R.trial_ended_on"), "''", '0', '0'),
            ('decision_days', when(f"R.status IN {DECIDED}", DAY("R.closed_at")), TXT("R.decision_days"), '0', '0'),
            ('requests_by_technology', DAY("R.created_at"), "R.technology_id", '0', '0'),
            ('requests_by_province', DAY("R.created_at"), prov, '0', '0'),
            ('started_by_technology', D("R.started_on"), "R.technology_id", '0', '0'),
            ('started_by_province', D("R.started_on"), prov, '0', '0'),
            ('converted_by_technology', conv_day, "R.technology_id", '0', '0'),
            ('converted_by_province', conv_day, prov, '0', '0'),
            ('decided_by_technology', dec_day, "R.technology_id", '0', '0'),
            ('decided_by_province', dec_day, prov, '0', '0'),
        ]
    if table == 'conversion_contracts':
        return [('contracts', D("R.converted_on"), "R.currency", "R.total_minor", '0')]
    if table == 'payments':
        cur = "(SELECT c.currency FROM conversion_contracts c WHERE c.agreement_id = R.agreement_id)"
        return [('payments', D("R.received_on"), cur, "R.amount_minor", '0')]
    if table == 'insurance_policies':
        return [('policies', H("R.bound_at"), "R.currency", "R.premium_minor", "R.subsidy_minor")]
    if table == 'insurance_claims':
        return [
            ('claims_filed', H("R.filed_at"), "R.currency", '0', '0'),
            ('claims_approved', when("R.status IN ('approved', 'paid')", H("R.decided_at")), "R.currency", '0', '0'),
            ('claims_paid', when("R.status = 'paid'", H("R.paid_at")), "R.currency", "COALESCE(R.payout_minor, 0)", '0'),
        ]
    raise ValueError(table)

# The columns whose change moves a tally (SQLite's update trigger fires only then).
WATCHED = {
    'agreements': ['status', 'created_at', 'approved_at', 'closed_at', 'started_on', 'trial_ended_on', 'decision_days', 'technology_id', 'sme_id'],
    'conversion_contracts': ['converted_on', 'currency', 'total_minor'],
    'payments': ['received_on', 'agreement_id', 'amount_minor'],
    'insurance_policies': ['bound_at', 'currency', 'premium_minor', 'subsidy_minor'],
    'insurance_claims': ['status', 'filed_at', 'decided_at', 'paid_at', 'currency', 'payout_minor'],
}
TABLES = list(WATCHED)

def selects(table, f, ref, sign, source):
    """One SELECT per contribution; `ref` replaces R (NEW/OLD in a SQLite row trigger, R with
    a FROM otherwise)."""
    out = []
    for (m, slot, k, a, a2) in contributions(table, f):
        def signed(x):
            if x == '0':
                return '0'
            return x if sign == '1' else f"-{x}"
        s = (f"SELECT '{m}' AS measure, {slot} AS slot, {k} AS k, {sign} AS n, "
             f"{signed(a)} AS amount, {signed(a2)} AS amount2")
        if source:
            s += f" FROM {source} R"
        else:
            s = s.replace("R.", f"{ref}.")
        out.append(s)
    return out

def upsert(parts, backend, net_only):
    body = "\n    UNION ALL ".join(parts)
    having = "\n  HAVING SUM(n) <> 0 OR SUM(amount) <> 0 OR SUM(amount2) <> 0" if net_only else ""
    t = "report_tallies" if backend == 'sqlite' else "t"
    alias = "" if backend == 'sqlite' else " AS t"
    order = "" if backend == 'sqlite' else "\n  ORDER BY measure, slot, k"
    return (f"INSERT INTO report_tallies{alias} (measure, slot, k, n, amount, amount2)\n"
            f"  SELECT measure, slot, k, SUM(n), SUM(amount), SUM(amount2) FROM (\n    {body}\n  ) d\n"
            f"  WHERE slot IS NOT NULL AND k IS NOT NULL\n  GROUP BY measure, slot, k{having}{order}\n"
            f"  ON CONFLICT (measure, slot, k) DO UPDATE SET n = {t}.n + excluded.n,\n"
            f"    amount = {t}.amount + excluded.amount, amount2 = {t}.amount2 + excluded.amount2;\n")

HEAD = """-- The monthly report's roll-ups: for each measure, the rows (and their amounts) counted per
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

"""

def sqlite_row(m, slot, k, a, a2, sign, guard):
    """One upsert of one measure for one row (NEW or OLD already substituted)."""
    def signed(x):
        if x == '0':
            return '0'
        return x if sign == '1' else f"-{x}"
    where = f"{slot} IS NOT NULL AND {k} IS NOT NULL"
    if guard:
        where = f"({guard}) AND {where}"
    return (f"INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)\n"
            f"  SELECT '{m}', {slot}, {k}, {sign}, {signed(a)}, {signed(a2)}\n  WHERE {where}\n"
            f"  ON CONFLICT (measure, slot, k) DO UPDATE SET n = report_tallies.n + excluded.n,\n"
            f"    amount = report_tallies.amount + excluded.amount, amount2 = report_tallies.amount2 + excluded.amount2;\n")

def sqlite_up():
    f = fns('sqlite')
    out = [HEAD]
    live = "NOT EXISTS (SELECT 1 FROM report_tallies_paused)"
    for t in TABLES:
        cs = contributions(t, f)
        sub = lambda x, ref: x.replace("R.", f"{ref}.")
        ins = "".join(sqlite_row(m, sub(sl, 'NEW'), sub(k, 'NEW'), sub(a, 'NEW'), sub(a2, 'NEW'), '1', None) for (m, sl, k, a, a2) in cs)
        out.append(f"CREATE TRIGGER report_tallies_{t}_inserted AFTER INSERT ON {t}\nWHEN {live}\nBEGIN\n{ins}END;\n")
        cond = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED[t])
        upd = ""
        for (m, sl, k, a, a2) in cs:
            # Only a measure whose slot, key or amounts moved is touched.
            same = " AND ".join(f"{sub(x, 'OLD')} IS {sub(x, 'NEW')}" for x in (sl, k, a, a2) if x not in ('0', "''"))
            moved = f"NOT ({same})"
            upd += sqlite_row(m, sub(sl, 'OLD'), sub(k, 'OLD'), sub(a, 'OLD'), sub(a2, 'OLD'), '-1', moved)
            upd += sqlite_row(m, sub(sl, 'NEW'), sub(k, 'NEW'), sub(a, 'NEW'), sub(a2, 'NEW'), '1', moved)
        out.append(f"CREATE TRIGGER report_tallies_{t}_updated AFTER UPDATE ON {t}\nWHEN {live} AND ({cond})\nBEGIN\n{upd}END;\n")
        dele = "".join(sqlite_row(m, sub(sl, 'OLD'), sub(k, 'OLD'), sub(a, 'OLD'), sub(a2, 'OLD'), '-1', None) for (m, sl, k, a, a2) in cs)
        out.append(f"CREATE TRIGGER report_tallies_{t}_deleted AFTER DELETE ON {t}\nWHEN {live}\nBEGIN\n{dele}END;\n")
    out.append("-- What is already stored.\n")
    for t in TABLES:
        out.append(upsert(selects(t, f, None, '1', t), 'sqlite', False))
    return "\n".join(out)

def pg_up():
    f = fns('postgres')
    out = [HEAD]
    for t in TABLES:
        ins = upsert(selects(t, f, None, '1', 'new_rows'), 'postgres', False)
        upd = upsert(selects(t, f, None, '1', 'new_rows') + selects(t, f, None, '-1', 'old_rows'), 'postgres', True)
        dele = upsert(selects(t, f, None, '-1', 'old_rows'), 'postgres', False)
        out.append(f"""CREATE FUNCTION report_tallies_{t}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
{ins}ELSIF TG_OP = 'UPDATE' THEN
{upd}ELSE
{dele}END IF;
RETURN NULL;
END
$$;
CREATE TRIGGER report_tallies_{t}_inserted AFTER INSERT ON {t}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_{t}();
CREATE TRIGGER report_tallies_{t}_updated AFTER UPDATE ON {t}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_{t}();
CREATE TRIGGER report_tallies_{t}_deleted AFTER DELETE ON {t}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_tallies_{t}();
""")
    out.append("-- What is already stored.\n")
    for t in TABLES:
        out.append(upsert(selects(t, f, None, '1', t), 'postgres', False))
    return "\n".join(out)

def down(backend):
    out = []
    for t in TABLES:
        for w in ('inserted', 'updated', 'deleted'):
            out.append(f"DROP TRIGGER report_tallies_{t}_{w}" + ("" if backend == 'sqlite' else f" ON {t}") + ";")
        if backend == 'postgres':
            out.append(f"DROP FUNCTION report_tallies_{t}();")
    out.append("DROP INDEX insurance_claims_filed_at;")
    out.append("DROP INDEX insurance_claims_decided_at;")
    out.append("DROP INDEX insurance_claims_paid_at;")
    out.append("DROP TABLE report_tallies_paused;")
    out.append("DROP TABLE report_tallies;")
    return "\n".join(out) + "\n"

def rebuild(backend):
    f = fns(backend)
    head = ("-- Generated with the report_tallies migration: every tally counted again from the\n"
            "-- tables (`reports::tallies::rebuild`, after DELETE FROM report_tallies).\n")
    return head + "\n".join(upsert(selects(t, f, None, '1', t), backend, False) for t in TABLES)

root = sys.argv[1]
for b in ('sqlite', 'postgres'):
    open(os.path.join(root, 'src', 'reports', f'tallies_{b}.sql'), 'w').write(rebuild(b))
name = "2026-12-20-000070_report_tallies"
for b, up in (('sqlite', sqlite_up()), ('postgres', pg_up())):
    d = os.path.join(root, 'migrations', b, name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'up.sql'), 'w').write(up)
    open(os.path.join(d, 'down.sql'), 'w').write(down(b))
