#!/usr/bin/env python3
# Writes the migration of the report's roll-ups, migrations/{sqlite,postgres}/
# 2026-12-20-000070_report_tallies, from one list of measures per table (`contributions`): the
# table, a view per counted table of what each row adds (the first count, and the recount in
# `reports::tallies`), and the triggers. PostgreSQL says each table's measures once, in a
# function its trigger and its view call; SQLite, which has no functions, spells them out in
# row triggers, one per measure and change. An authoring aid: the build reads the files it
# wrote. Usage: python3 scripts/report-tallies-sql.py . (the repo root)
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

# The columns a table's measures read, with their PostgreSQL types: the arguments of its
# function, and (SQLite) the columns whose change fires its update trigger.
COLUMNS = {
    'agreements': [('status', 'text'), ('created_at', 'timestamp'), ('approved_at', 'timestamp'),
                   ('closed_at', 'timestamp'), ('started_on', 'date'), ('trial_ended_on', 'date'),
                   ('decision_days', 'integer'), ('technology_id', 'text'), ('sme_id', 'text')],
    'conversion_contracts': [('converted_on', 'date'), ('currency', 'text'), ('total_minor', 'bigint')],
    'payments': [('received_on', 'date'), ('agreement_id', 'text'), ('amount_minor', 'bigint')],
    'insurance_policies': [('bound_at', 'timestamp'), ('currency', 'text'), ('premium_minor', 'bigint'),
                           ('subsidy_minor', 'bigint')],
    'insurance_claims': [('status', 'text'), ('filed_at', 'timestamp'), ('decided_at', 'timestamp'),
                         ('paid_at', 'timestamp'), ('currency', 'text'), ('payout_minor', 'bigint')],
}
TABLES = list(COLUMNS)

def view(table, f, ref, cast):
    """What each row of `table` adds: one SELECT per measure over `ref`'s rows (a table, or
    PostgreSQL's function arguments), columns measure, slot, k, amount, amount2."""
    out = []
    for (m, slot, k, a, a2) in contributions(table, f):
        c = (lambda x: f"CAST({x} AS {cast})") if cast else (lambda x: x)
        s = (f"SELECT '{m}' AS measure, {slot} AS slot, {k} AS k, "
             f"{c(a)} AS amount, {c(a2)} AS amount2")
        out.append(s.replace("R.", f"{ref}.") if ref else s + f" FROM {table} R")
    return "\n    UNION ALL ".join(out)

# A count of every row a view shows, added to the tallies (the first count).
def first_count(table):
    return (f"INSERT INTO report_tallies (measure, slot, k, n, amount, amount2)\n"
            f"  SELECT measure, slot, k, COUNT(*), SUM(amount), SUM(amount2) FROM report_tally_rows_{table}\n"
            f"  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k;\n")

