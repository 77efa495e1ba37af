//! Conversion terms: what converting will cost, agreed before a trial starts. Versioned per
//! technology; an agreement snapshots the version in force when it is approved. Pure
//! validation here; amounts stay decimal strings in the currency's major unit, rates exact.

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::rules::lifecycle::MAX_PERIOD_DAYS;
use crate::settlement::money::{parse_rate, Currency};

/// How the SME pays on conversion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum Price {
    /// One amount due `due_days` after conversion.
    LumpSum { amount: String, due_days: u32 },
    /// `total` in `count` payments every `interval_months`, the first `first_due_days` after conversion.
    Installments {
        total: String,
        count: u32,
        interval_months: u32,
        first_due_days: u32,
    },
    /// `rate` of net sales reported each quarter, with an optional minimum per contract year.
    Royalty {
        rate: String,
        min_per_year: Option<String>,
    },
    /// An entry fee due `due_days` after conversion, then a royalty.
    EntryFeePlusRoyalty {
        entry_fee: String,
        due_days: u32,
        rate: String,
        min_per_year: Option<String>,
    },
}

impl Price {
    pub fn model(&self) -> &'static str {
        match self {
            Price::LumpSum { .. } => "lump_sum",
            Price::Installments { .. } => "installments",
            Price::Royalty { .. } => "royalty",
            Price::EntryFeePlusRoyalty { .. } => "entry_fee_plus_royalty",
        }
    }
}

/// The wire form of [`Price`], read as one flat object so errors inside it keep their JSON
/// path (`price.amount`): serde's internally tagged enums buffer their content and lose it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFields {
    model: PriceModel,
    amount: Option<String>,
    due_days: Option<u32>,
    total: Option<String>,
    count: Option<u32>,
    interval_months: Option<u32>,
    first_due_days: Option<u32>,
    rate: Option<String>,
    min_per_year: Option<String>,
    entry_fee: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum PriceModel {
    LumpSum,
    Installments,
    Royalty,
    EntryFeePlusRoyalty,
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Price, D::Error> {
        use serde::de::Error;
        let f = PriceFields::deserialize(d)?;
        let allowed: &'static [&'static str] = match f.model {
            PriceModel::LumpSum => &["model", "amount", "due_days"],
            PriceModel::Installments => &[
                "model",
                "total",
                "count",
                "interval_months",
                "first_due_days",
            ],
            PriceModel::Royalty => &["model", "rate", "min_per_year"],
            PriceModel::EntryFeePlusRoyalty => {
                &["model", "entry_fee", "due_days", "rate", "min_per_year"]
            }
        };
        let present = [
            ("amount", f.amount.is_some()),
            ("due_days", f.due_days.is_some()),
            ("total", f.total.is_some()),
            ("count", f.count.is_some()),
            ("interval_months", f.interval_months.is_some()),
            ("first_due_days", f.first_due_days.is_some()),
            ("rate", f.rate.is_some()),
            ("min_per_year", f.min_per_year.is_some()),
            ("entry_fee", f.entry_fee.is_some()),
        ];
        if let Some((name, _)) = present.iter().find(|(n, set)| *set && !allowed.contains(n)) {
            return Err(D::Error::unknown_field(name, allowed));
        }
        fn need<T, E: Error>(v: Option<T>, name: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(name))
        }
        Ok(match f.model {
            PriceModel::LumpSum => Price::LumpSum {
                amount: need(f.amount, "amount")?,
                due_days: need(f.due_days, "due_days")?,
            },
            PriceModel::Installments => Price::Installments {
                total: need(f.total, "total")?,
                count: need(f.count, "count")?,
                interval_months: need(f.interval_months, "interval_months")?,
                first_due_days: need(f.first_due_days, "first_due_days")?,
            },
            PriceModel::Royalty => Price::Royalty {
                rate: need(f.rate, "rate")?,
                min_per_year: f.min_per_year,
            },
            PriceModel::EntryFeePlusRoyalty => Price::EntryFeePlusRoyalty {
                entry_fee: need(f.entry_fee, "entry_fee")?,
                due_days: need(f.due_days, "due_days")?,
                rate: need(f.rate, "rate")?,
                min_per_year: f.min_per_year,
            },
        })
    }
}

/// Shares of each payment received (profit distribution); they sum to 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Distribution {
    pub institute: String,
    pub inventors: String,
    pub intermediary: String,
}

/// Who owns an improvement the SME makes to the technology during the trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImprovementOwner {
    Sme,
    Institute,
    /// Both parties, in equal undivided shares.
    Joint,
}

