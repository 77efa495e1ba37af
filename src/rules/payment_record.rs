//! How an SME has paid on the platform, counted from its contracts' schedule lines: the pure
//! rule that says whether one line was paid on time, late, is overdue now or not yet due.
//!
//! **On time** means paid in full by the line's due date: the payment that completed the line
//! was received on or before the due day. There is no grace: the statement counts a line
//! overdue from the day after its due day, and so does this record. (The insurers' grace
//! period, `insurance.non_payment_grace_days`, only says when a non-payment claim may be
//! filed; it does not make a late payment punctual.) **Late** means paid in full after the due
//! day; **overdue** means not paid in full and the due day is past; a line with nothing owed
//! (zero amount) is not counted.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

/// What the record needs of one schedule line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineFacts {
    pub due: NaiveDate,
    pub amount_minor: i64,
    pub paid_minor: i64,
    /// The latest receipt day of the payments allocated to the line, if any.
    pub last_paid_on: Option<NaiveDate>,
    /// Today in the agreement's time zone.
    pub today: NaiveDate,
}

/// Where one line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    OnTime,
    Late,
    Overdue,
    NotYetDue,
    /// Nothing was owed.
    NothingOwed,
}

/// Where `line` stands (see the module's definitions).
pub fn standing(line: &LineFacts) -> Standing {
    if line.amount_minor <= 0 {
        return Standing::NothingOwed;
    }
    if line.paid_minor >= line.amount_minor {
        return match line.last_paid_on {
            Some(day) if day > line.due => Standing::Late,
            _ => Standing::OnTime,
        };
    }
    if line.today > line.due {
        Standing::Overdue
    } else {
        Standing::NotYetDue
    }
}

/// The lines counted by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentCounts {
    /// Paid in full by the due day.
    pub on_time: i64,
    /// Paid in full after the due day.
    pub late: i64,
    /// Not paid in full, the due day past.
    pub overdue: i64,
    /// Not paid in full, not due yet.
    pub not_yet_due: i64,
}

/// Counts `lines` by [`standing`].
pub fn count(lines: &[LineFacts]) -> PaymentCounts {
    let mut counts = PaymentCounts::default();
    for line in lines {
        match standing(line) {
            Standing::OnTime => counts.on_time += 1,
            Standing::Late => counts.late += 1,
            Standing::Overdue => counts.overdue += 1,
            Standing::NotYetDue => counts.not_yet_due += 1,
            Standing::NothingOwed => {}
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 4, day).unwrap()
    }

    fn line(amount: i64, paid: i64, last_paid: Option<u32>, today: u32) -> LineFacts {
        LineFacts {
            due: d(10),
            amount_minor: amount,
            paid_minor: paid,
            last_paid_on: last_paid.map(d),
            today: d(today),
        }
    }

    #[test]
    fn each_line_stands_where_the_definitions_say() {
        use Standing::*;
        // (amount, paid, last payment day, today) → standing; the line is due on the 10th.
        let table = [
            ((300, 300, Some(10), 20), OnTime),   // completed on the due day
            ((300, 300, Some(1), 20), OnTime),    // early
            ((300, 300, Some(11), 20), Late),     // a day late
            ((300, 350, Some(25), 30), Late),     // overpaid, late
            ((300, 299, Some(9), 10), NotYetDue), // short, but the due day is today
            ((300, 299, Some(9), 11), Overdue),   // short the day after
            ((300, 0, None, 11), Overdue),
            ((300, 0, None, 5), NotYetDue),
            ((0, 0, None, 30), NothingOwed),
            ((300, 300, None, 30), OnTime), // paid without a receipt day (nothing says late)
        ];
        for ((amount, paid, last, today), want) in table {
            let l = line(amount, paid, last, today);
            assert_eq!(standing(&l), want, "{l:?}");
        }
    }

    #[test]
    fn counts_add_up_by_standing() {
        let lines = [
            line(300, 300, Some(10), 20),
            line(300, 300, Some(12), 20),
            line(300, 300, Some(15), 20),
            line(300, 100, Some(8), 20),
            line(300, 0, None, 2),
            line(0, 0, None, 2),
        ];
        assert_eq!(
            count(&lines),
            PaymentCounts {
                on_time: 1,
                late: 2,
                overdue: 1,
                not_yet_due: 1
            }
        );
        assert_eq!(count(&[]), PaymentCounts::default());
    }
}