HEAD = """-- The monthly report's roll-ups: for each measure, the rows (and their amounts) counted per
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
    sub = lambda x, ref: x.replace("R.", f"{ref}.")
    for t in TABLES:
        out.append(f"CREATE VIEW report_tally_rows_{t} AS\n    {view(t, f, None, None)};\n")
        # A trigger per measure and change, whose WHEN lets only the measures a row has (or,
        # for an update, whose slot, key or amounts moved) run: a trigger program that runs,
        # even to write nothing, costs a write a few microseconds, and a request has three of
        # fourteen.
        for (m, sl, k, a, a2) in contributions(t, f):
            has = lambda ref: f"{sub(sl, ref)} IS NOT NULL AND {sub(k, ref)} IS NOT NULL"
            add = sqlite_row(m, sub(sl, 'NEW'), sub(k, 'NEW'), sub(a, 'NEW'), sub(a2, 'NEW'), '1', None)
            take = sqlite_row(m, sub(sl, 'OLD'), sub(k, 'OLD'), sub(a, 'OLD'), sub(a2, 'OLD'), '-1', None)
            same = " AND ".join(f"{sub(x, 'OLD')} IS {sub(x, 'NEW')}" for x in (sl, k, a, a2) if x not in ('0', "''"))
            out.append(f"CREATE TRIGGER report_tallies_{m}_inserted AFTER INSERT ON {t}\n"
                       f"WHEN {live} AND {has('NEW')}\nBEGIN\n{add}END;\n")
            out.append(f"CREATE TRIGGER report_tallies_{m}_updated AFTER UPDATE ON {t}\n"
                       f"WHEN {live} AND NOT ({same})\nBEGIN\n{take}{add}END;\n")
            out.append(f"CREATE TRIGGER report_tallies_{m}_deleted AFTER DELETE ON {t}\n"
                       f"WHEN {live} AND {has('OLD')}\nBEGIN\n{take}END;\n")
    out.append("-- What is already stored.\n")
    out.extend(first_count(t) for t in TABLES)
    return "\n".join(out)

def pg_up():
    f = fns('postgres')
    out = [HEAD]
    for t in TABLES:
        cols = COLUMNS[t]
        args = ", ".join(f"{c} {ty}" for c, ty in cols)
        fn = f"report_tally_{t}"
        call = lambda ref: f"{fn}(" + ", ".join(f"{ref}.{c}" for c, _ in cols) + ")"
        # Each branch adds (sign 1) the new rows and takes away (sign -1) the old ones; a
        # measure whose slot, key and amounts did not move adds nothing and is not written.
        def upsert(sources):
            rows = "\n    UNION ALL ".join(f"SELECT {sign} AS sign, c.* FROM {rel} r CROSS JOIN LATERAL {call('r')} c"
                                            for sign, rel in sources)
            return (f"INSERT INTO report_tallies AS t (measure, slot, k, n, amount, amount2)\n"
                    f"  SELECT measure, slot, k, SUM(sign), SUM(sign * amount), SUM(sign * amount2) FROM (\n"
                    f"    {rows}\n  ) d\n"
                    f"  WHERE slot IS NOT NULL AND k IS NOT NULL GROUP BY measure, slot, k\n"
                    f"  HAVING SUM(sign) <> 0 OR SUM(sign * amount) <> 0 OR SUM(sign * amount2) <> 0\n"
                    f"  ORDER BY measure, slot, k\n"
                    f"  ON CONFLICT (measure, slot, k) DO UPDATE SET n = t.n + excluded.n,\n"
                    f"    amount = t.amount + excluded.amount, amount2 = t.amount2 + excluded.amount2;\n")
        out.append(f"""-- What a row of {t} adds to the tallies (its function is called on the changed rows by
-- the trigger, and on every row by the view).
CREATE FUNCTION {fn}({args})
RETURNS TABLE (measure text, slot timestamp, k text, amount bigint, amount2 bigint)
LANGUAGE sql STABLE AS $$
    {view(t, f, fn, 'bigint')}
$$;
CREATE VIEW report_tally_rows_{t} AS
    SELECT c.* FROM {t} r CROSS JOIN LATERAL {call('r')} c;
CREATE FUNCTION report_tallies_{t}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
IF EXISTS (SELECT 1 FROM report_tallies_paused) THEN
RETURN NULL;
ELSIF TG_OP = 'INSERT' THEN
{upsert([(1, 'new_rows')])}ELSIF TG_OP = 'UPDATE' THEN
{upsert([(1, 'new_rows'), (-1, 'old_rows')])}ELSE
{upsert([(-1, 'old_rows')])}END IF;
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
    out.extend(first_count(t) for t in TABLES)
    return "\n".join(out)

def down(backend):
    out = []
    for t in TABLES:
        names = [m for (m, *_) in contributions(t, fns(backend))] if backend == 'sqlite' else [t]
        for name in names:
            for w in ('inserted', 'updated', 'deleted'):
                out.append(f"DROP TRIGGER report_tallies_{name}_{w}" + ("" if backend == 'sqlite' else f" ON {t}") + ";")
        out.append(f"DROP VIEW report_tally_rows_{t};")
        if backend == 'postgres':
            out.append(f"DROP FUNCTION report_tallies_{t}();")
            out.append(f"DROP FUNCTION report_tally_{t};")
    out.append("DROP INDEX insurance_claims_filed_at;")
    out.append("DROP INDEX insurance_claims_decided_at;")
    out.append("DROP INDEX insurance_claims_paid_at;")
    out.append("DROP TABLE report_tallies_paused;")
    out.append("DROP TABLE report_tallies;")
    return "\n".join(out) + "\n"

root = sys.argv[1]
name = "2026-12-20-000070_report_tallies"
for b, up in (('sqlite', sqlite_up()), ('postgres', pg_up())):
    d = os.path.join(root, 'migrations', b, name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'up.sql'), 'w').write(up)
    open(os.path.join(d, 'down.sql'), 'w').write(down(b))