impl ImprovementOwner {
    pub const ALL: [ImprovementOwner; 3] = [
        ImprovementOwner::Sme,
        ImprovementOwner::Institute,
        ImprovementOwner::Joint,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImprovementOwner::Sme => "sme",
            ImprovementOwner::Institute => "institute",
            ImprovementOwner::Joint => "joint",
        }
    }

    /// The owner a code names (`sme`, `institute`, `joint`).
    pub fn parse(code: &str) -> Option<ImprovementOwner> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// Read from a string, so that a value of another type is a bad field (422), where serde's
/// derived enum reading calls it malformed JSON.
impl<'de> Deserialize<'de> for ImprovementOwner {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ImprovementOwner, D::Error> {
        let code = String::deserialize(d)?;
        ImprovementOwner::parse(&code)
            .ok_or_else(|| serde::de::Error::unknown_variant(&code, &["sme", "institute", "joint"]))
    }
}

/// Improvements made during the trial: who owns them, and whether the other party gets a
/// licence back. What the licence back is depends on the owner:
/// - `sme`: the institute gets a non-exclusive, royalty-free, perpetual licence to use the
///   improvement for research and to develop the technology further;
/// - `institute`: the SME gets a non-exclusive, royalty-free licence to use the improvement
///   at its place of use for the trial and, once converted, for the term of the contract;
/// - `joint`: each co-owner may use the improvement and license it non-exclusively to
///   others without the other's consent and without sharing the income (without it, each
///   may only use it in its own operations, and licensing needs both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Improvements {
    pub owner: ImprovementOwner,
    #[serde(default)]
    pub licence_back: bool,
}

/// Conversion terms as set by an institute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// Length of the free trial, in days.
    pub trial_days: u32,
    /// Days after the trial's last day by which the SME must decide.
    pub decision_days: u32,
    /// ISO 4217: VND, CNY, USD or EUR.
    pub currency: String,
    pub price: Price,
    /// Whether the trial must be insured.
    pub insurance_required: bool,
    /// Discount for converting before the trial ends, e.g. "0.05".
    #[serde(default)]
    pub early_conversion_discount: Option<String>,
    /// Simple daily interest on overdue amounts, e.g. "0.0003".
    #[serde(default)]
    pub late_payment_daily_rate: Option<String>,
    #[serde(default)]
    pub distribution: Option<Distribution>,
    /// Who owns what the SME improves in the technology during the trial.
    #[serde(default)]
    pub improvements: Option<Improvements>,
    /// The technology results from research funded by the state budget (in Vietnam, its
    /// transfer must then be registered: `rules::registration`).
    #[serde(default)]
    pub state_funded: bool,
    /// Whose registration rules apply: `vn` or `cn`. None: taken from the currency (VND: vn,
    /// CNY: cn; any other: no registration rule).
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// When the first payment (the lump sum, the first installment or the entry fee) falls
    /// due; none: its days after conversion, as the price says.
    #[serde(default)]
    pub first_payment: Option<Trigger>,
}

/// What starts the clock of the first payment: the price's `due_days` (or `first_due_days`)
/// count from the day it is met instead of from the conversion day, and later installments
/// keep their interval from the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A calendar day (met on the conversion day if that is later).
    OnDate { date: chrono::NaiveDate },
    /// `months` calendar months after the conversion day (1 to 60).
    MonthsAfterConversion { months: u32 },
    /// The day the SME reports its first quarter with net sales above zero (only where the
    /// SME reports sales: entry fee plus royalty).
    FirstRevenue,
}

impl Trigger {
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::OnDate { .. } => "on_date",
            Trigger::MonthsAfterConversion { .. } => "months_after_conversion",
            Trigger::FirstRevenue => "first_revenue",
        }
    }
}

/// The jurisdictions whose registration rules the platform knows.
pub const JURISDICTIONS: [&str; 2] = ["vn", "cn"];

impl Terms {
    /// The jurisdiction whose rules apply: the one set, else the currency's (VND: Vietnam,
    /// CNY: China), else none.
    pub fn jurisdiction(&self) -> Option<&str> {
        match self.jurisdiction.as_deref() {
            Some(j) => Some(j),
            None => match self.currency.as_str() {
                "VND" => Some("vn"),
                "CNY" => Some("cn"),
                _ => None,
            },
        }
    }
}

