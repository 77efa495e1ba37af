//! The reminders a running scheduler has already sent for what is open now: trials ending,
//! decisions due, instalments due and lines overdue, each at the most urgent offset that
//! applies today.

use super::batch::{insert_rows, Batch, BatchCounts};
use super::history::World;
use super::paying::PaymentPlan;
use super::random::splitmix;
use super::*;

#[derive(Insertable)]
#[diesel(table_name = reminders)]
struct NewReminder<'a> {
    agreement_id: &'a str,
    kind: &'static str,
    offset_days: i32,
    line_number: i32,
    sent_at: NaiveDateTime,
}

/// The reminders a running scheduler has already sent for what is open now.
pub(super) fn write_reminders(
    conn: &mut crate::db::DbConn,
    b: &Batch<'_>,
    drawn: &PaymentPlan,
    counts: &mut BatchCounts,
) -> Result<(), AppError> {
    let &Batch {
        world,
        plans,
        ids,
        reminders: reminders_cfg,
        batch_no,
        base_seed,
        now_utc,
        ..
    } = b;
    let PaymentPlan { open_lines, .. } = drawn;
    let now = now_utc.naive_utc();
    let mut rem: Vec<NewReminder> = Vec::new();
    let mut rrng = StdRng::seed_from_u64(splitmix(base_seed ^ 0x7E ^ (batch_no as u64) << 28));
    for (k, p) in plans.iter().enumerate() {
        let Some((_, end, deadline)) = p.dates else {
            continue;
        };
        match p.fate {
            Fate::Active => reminder(
                world,
                &mut rem,
                &ids[k],
                "trial_end",
                &reminders_cfg.trial_end_days,
                end,
                0,
                &mut rrng,
            ),
            Fate::AwaitingDecision => reminder(
                world,
                &mut rem,
                &ids[k],
                "decision",
                &reminders_cfg.decision_days,
                deadline,
                0,
                &mut rrng,
            ),
            _ => {}
        }
    }
    for (k, number, due) in open_lines {
        if *due < world.today {
            if reminders_cfg.overdue {
                let at = world
                    .office(*due + Duration::days(1), &mut rrng)
                    .min(now - Duration::seconds(1));
                rem.push(NewReminder {
                    agreement_id: &ids[*k],
                    kind: "overdue",
                    offset_days: 0,
                    line_number: *number,
                    sent_at: at,
                });
            }
        } else {
            reminder(
                world,
                &mut rem,
                &ids[*k],
                "installment",
                &reminders_cfg.installment_days,
                *due,
                *number,
                &mut rrng,
            );
        }
    }
    insert_rows!(conn, reminders::table, rem, ROWS_SMALL * 2);
    counts.reminders += rem.len() as u64;
    Ok(())
}

/// Records the reminder a running scheduler has sent by now for `date` (a trial's end, a
/// deadline, a line's due day): the most urgent offset that applies today, if any.
#[allow(clippy::too_many_arguments)]
fn reminder<'a>(
    world: &World,
    rem: &mut Vec<NewReminder<'a>>,
    id: &'a str,
    kind: &'static str,
    offsets: &[u32],
    date: NaiveDate,
    line: i32,
    x: &mut StdRng,
) {
    let left = (date - world.today).num_days();
    if left < 0 {
        return;
    }
    if let Some(o) = crate::rules::reminders::due_offset(offsets, left) {
        let at = world
            .office(date - Duration::days(i64::from(o)), x)
            .min(world.now - Duration::seconds(1));
        rem.push(NewReminder {
            agreement_id: id,
            kind,
            offset_days: o as i32,
            line_number: line,
            sent_at: at,
        });
    }
}
