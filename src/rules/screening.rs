//! Screening before listing: the only place that says which stage a technology is at, which
//! stage a step takes it to, and what a reviewer's decision must contain. A technology goes
//! `draft` → `in_screening` → `listed`, or `in_screening` → `returned` (with a reason) and,
//! once edited, `in_screening` again. Its institute may still set `draft` or `withdrawn` by
//! editing it, but never `listed`: only a reviewer's listing decision lists it, and a listed
//! technology stays listed only with the description its reviewer saw.
//!
//! The stored status stays one of `draft`, `listed`, `withdrawn` (what the catalogue filters
//! on); a draft's stage comes from its latest screening ([`stage`]). Pure: no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// A technology's stage on its way to the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    Draft,
    InScreening,
    Returned,
    Listed,
    Withdrawn,
}

impl Listing {
    pub const ALL: [Listing; 5] = [
        Listing::Draft,
        Listing::InScreening,
        Listing::Returned,
        Listing::Listed,
        Listing::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Listing::Draft => "draft",
            Listing::InScreening => "in_screening",
            Listing::Returned => "returned",
            Listing::Listed => "listed",
            Listing::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Listing> {
        Listing::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The status stored for this stage: only a listed technology is in the catalogue.
    pub fn stored(self) -> &'static str {
        match self {
            Listing::Draft | Listing::InScreening | Listing::Returned => "draft",
            Listing::Listed => "listed",
            Listing::Withdrawn => "withdrawn",
        }
    }
}

/// Where a technology's latest screening stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latest {
    /// Submitted, not yet decided.
    Open,
    Returned,
    Listed,
}

/// The stage of a technology stored with `status` whose latest screening is `latest`; `None`
/// for a status that is not one of the stored ones.
pub fn stage(status: &str, latest: Option<Latest>) -> Option<Listing> {
    match status {
        "listed" => Some(Listing::Listed),
        "withdrawn" => Some(Listing::Withdrawn),
        "draft" => Some(match latest {
            Some(Latest::Open) => Listing::InScreening,
            Some(Latest::Returned) => Listing::Returned,
            Some(Latest::Listed) | None => Listing::Draft,
        }),
        _ => None,
    }
}

/// A step of screening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The institute asks for a screening.
    Submit,
    /// The reviewer lists the technology.
    List,
    /// The reviewer returns it to the institute with reasons.
    Return,
}

/// Why a step or an edit is refused: the technology is in the wrong status (409), or the
/// status asked for is not the institute's to set (422 on `status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    WrongState(String),
    NotSettable(String),
}

/// The status `step` takes a technology in `from` to.
pub fn next(from: Listing, step: Step) -> Result<Listing, Refusal> {
    use Listing::*;
    match (step, from) {
        (Step::Submit, Draft | Returned | Withdrawn) => Ok(InScreening),
        (Step::Submit, InScreening) => Err(Refusal::WrongState(
            "this technology is already in screening".into(),
        )),
        (Step::Submit, Listed) => Err(Refusal::WrongState(
            "this technology is already listed".into(),
        )),
        (Step::List | Step::Return, InScreening) => {
            Ok(if step == Step::List { Listed } else { Returned })
        }
        (Step::List | Step::Return, other) => Err(Refusal::WrongState(format!(
            "only a technology in screening can be decided; this one is {}",
            other.as_str()
        ))),
    }
}

/// Whether its institute may save a technology now at `current` (absent for a new one) with
/// the status `wanted`, the save `changing` its description (anything but its status): it
/// may keep `draft`, withdraw, keep a returned one as it is and a listed one unchanged, but
/// never list it itself, keep it listed with a description the reviewer did not see, or put
/// it in screening by an edit; nothing is edited while a reviewer has it.
pub fn may_edit(current: Option<Listing>, wanted: Listing, changing: bool) -> Result<(), Refusal> {
    use Listing::*;
    if current == Some(InScreening) {
        return Err(Refusal::WrongState(
            "this technology is in screening: it can be changed once the reviewer has decided"
                .into(),
        ));
    }
    match wanted {
        Draft | Withdrawn => Ok(()),
        Returned if current == Some(Returned) => Ok(()),
        Listed if current == Some(Listed) && !changing => Ok(()),
        Listed if current == Some(Listed) => Err(Refusal::NotSettable(
            "a listed technology stays listed as it was screened: to change its description, \
             save it as a draft or withdraw it, and submit it for screening again"
                .into(),
        )),
        Listed => Err(Refusal::NotSettable(
            "a technology is listed only after screening: save it as a draft and submit it for \
             screening"
                .into(),
        )),
        Returned | InScreening => Err(Refusal::NotSettable(
            "set by screening, not by editing: save it as a draft and submit it for screening"
                .into(),
        )),
    }
}

