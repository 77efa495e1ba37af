-- Reminders sent, so each goes out at most once per agreement, kind, offset and schedule line,
-- ever. `kind`: trial_end, decision, installment, overdue; `offset_days`: days before the
-- date (0 for overdue); `line_number`: the schedule line (0 when not about a line).
CREATE TABLE reminders (
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    kind TEXT NOT NULL,
    offset_days INTEGER NOT NULL,
    line_number INTEGER NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (agreement_id, kind, offset_days, line_number)
);
