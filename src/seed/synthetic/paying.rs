//! Payments on the contracts' schedules: drawn first (most pay on time, some only the first
//! line, some part of it, some nothing), then written in bulk with their allocations and the
//! lines' paid amounts, and a share through `app::contracts::record_payment_in` as the API
//! records them, whose mail is marked sent.

use super::batch::{insert_rows, Batch, BatchCounts};
use super::converting::Contracts;
use super::random::{splitmix, uuid_at};
use super::*;

#[derive(Insertable)]
#[diesel(table_name = payments, treat_none_as_default_value = false)]
struct NewPayment<'a> {
    id: String,
    agreement_id: &'a str,
    amount_minor: i64,
    received_on: NaiveDate,
    reference: String,
    to_institute: Option<i64>,
    to_inventors: Option<i64>,
    to_intermediary: Option<i64>,
    recorded_by: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = payment_allocations)]
struct NewAllocation {
    payment_id: String,
    line_number: i32,
    amount_minor: i64,
}

/// One payment drawn: agreement `k` of the batch pays `amount` on line `line`.
struct Paid {
    k: usize,
    line: i32,
    amount: i64,
    on: NaiveDate,
    at: NaiveDateTime,
}

/// The payments drawn for a batch, before they are written.
pub(super) struct PaymentPlan {
    paid: Vec<Paid>,
    /// Agreements whose payments go through `app::contracts::record_payment_in`.
    pub(super) via_function: Vec<usize>,
    /// When each contract without a royalty was paid in full.
    pub(super) fully_paid_at: std::collections::HashMap<usize, NaiveDateTime>,
    /// `(agreement, line number, due)` of the lines left open.
    pub(super) open_lines: Vec<(usize, i32, NaiveDate)>,
}

/// Payments: most pay on time, some only the first line, some part of it, some
/// nothing; each payment settles the oldest open line, as record_payment does.
pub(super) fn draw_payments(b: &Batch<'_>, contracts: &Contracts) -> PaymentPlan {
    let &Batch {
        world,
        plans,
        now_utc,
        ..
    } = b;
    let Contracts {
        lines_of,
        contract_currency,
    } = contracts;
    let now = now_utc.naive_utc();
    let mut paid: Vec<Paid> = Vec::new();
    let mut via_function: Vec<usize> = Vec::new();
    let mut fully_paid_at: std::collections::HashMap<usize, NaiveDateTime> =
        std::collections::HashMap::new();
    let mut open_lines: Vec<(usize, i32, NaiveDate)> = Vec::new();
    let mut keys: Vec<usize> = lines_of.keys().copied().collect();
    keys.sort_unstable();
    for k in keys {
        let lines = &lines_of[&k];
        let p = &plans[k];
        let mut x = StdRng::seed_from_u64(splitmix(p.extra));
        let closed = p.closed_at.unwrap_or(now);
        let converted_on = world.day(closed);
        let profile = x.gen_range(0..100);
        let mut last_on = converted_on;
        let mut all_paid = !lines.is_empty();
        let mut last_at = closed;
        for (pos, (number, due, amount)) in lines.iter().enumerate() {
            let pays = match profile {
                0..=54 => Some(*amount),
                55..=74 if pos == 0 => Some(*amount),
                75..=84 if pos == 0 => Some((*amount / 2).max(1)),
                _ => None,
            };
            let on = if x.gen_bool(0.75) {
                *due - Duration::days(x.gen_range(0..25))
            } else {
                *due + Duration::days(x.gen_range(1..45))
            };
            let on = on.max(last_on).max(converted_on);
            let at = world.office(on, &mut x).max(last_at + Duration::minutes(1));
            match pays {
                Some(a) if on <= world.today && at < now => {
                    paid.push(Paid {
                        k,
                        line: *number,
                        amount: a,
                        on,
                        at,
                    });
                    last_on = on;
                    last_at = at;
                    if a < *amount {
                        all_paid = false;
                        open_lines.push((k, *number, *due));
                    }
                }
                _ => {
                    all_paid = false;
                    open_lines.push((k, *number, *due));
                }
            }
        }
        let royalty = contract_currency.get(&k).is_some_and(|c| c.1);
        if all_paid && !royalty {
            fully_paid_at.insert(k, last_at);
        }
        if x.gen_bool(0.02) {
            via_function.push(k);
        }
    }
    via_function.retain(|k| paid.iter().any(|pd| pd.k == *k));
    PaymentPlan {
        paid,
        via_function,
        fully_paid_at,
        open_lines,
    }
}