impl Terms {
    /// Checks every field and writes amounts and rates canonically; errors name the field
    /// by its JSON path.
    pub fn validate(mut self) -> Result<Terms, Vec<FieldError>> {
        let mut errors = Vec::new();
        for (field, value) in [
            ("trial_days", self.trial_days),
            ("decision_days", self.decision_days),
        ] {
            if value == 0 || value > MAX_PERIOD_DAYS {
                errors.push(FieldError::new(
                    field,
                    format!("must be between 1 and {MAX_PERIOD_DAYS}"),
                ));
            }
        }
        let currency = Currency::parse(&self.currency);
        if currency.is_none() {
            errors.push(FieldError::new(
                "currency",
                "must be one of VND, CNY, USD, EUR",
            ));
        }
        let e = &mut errors;
        match &mut self.price {
            Price::LumpSum {
                amount: a,
                due_days,
            } => {
                amount(e, currency, "price.amount", a, true);
                days_at_most(e, "price.due_days", *due_days);
            }
            Price::Installments {
                total,
                count,
                interval_months,
                first_due_days,
            } => {
                amount(e, currency, "price.total", total, true);
                if !(1..=120).contains(count) {
                    e.push(FieldError::new("price.count", "must be between 1 and 120"));
                }
                if !(1..=24).contains(interval_months) {
                    e.push(FieldError::new(
                        "price.interval_months",
                        "must be between 1 and 24",
                    ));
                }
                days_at_most(e, "price.first_due_days", *first_due_days);
            }
            Price::Royalty {
                rate: r,
                min_per_year,
            } => {
                rate(e, "price.rate", r);
                if let Some(m) = min_per_year {
                    amount(e, currency, "price.min_per_year", m, false);
                }
            }
            Price::EntryFeePlusRoyalty {
                entry_fee,
                due_days,
                rate: r,
                min_per_year,
            } => {
                amount(e, currency, "price.entry_fee", entry_fee, true);
                days_at_most(e, "price.due_days", *due_days);
                rate(e, "price.rate", r);
                if let Some(m) = min_per_year {
                    amount(e, currency, "price.min_per_year", m, false);
                }
            }
        }
        if let Some(d) = &mut self.early_conversion_discount {
            rate(e, "early_conversion_discount", d);
        }
        if let Some(d) = &mut self.late_payment_daily_rate {
            rate(e, "late_payment_daily_rate", d);
        }
        if let Some(dist) = &mut self.distribution {
            let mut sum = rust_decimal::Decimal::ZERO;
            let mut all_ok = true;
            for (field, value) in [
                ("distribution.institute", &mut dist.institute),
                ("distribution.inventors", &mut dist.inventors),
                ("distribution.intermediary", &mut dist.intermediary),
            ] {
                match parse_rate(value) {
                    Ok(r) => {
                        sum += r;
                        *value = r.to_string();
                    }
                    Err(msg) => {
                        all_ok = false;
                        e.push(FieldError::new(field, msg));
                    }
                }
            }
            if all_ok && sum != rust_decimal::Decimal::ONE {
                e.push(FieldError::new(
                    "distribution",
                    format!("shares must sum to exactly 1 (they sum to {sum})"),
                ));
            }
        }
        if let Some(j) = &mut self.jurisdiction {
            let lower = j.trim().to_ascii_lowercase();
            if JURISDICTIONS.contains(&lower.as_str()) {
                *j = lower;
            } else {
                e.push(FieldError::new("jurisdiction", "must be vn or cn"));
            }
        }
        if let Some(trigger) = &self.first_payment {
            match (&self.price, trigger) {
                (Price::Royalty { .. }, _) => e.push(FieldError::new(
                    "first_payment",
                    "a royalty alone has no first payment to trigger",
                )),
                (Price::LumpSum { .. } | Price::Installments { .. }, Trigger::FirstRevenue) => e
                    .push(FieldError::new(
                        "first_payment.kind",
                        "first_revenue needs sales reports, which only a royalty has: \
                         use entry_fee_plus_royalty, on_date or months_after_conversion",
                    )),
                (_, Trigger::MonthsAfterConversion { months }) if !(1..=60).contains(months) => e
                    .push(FieldError::new(
                        "first_payment.months",
                        "must be between 1 and 60",
                    )),
                (_, Trigger::OnDate { date }) if date.year() < 2000 || date.year() > 2100 => e
                    .push(FieldError::new(
                        "first_payment.date",
                        "must be a day between 2000 and 2100",
                    )),
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }
}

fn amount(
    errors: &mut Vec<FieldError>,
    currency: Option<Currency>,
    field: &str,
    value: &mut String,
    positive: bool,
) {
    if let Some(c) = currency {
        match c.parse_amount(value) {
            Ok(0) if positive => errors.push(FieldError::new(field, "must be greater than zero")),
            Ok(minor) => *value = c.format_amount(minor),
            Err(msg) => errors.push(FieldError::new(field, msg)),
        }
    }
}

fn rate(errors: &mut Vec<FieldError>, field: &str, value: &mut String) {
    match parse_rate(value) {
        Ok(r) => *value = r.to_string(),
        Err(msg) => errors.push(FieldError::new(field, msg)),
    }
}

fn days_at_most(errors: &mut Vec<FieldError>, field: &str, days: u32) {
    if days > MAX_PERIOD_DAYS {
        errors.push(FieldError::new(
            field,
            format!("must be at most {MAX_PERIOD_DAYS}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(price: Price) -> Terms {
        Terms {
            trial_days: 90,
            decision_days: 30,
            currency: "USD".into(),
            price,
            insurance_required: false,
            early_conversion_discount: Some("0.050".into()),
            late_payment_daily_rate: None,
            distribution: Some(Distribution {
                institute: "0.7".into(),
                inventors: "0.25".into(),
                intermediary: "0.05".into(),
            }),
            improvements: None,
            state_funded: false,
            jurisdiction: None,
            first_payment: None,
        }
    }

    #[test]
    fn canonicalises_valid_terms() {
        let t = terms(Price::LumpSum {
            amount: "1500.5".into(),
            due_days: 30,
        })
        .validate()
        .unwrap();
        assert_eq!(
            t.price,
            Price::LumpSum {
                amount: "1500.50".into(),
                due_days: 30
            }
        );
        assert_eq!(t.early_conversion_discount.as_deref(), Some("0.05"));
    }

    #[test]
    fn names_every_bad_field() {
        let mut t = terms(Price::Installments {
            total: "0".into(),
            count: 0,
            interval_months: 1,
            first_due_days: 30,
        });
        t.trial_days = 0;
        t.distribution = Some(Distribution {
            institute: "0.7".into(),
            inventors: "0.2".into(),
            intermediary: "0.05".into(),
        });
        let fields: Vec<String> = t
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["trial_days", "price.total", "price.count", "distribution"]
        );
        let t = terms(Price::Royalty {
            rate: "1.5".into(),
            min_per_year: Some("1.234".into()),
        });
        let fields: Vec<String> = t
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["price.rate", "price.min_per_year"]);
        let mut t = terms(Price::LumpSum {
            amount: "1".into(),
            due_days: 1,
        });
        t.currency = "BTC".into();
        assert_eq!(t.validate().unwrap_err()[0].field, "currency");
    }

    #[test]
    fn registration_and_trigger_fields_are_checked() {
        let lump = || {
            terms(Price::LumpSum {
                amount: "1".into(),
                due_days: 1,
            })
        };
        let fields = |t: Terms| -> Vec<String> {
            t.validate()
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        let mut t = lump();
        t.jurisdiction = Some(" VN ".into());
        t.first_payment = Some(Trigger::MonthsAfterConversion { months: 6 });
        let ok = t.validate().unwrap();
        assert_eq!(ok.jurisdiction.as_deref(), Some("vn"));
        let mut t = lump();
        t.jurisdiction = Some("fr".into());
        t.first_payment = Some(Trigger::MonthsAfterConversion { months: 0 });
        assert_eq!(fields(t), ["jurisdiction", "first_payment.months"]);
        let mut t = lump();
        t.first_payment = Some(Trigger::FirstRevenue);
        assert_eq!(fields(t), ["first_payment.kind"]);
        let mut t = terms(Price::Royalty {
            rate: "0.05".into(),
            min_per_year: None,
        });
        t.first_payment = Some(Trigger::OnDate {
            date: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        });
        assert_eq!(fields(t), ["first_payment"]);
        let mut t = terms(Price::EntryFeePlusRoyalty {
            entry_fee: "10".into(),
            due_days: 10,
            rate: "0.05".into(),
            min_per_year: None,
        });
        t.first_payment = Some(Trigger::FirstRevenue);
        assert!(t.validate().is_ok());
    }

    #[test]
    fn older_terms_without_the_new_fields_still_read() {
        let json = r#"{"trial_days":90,"decision_days":30,"currency":"VND","price":{"model":"lump_sum","amount":"1000","due_days":30},"insurance_required":false}"#;
        let t: Terms = serde_json::from_str(json).unwrap();
        assert!(!t.state_funded);
        assert_eq!(t.first_payment, None);
        assert_eq!(t.jurisdiction(), Some("vn"));
        let t: Terms = serde_json::from_str(&json.replace("VND", "USD")).unwrap();
        assert_eq!(t.jurisdiction(), None);
    }
}
