//! Registration of a conversion contract, as a pure rule: from the terms, the jurisdiction's
//! configured rule and the day the contract was signed, whether it must be registered (and
//! why), by when, and whether it takes effect only on the certificate; and, with the day
//! entered, where it stands. See docs/REGISTRATION.md for the legal sources.
//!
//! Vietnam (Law on Technology Transfer 2017 Art. 31, Decree 76/2018/ND-CP): the transfer of a
//! technology resulting from state-funded research must be registered within 90 days of
//! signing, and such a contract takes effect on the certificate. China: the technology-contract
//! registration on which the VAT exemption of a technology transfer rests.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::settlement::terms::Terms;

/// Which contracts a jurisdiction requires to be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Required {
    /// Every conversion contract.
    Always,
    /// Those whose technology results from state-funded research.
    StateFunded,
    /// None.
    Never,
}

/// One jurisdiction's rule (`[registration.vn]`, `[registration.cn]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub required: Required,
    /// Days from signing by which the application is due; 0: no deadline.
    pub deadline_days: u32,
    /// A contract that must be registered takes effect only on its certificate: its payments
    /// fall due counting from the certificate's date.
    pub takes_effect_on_certificate: bool,
}

/// The rules of the jurisdictions the platform knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub vn: Rule,
    pub cn: Rule,
}

impl Default for Rules {
    /// No registration anywhere: what a caller gets when it names no rules.
    fn default() -> Rules {
        let none = Rule {
            required: Required::Never,
            deadline_days: 0,
            takes_effect_on_certificate: false,
        };
        Rules {
            vn: none.clone(),
            cn: none,
        }
    }
}

impl Rules {
    /// The rule of `jurisdiction` (`vn`, `cn`).
    pub fn of(&self, jurisdiction: &str) -> Option<&Rule> {
        match jurisdiction {
            "vn" => Some(&self.vn),
            "cn" => Some(&self.cn),
            _ => None,
        }
    }
}

/// What the rule says of one contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub jurisdiction: Option<String>,
    pub required: bool,
    /// Why: `state_funded`, `always` (required); `not_state_funded`, `never`,
    /// `no_jurisdiction` (not required).
    pub reason: &'static str,
    /// The last day to register, when required and the rule sets a deadline.
    pub deadline: Option<NaiveDate>,
    /// Payments count from the certificate's date (only when required).
    pub takes_effect_on_certificate: bool,
}

/// Whether the contract signed on `signed_on` under `terms` must be registered, by when, and
/// whether it takes effect on the certificate.
pub fn decide(terms: &Terms, rules: &Rules, signed_on: NaiveDate) -> Decision {
    let jurisdiction = terms.jurisdiction().map(str::to_string);
    let rule = jurisdiction.as_deref().and_then(|j| rules.of(j));
    let (required, reason) = match rule.map(|r| r.required) {
        None => (false, "no_jurisdiction"),
        Some(Required::Never) => (false, "never"),
        Some(Required::Always) => (true, "always"),
        Some(Required::StateFunded) if terms.state_funded => (true, "state_funded"),
        Some(Required::StateFunded) => (false, "not_state_funded"),
    };
    let rule = rule.filter(|_| required);
    Decision {
        jurisdiction,
        required,
        reason,
        deadline: rule
            .filter(|r| r.deadline_days > 0)
            .and_then(|r| signed_on.checked_add_days(Days::new(u64::from(r.deadline_days)))),
        takes_effect_on_certificate: rule.is_some_and(|r| r.takes_effect_on_certificate),
    }
}

/// Where a contract's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RegistrationStatus)]
pub enum Status {
    NotRequired,
    /// Required, not entered, the deadline (if any) not passed.
    Pending,
    /// Required, not entered, past the deadline.
    Overdue,
    Registered,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotRequired => "not_required",
            Status::Pending => "pending",
            Status::Overdue => "overdue",
            Status::Registered => "registered",
        }
    }
}

/// The status as of `today`: overdue the day after the deadline.
pub fn status(
    required: bool,
    deadline: Option<NaiveDate>,
    certificate_date: Option<NaiveDate>,
    today: NaiveDate,
) -> Status {
    match (required, certificate_date) {
        (_, Some(_)) => Status::Registered,
        (false, None) => Status::NotRequired,
        (true, None) if deadline.is_some_and(|d| today > d) => Status::Overdue,
        (true, None) => Status::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::terms::Price;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn rules() -> Rules {
        Rules {
            vn: Rule {
                required: Required::StateFunded,
                deadline_days: 90,
                takes_effect_on_certificate: true,
            },
            cn: Rule {
                required: Required::Always,
                deadline_days: 0,
                takes_effect_on_certificate: false,
            },
        }
    }

    fn terms(currency: &str, state_funded: bool, jurisdiction: Option<&str>) -> Terms {
        Terms {
            trial_days: 90,
            decision_days: 30,
            currency: currency.into(),
            price: Price::LumpSum {
                amount: "100".into(),
                due_days: 30,
            },
            insurance_required: false,
            early_conversion_discount: None,
            late_payment_daily_rate: None,
            distribution: None,
            improvements: None,
            state_funded,
            jurisdiction: jurisdiction.map(str::to_string),
            first_payment: None,
        }
    }

    /// Every jurisdiction × funding case, by hand.
    #[test]
    fn rules_per_jurisdiction() {
        let signed = d(2027, 1, 10);
        let cases = [
            // (currency, state funded, jurisdiction set, required, reason, deadline, effect)
            (
                "VND",
                true,
                None,
                true,
                "state_funded",
                Some(d(2027, 4, 10)),
                true,
            ),
            ("VND", false, None, false, "not_state_funded", None, false),
            (
                "USD",
                true,
                Some("vn"),
                true,
                "state_funded",
                Some(d(2027, 4, 10)),
                true,
            ),
            ("USD", true, None, false, "no_jurisdiction", None, false),
            ("CNY", false, None, true, "always", None, false),
            ("VND", false, Some("cn"), true, "always", None, false),
        ];
        for (currency, funded, j, required, reason, deadline, effect) in cases {
            let got = decide(&terms(currency, funded, j), &rules(), signed);
            assert_eq!(
                (
                    got.required,
                    got.reason,
                    got.deadline,
                    got.takes_effect_on_certificate
                ),
                (required, reason, deadline, effect),
                "{currency} {funded} {j:?}"
            );
        }
        let none = decide(&terms("VND", true, None), &Rules::default(), signed);
        assert_eq!((none.required, none.reason), (false, "never"));
    }

    #[test]
    fn status_moves_with_the_day_and_the_certificate() {
        let deadline = Some(d(2027, 4, 10));
        assert_eq!(
            status(false, None, None, d(2027, 1, 1)),
            Status::NotRequired
        );
        assert_eq!(
            status(true, deadline, None, d(2027, 4, 10)),
            Status::Pending
        );
        assert_eq!(
            status(true, deadline, None, d(2027, 4, 11)),
            Status::Overdue
        );
        assert_eq!(status(true, None, None, d(2099, 1, 1)), Status::Pending);
        assert_eq!(
            status(true, deadline, Some(d(2027, 5, 1)), d(2027, 6, 1)),
            Status::Registered
        );
    }
}