/// Payments in bulk, and a share through the function the API uses.
pub(super) fn write_payments(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    numbers: &[String],
    contracts: &Contracts,
    drawn: &PaymentPlan,
    counts: &mut BatchCounts,
) -> Result<(), AppError> {
    let &Batch {
        world,
        plans,
        ids,
        terms_of,
        rounding,
        batch_no,
        base_seed,
        ..
    } = b;
    let Contracts {
        contract_currency, ..
    } = contracts;
    let PaymentPlan {
        paid, via_function, ..
    } = drawn;
    let mut pay_rows: Vec<NewPayment> = Vec::new();
    let mut alloc_rows: Vec<NewAllocation> = Vec::new();
    let mut pay_rng = StdRng::seed_from_u64(splitmix(base_seed ^ 0xFA ^ (batch_no as u64) << 24));
    let mut paid_sums: std::collections::BTreeMap<(usize, i32), i64> =
        std::collections::BTreeMap::new();
    for pd in paid.iter().filter(|pd| !via_function.contains(&pd.k)) {
        let p = &plans[pd.k];
        let t = &world.techs[p.tech];
        let dist = terms_of[p.tech]
            .distribution
            .as_ref()
            .map(|d| crate::contracts::distribute_payment(pd.amount, d, rounding))
            .transpose()?;
        let id = uuid_at(pd.at, &mut pay_rng);
        alloc_rows.push(NewAllocation {
            payment_id: id.clone(),
            line_number: pd.line,
            amount_minor: pd.amount,
        });
        pay_rows.push(NewPayment {
            id,
            agreement_id: &ids[pd.k],
            amount_minor: pd.amount,
            received_on: pd.on,
            reference: format!("UNC-{}-{}", numbers[pd.k], pd.line),
            to_institute: dist.map(|d| d.institute),
            to_inventors: dist.map(|d| d.inventors),
            to_intermediary: dist.map(|d| d.intermediary),
            recorded_by: &t.institute_user,
            created_at: pd.at,
        });
        *paid_sums.entry((pd.k, pd.line)).or_insert(0) += pd.amount;
    }
    insert_rows!(conn, payments::table, pay_rows, ROWS_SMALL);
    insert_rows!(conn, payment_allocations::table, alloc_rows, ROWS_SMALL * 4);
    counts.payments += pay_rows.len() as u64;
    // Each line's paid amount is the sum of the allocations just written to it (the
    // lines are new, so nothing else was paid on them).
    let sums: Vec<_> = paid_sums.into_iter().collect();
    for chunk in sums.chunks(ROWS_SMALL) {
        // Generated UUIDs and integers only, so they are safe to inline.
        let values = chunk
            .iter()
            .map(|((k, line), sum)| format!("('{}', {line}, {sum})", ids[*k]))
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query(format!(
            "WITH v (agreement_id, number, paid) AS (VALUES {values}) UPDATE schedule_lines SET paid_minor = v.paid \
             FROM v WHERE schedule_lines.agreement_id = v.agreement_id AND schedule_lines.number = v.number"
        ))
        .execute(conn)?;
    }
    for &k in via_function {
        let p = &plans[k];
        let t = &world.techs[p.tech];
        let cur = contract_currency
            .get(&k)
            .and_then(|c| crate::settlement::money::Currency::parse(&c.0))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("contract currency")))?;
        let who = Who {
            user_id: Some(&t.institute_user),
            organisation_id: Some(&t.institute_id),
        };
        for pd in paid.iter().filter(|pd| pd.k == k) {
            crate::app::contracts::record_payment_in(
                conn,
                pd.at.and_utc(),
                world.today,
                who,
                &ids[k],
                &terms_of[p.tech],
                &crate::contracts::model::PaymentInput {
                    amount: cur.format_amount(pd.amount),
                    received_on: pd.on,
                    reference: format!("UNC-{}-{}", numbers[k], pd.line),
                },
                rounding,
            )?;
            counts.payments += 1;
            counts.via_function += 1;
        }
    }
    Ok(())
}

/// Marks sent the mail `app::contracts::record_payment_in` queued for the payments it
/// recorded.
pub(super) fn mark_sent(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    drawn: &PaymentPlan,
) -> Result<(), AppError> {
    let &Batch { ids, .. } = b;
    let PaymentPlan { via_function, .. } = drawn;
    // Their messages went out long ago.
    for chunk in via_function.chunks(ROWS_SMALL) {
        let list = chunk
            .iter()
            .map(|k| format!("'{}'", ids[*k]))
            .collect::<Vec<_>>()
            .join(",");
        diesel::sql_query(format!(
            "UPDATE outbox SET status = 'sent', attempts = 1, sent_at = created_at \
             WHERE status = 'pending' AND agreement_id IN ({list})"
        ))
        .execute(conn)?;
    }
    Ok(())
}