/// A technology readiness level, 1 to 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Trl(u8);

impl Trl {
    pub fn new(level: i64) -> Option<Trl> {
        u8::try_from(level)
            .ok()
            .filter(|l| (1..=9).contains(l))
            .map(Trl)
    }

    pub fn level(self) -> u8 {
        self.0
    }
}

/// One item of the reviewer's checklist: yes or no, with an optional note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub ok: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// The checklist a reviewer fills for each screening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    /// The institute holds the rights it offers, free of disputes.
    pub rights_clear: Check,
    /// The inventors agree to the transfer.
    pub inventors_agree: Check,
    /// The valuation has a stated basis.
    pub valuation_basis: Check,
}

impl Checklist {
    /// Each item by its field name, in the order the forms show them.
    pub fn items(&self) -> [(&'static str, &Check); 3] {
        [
            ("rights_clear", &self.rights_clear),
            ("inventors_agree", &self.inventors_agree),
            ("valuation_basis", &self.valuation_basis),
        ]
    }
}

/// The names of the checklist's items, in order.
pub const CHECKS: [&str; 3] = ["rights_clear", "inventors_agree", "valuation_basis"];

/// The longest note or reason kept.
pub const MAX_TEXT: usize = 2000;

/// What a reviewer's decision must hold: a readiness level 1–9 (`trl`), notes of at most
/// [`MAX_TEXT`] characters, listing only with every checklist item yes, and a return only
/// with a reason. Each fault names its field.
pub fn check_decision(
    step: Step,
    trl: Option<i64>,
    checklist: &Checklist,
    notes: &str,
    reason: &str,
) -> Vec<FieldError> {
    let mut e = Vec::new();
    if trl.and_then(Trl::new).is_none() {
        e.push(FieldError::new(
            "trl",
            "must be a readiness level from 1 to 9",
        ));
    }
    for (name, item) in checklist.items() {
        if item
            .note
            .as_deref()
            .is_some_and(|n| n.chars().count() > MAX_TEXT)
        {
            e.push(FieldError::new(
                format!("checklist.{name}.note"),
                format!("must be at most {MAX_TEXT} characters"),
            ));
        }
        if step == Step::List && !item.ok {
            e.push(FieldError::new(
                format!("checklist.{name}.ok"),
                "must be yes to list the technology",
            ));
        }
    }
    if notes.chars().count() > MAX_TEXT {
        e.push(FieldError::new(
            "notes",
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    let reason = reason.trim();
    if step == Step::Return && reason.is_empty() {
        e.push(FieldError::new(
            "reason",
            "a technology is returned only with a reason",
        ));
    } else if reason.chars().count() > MAX_TEXT {
        e.push(FieldError::new(
            "reason",
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use Listing::*;

    fn all_yes() -> Checklist {
        let yes = Check {
            ok: true,
            note: None,
        };
        Checklist {
            rights_clear: yes.clone(),
            inventors_agree: yes.clone(),
            valuation_basis: yes,
        }
    }

    /// Every status × step: only the arrows of the screening diagram are allowed.
    #[test]
    fn every_step_from_every_status() {
        let allowed = [
            (Draft, Step::Submit, InScreening),
            (Returned, Step::Submit, InScreening),
            (Withdrawn, Step::Submit, InScreening),
            (InScreening, Step::List, Listed),
            (InScreening, Step::Return, Returned),
        ];
        for from in Listing::ALL {
            for step in [Step::Submit, Step::List, Step::Return] {
                let want = allowed
                    .iter()
                    .find(|(f, s, _)| *f == from && *s == step)
                    .map(|(_, _, to)| *to);
                match (next(from, step), want) {
                    (Ok(to), Some(w)) => assert_eq!(to, w),
                    (Err(Refusal::WrongState(_)), None) => {}
                    (got, want) => panic!("{from:?} {step:?}: {got:?}, expected {want:?}"),
                }
            }
        }
    }

    /// Every current × wanted status × changed or unchanged description an edit may ask for.
    #[test]
    fn what_an_edit_may_set() {
        let currents = [
            None,
            Some(Draft),
            Some(InScreening),
            Some(Returned),
            Some(Listed),
            Some(Withdrawn),
        ];
        for (current, wanted, changing) in currents
            .into_iter()
            .flat_map(|c| Listing::ALL.map(|w| (c, w)))
            .flat_map(|(c, w)| [(c, w, false), (c, w, true)])
        {
            let got = may_edit(current, wanted, changing);
            let ok = current != Some(InScreening)
                && (matches!(wanted, Draft | Withdrawn)
                    || (wanted == Returned && current == Some(Returned))
                    || (wanted == Listed && current == Some(Listed) && !changing));
            assert_eq!(
                got.is_ok(),
                ok,
                "{current:?} -> {wanted:?} (changing: {changing}): {got:?}"
            );
            if current == Some(InScreening) {
                assert!(matches!(got, Err(Refusal::WrongState(_))));
            } else if !ok {
                assert!(matches!(got, Err(Refusal::NotSettable(_))));
            }
        }
    }

    /// Every stored status × latest screening: a draft's stage is its screening's.
    #[test]
    fn the_stage_of_every_status() {
        let latests = [
            None,
            Some(Latest::Open),
            Some(Latest::Returned),
            Some(Latest::Listed),
        ];
        for latest in latests {
            assert_eq!(stage("listed", latest), Some(Listed));
            assert_eq!(stage("withdrawn", latest), Some(Withdrawn));
            assert_eq!(stage("in_screening", latest), None);
        }
        assert_eq!(stage("draft", None), Some(Draft));
        assert_eq!(stage("draft", Some(Latest::Open)), Some(InScreening));
        assert_eq!(stage("draft", Some(Latest::Returned)), Some(Returned));
        assert_eq!(stage("draft", Some(Latest::Listed)), Some(Draft));
        for l in Listing::ALL {
            assert_eq!(Listing::parse(l.as_str()), Some(l));
            // What is stored for a stage reads back as that stage with its screening.
            let latest = match l {
                InScreening => Some(Latest::Open),
                Returned => Some(Latest::Returned),
                _ => None,
            };
            assert_eq!(stage(l.stored(), latest), Some(l));
        }
    }

    #[test]
    fn readiness_levels_are_one_to_nine() {
        for level in -1..=11 {
            assert_eq!(
                Trl::new(level).is_some(),
                (1..=9).contains(&level),
                "{level}"
            );
        }
        assert_eq!(Trl::new(7).unwrap().level(), 7);
    }

    #[test]
    fn listing_needs_every_item_yes_and_returning_a_reason() {
        assert!(check_decision(Step::List, Some(6), &all_yes(), "", "").is_empty());
        for name in CHECKS {
            let mut c = all_yes();
            match name {
                "rights_clear" => c.rights_clear.ok = false,
                "inventors_agree" => c.inventors_agree.ok = false,
                _ => c.valuation_basis.ok = false,
            }
            let faults = check_decision(Step::List, Some(6), &c, "", "");
            let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(fields, [format!("checklist.{name}.ok")]);
            // A return may have items answered no.
            assert!(check_decision(Step::Return, Some(3), &c, "", "unclear rights").is_empty());
        }
        let faults = check_decision(Step::Return, Some(3), &all_yes(), "", "   ");
        assert_eq!(faults[0].field, "reason");
        let faults = check_decision(Step::List, None, &all_yes(), "", "");
        assert_eq!(faults[0].field, "trl");
        let long = "x".repeat(MAX_TEXT + 1);
        let faults = check_decision(Step::Return, Some(0), &all_yes(), &long, &long);
        let fields: Vec<&str> = faults.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["trl", "notes", "reason"]);
    }
}
