//! Converted agreements as converting would have made them: the contract and its schedule
//! through `contracts::create`, and for royalty contracts the contract years closed by now
//! (each with its true-up line, no sales having been reported).

use super::batch::{insert_rows, Batch, BatchCounts};
use super::*;

#[derive(Insertable)]
#[diesel(table_name = royalty_years, treat_none_as_default_value = false)]
struct NewRoyaltyYear<'a> {
    agreement_id: &'a str,
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    royalties_minor: i64,
    minimum_minor: i64,
    true_up_minor: i64,
    line_number: Option<i32>,
    closed_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = schedule_lines)]
struct NewLine<'a> {
    agreement_id: &'a str,
    number: i32,
    kind: &'static str,
    due: NaiveDate,
    amount_minor: i64,
    paid_minor: i64,
}

/// What converting made, by the agreement's place in the batch: each contract's schedule
/// lines `(number, due, amount)`, and its currency with whether a royalty is part of its price.
pub(super) struct Contracts {
    pub(super) lines_of: std::collections::HashMap<usize, Vec<(i32, NaiveDate, i64)>>,
    pub(super) contract_currency: std::collections::HashMap<usize, (String, bool)>,
}

/// Conversions: the contract and schedule as converting would make them.
pub(super) fn write_contracts(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    counts: &mut BatchCounts,
) -> Result<Contracts, AppError> {
    let &Batch {
        world,
        plans,
        ids,
        terms_of,
        rounding,
        now_utc,
        ..
    } = b;
    let now = now_utc.naive_utc();
    let mut lines_of: std::collections::HashMap<usize, Vec<(i32, NaiveDate, i64)>> =
        std::collections::HashMap::new();
    let mut new_lines: Vec<NewLine> = Vec::new();
    let mut years: Vec<NewRoyaltyYear> = Vec::new();
    let mut next_close: Vec<(usize, NaiveDate)> = Vec::new();
    let mut contract_currency: std::collections::HashMap<usize, (String, bool)> =
        std::collections::HashMap::new();
    for (k, p) in plans.iter().enumerate() {
        if p.fate != Fate::Converted {
            continue;
        }
        let (Some(closed), Some((_, trial_end, _))) = (p.closed_at, p.dates) else {
            continue;
        };
        let mut x = StdRng::seed_from_u64(p.extra);
        let tax = match x.gen_range(0..10) {
            0..=3 => Some(crate::settlement::pricing::Tax::Exempt {
                basis: "Miễn thuế thu nhập đối với thu nhập từ chuyển giao công nghệ ưu tiên (Luật Chuyển giao công nghệ 2017)".into(),
            }),
            4..=6 => Some(crate::settlement::pricing::Tax::Rate { rate: "0.1".into() }),
            _ => None,
        };
        let converted_on = world.day(closed);
        let q = crate::contracts::create(
            conn,
            closed.and_utc(),
            &ids[k],
            &terms_of[p.tech],
            converted_on,
            Some(trial_end),
            rounding,
            tax.as_ref(),
            // Synthetic history pays on the conversion's own schedule: no registration holds it.
            &crate::settlement::registration::decide(
                &terms_of[p.tech],
                &crate::settlement::registration::Rules::default(),
                converted_on,
            ),
        )?;
        counts.contracts += 1;
        let mut lines: Vec<(i32, NaiveDate, i64)> = q
            .lines
            .iter()
            .map(|l| (l.number as i32, l.due, l.amount_minor))
            .collect();
        let cur = crate::settlement::money::Currency::parse(&q.currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("currency {}", q.currency)))?;
        // Contract years closed by now, as the scheduler closes them: with no sales
        // reported, each falls short by the whole minimum (a true-up line).
        if let Some(min) = q.royalty.as_ref().and_then(|r| r.min_per_year.as_ref()) {
            let min = cur
                .parse_amount(min)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("minimum royalty: {e}")))?;
            let mut year = 1u32;
            while let Some(closes) = crate::contracts::royalty_years::closes_on(converted_on, year)
            {
                if closes > world.today {
                    if year > 1 {
                        next_close.push((k, closes));
                    }
                    break;
                }
                let Some((starts_on, ends_on)) =
                    crate::settlement::schedule::contract_year(converted_on, year)
                else {
                    break;
                };
                let shortfall = crate::settlement::pricing::true_up(0, Some(min))
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("true-up: {e}")))?;
                let line = if shortfall > 0 {
                    let number = lines.len() as i32 + 1;
                    let due = closes + Duration::days(crate::contracts::ROYALTY_DUE_DAYS as i64);
                    lines.push((number, due, shortfall));
                    new_lines.push(NewLine {
                        agreement_id: &ids[k],
                        number,
                        kind: "true_up",
                        due,
                        amount_minor: shortfall,
                        paid_minor: 0,
                    });
                    Some(number)
                } else {
                    None
                };
                years.push(NewRoyaltyYear {
                    agreement_id: &ids[k],
                    year: year as i32,
                    starts_on,
                    ends_on,
                    royalties_minor: 0,
                    minimum_minor: min,
                    true_up_minor: shortfall,
                    line_number: line,
                    closed_at: world.tick(closes, &mut x).min(now - Duration::seconds(1)),
                });
                year += 1;
            }
        }
        contract_currency.insert(k, (q.currency.clone(), q.price_model.contains("royalty")));
        lines_of.insert(k, lines);
    }
    insert_rows!(conn, schedule_lines::table, new_lines, ROWS_SMALL);
    insert_rows!(conn, royalty_years::table, years, ROWS_SMALL);
    counts.royalty_years += years.len() as u64;
    for (k, closes) in &next_close {
        crate::on_backend!(&mut *conn, |c| diesel::update(
            conversion_contracts::table.find(&ids[*k])
        )
        .set(conversion_contracts::royalty_next_close.eq(closes))
        .execute(c))?;
    }
    Ok(Contracts {
        lines_of,
        contract_currency,
    })
}
