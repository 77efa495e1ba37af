//! What a demand and a proposal are, as stored and as the API shows them, what may see them,
//! and how a demand matches a technology: the values other parts and edges take from here.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{demand_proposals, demands};
use crate::error::FieldError;
use crate::rules::roles::Role;
use crate::settlement::money::Currency;

/// Who a demand is shown to: `public`, every institute; `invited`, only the institutes its
/// SME names.
pub const VISIBILITIES: [&str; 2] = ["public", "invited"];
pub const STATUSES: [&str; 2] = ["open", "closed"];

/// The stored demand.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = demands)]
pub struct DemandRow {
    pub id: String,
    pub sme_id: String,
    pub title: String,
    pub description: String,
    pub sector: String,
    pub province: String,
    pub currency: String,
    pub budget_min_minor: i64,
    pub budget_max_minor: i64,
    pub wanted_by: NaiveDate,
    pub visibility: String,
    pub status: String,
    pub closed_reason: Option<String>,
    pub agreement_id: Option<String>,
    pub version: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A budget range in one currency, as the API shows and takes it (decimal text, major units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// VND, CNY, USD or EUR.
    pub currency: String,
    /// The least the SME expects to pay, e.g. "200000000".
    pub min: String,
    /// The most it can pay; not below `min`.
    pub max: String,
}

/// A demand as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Demand {
    pub id: String,
    /// The SME that posted it.
    pub sme_id: String,
    pub title: String,
    pub description: String,
    /// The field it is in (the catalogue's fields: `agriculture`, `food_processing`, …).
    pub sector: String,
    /// Where the technology would be used.
    pub province: String,
    pub budget: Budget,
    #[schema(value_type = String, format = Date)]
    pub wanted_by: NaiveDate,
    /// `public` (every institute) or `invited` (only `invited_institute_ids`).
    pub visibility: String,
    pub invited_institute_ids: Vec<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Why it closed: `owner` (its SME closed it) or `trial` (a trial was requested).
    pub closed_reason: Option<String>,
    /// The trial requested from one of its proposals.
    pub agreement_id: Option<String>,
    pub version: i64,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl Demand {
    /// The API's view of a row and its invitees.
    pub fn of(r: DemandRow, invited_institute_ids: Vec<String>) -> Demand {
        let amount = |minor: i64| {
            Currency::parse(&r.currency)
                .map(|c| c.format_amount(minor))
                .unwrap_or_else(|| minor.to_string())
        };
        Demand {
            budget: Budget {
                currency: r.currency.clone(),
                min: amount(r.budget_min_minor),
                max: amount(r.budget_max_minor),
            },
            id: r.id,
            sme_id: r.sme_id,
            title: r.title,
            description: r.description,
            sector: r.sector,
            province: r.province,
            wanted_by: r.wanted_by,
            visibility: r.visibility,
            invited_institute_ids,
            status: r.status,
            closed_reason: r.closed_reason,
            agreement_id: r.agreement_id,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A new demand, or the full replacement of an open one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandInput {
    pub title: String,
    pub description: String,
    pub sector: String,
    pub province: String,
    pub budget: Budget,
    /// YYYY-MM-DD, today or later.
    pub wanted_by: String,
    /// `public` (default) or `invited`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// With `invited`: the institutes that may see it (at least one).
    #[serde(default)]
    pub invited_institute_ids: Vec<String>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            currency: "VND".into(),
            min: String::new(),
            max: String::new(),
        }
    }
}

/// The stored proposal.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = demand_proposals)]
pub struct Proposal {
    pub id: String,
    pub demand_id: String,
    pub institute_id: String,
    pub technology_id: String,
    pub message: String,
    /// `proposed`; `requested` once the SME asked for a trial of it; `ended` when that
    /// request ended before the trial began (rejected or withdrawn).
    pub status: String,
    /// The trial requested from it (the latest, once ended).
    pub agreement_id: Option<String>,
    pub created_by: String,
    #[serde(serialize_with = "crate::clock::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

/// An institute's proposal of one of its technologies.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    pub technology_id: String,
    /// A short message to the SME (up to 1,000 characters).
    pub message: String,
}

/// What a list of demands asks for.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Words to find (accents optional); the best matches first.
    pub q: Option<String>,
    /// `open` or `closed`.
    pub status: Option<String>,
    /// The field, as the need names it (`agriculture`, …).
    pub sector: Option<String>,
    /// The province, as the need writes it.
    pub province: Option<String>,
}

/// The longest field or province a demand holds, and so the longest a filter may ask for.
pub const PLACE_MAX: usize = 100;

impl Filter {
    /// The filter with blank values left out and the rest trimmed.
    pub fn trimmed(self) -> Filter {
        let set = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Filter {
            q: set(self.q),
            status: set(self.status),
            sector: set(self.sector),
            province: set(self.province),
        }
    }

    /// Whether it asks for nothing (words, status, field and province all left out).
    pub fn is_empty(&self) -> bool {
        [&self.q, &self.status, &self.sector, &self.province]
            .iter()
            .all(|v| v.is_none())
    }

    /// What no demand could answer, by field: a status that is not one, a field or
    /// province longer than a demand holds.
    pub fn faults(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self
            .status
            .as_deref()
            .is_some_and(|s| !STATUSES.contains(&s))
        {
            e.push(FieldError::new(
                "status",
                format!("must be one of {}", STATUSES.join(", ")),
            ));
        }
        for (field, value) in [("sector", &self.sector), ("province", &self.province)] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > PLACE_MAX)
            {
                e.push(FieldError::new(
                    field,
                    format!("must be at most {PLACE_MAX} characters"),
                ));
            }
        }
        e
    }

    /// The filter without the fields named in `faults` (what a page still searches by
    /// beside the errors).
    pub fn without(mut self, faults: &[FieldError]) -> Filter {
        for f in faults {
            match f.field.as_str() {
                "status" => self.status = None,
                "sector" => self.sector = None,
                "province" => self.province = None,
                _ => {}
            }
        }
        self
    }
}

/// Who is looking at demands.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub role: Role,
    pub organisation_id: &'a str,
}

/// Whether `viewer` may see `demand`: its SME always; an institute an open demand that is
/// public or names it, and any demand it has proposed to; admins and auditors every demand;
/// insurers none.
pub fn sees(viewer: Viewer<'_>, demand: &DemandRow, invited: bool, proposed: bool) -> bool {
    match viewer.role {
        Role::Admin | Role::Auditor => true,
        Role::Sme => demand.sme_id == viewer.organisation_id,
        Role::Institute => {
            proposed || (demand.status == "open" && (demand.visibility == "public" || invited))
        }
        Role::Insurer => false,
    }
}

/// How a technology's price stands against a demand's budget (same currency only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceFit {
    /// Between the budget's least and most.
    Within,
    /// Below the least the SME expected to pay.
    Below,
    /// Above the most it can pay.
    Above,
    /// Priced in another currency: not compared.
    OtherCurrency,
}

/// What a technology offers against a demand: its field, its institute's province, its
/// words, and its price (the current terms' fixed price, or its valuation) in minor units.
#[derive(Debug, Clone)]
pub struct Offer<'a> {
    pub field: &'a str,
    pub province: &'a str,
    pub words: &'a BTreeSet<String>,
    pub price_minor: i64,
    pub currency: &'a str,
}

/// Why a technology matches a demand, in facts a person can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Reasons {
    pub same_sector: bool,
    pub same_province: bool,
    /// The words both texts use (accents folded), sorted; common words left out.
    pub shared_words: Vec<String>,
    pub price_fit: PriceFit,
}

impl Reasons {
    /// Whether there is a match at all: the same field, or at least two shared words.
    pub fn is_match(&self) -> bool {
        self.same_sector || self.shared_words.len() >= 2
    }

    /// The order of the ranked list: each reason's weight, added (the same sector 3, each
    /// shared word 1 up to 5, a price within budget 2 or below it 1, the same province 1).
    pub fn weight(&self) -> u32 {
        let words = self.shared_words.len().min(5) as u32;
        let price = match self.price_fit {
            PriceFit::Within => 2,
            PriceFit::Below => 1,
            PriceFit::Above | PriceFit::OtherCurrency => 0,
        };
        3 * u32::from(self.same_sector) + words + price + u32::from(self.same_province)
    }
}

/// Words too common to say two texts are about the same thing (folded Vietnamese and
/// English).
const COMMON_WORDS: [&str; 54] = [
    "va", "cho", "cac", "cua", "la", "co", "the", "trong", "voi", "de", "duoc", "mot", "nhung",
    "moi", "ngay", "tu", "khong", "nay", "ve", "tai", "theo", "o", "den", "nhu", "da", "se", "can",
    "muon", "chung", "toi", "hon", "ra", "vao", "tren", "and", "for", "of", "a", "an", "to", "in",
    "with", "on", "by", "from", "at", "we", "our", "is", "are", "or", "that", "this", "it",
];

/// The reasons `offer` matches `demand` whose indexed words are `demand_words`.
pub fn reasons(demand: &DemandRow, demand_words: &BTreeSet<String>, offer: &Offer<'_>) -> Reasons {
    // Both index their field's code; the field is a reason of its own (`same_sector`), so
    // its words are not counted again as shared words.
    let field_words = crate::search::word_set(&demand.sector);
    let shared_words = demand_words
        .intersection(offer.words)
        .filter(|w| !field_words.contains(*w))
        .filter(|w| !COMMON_WORDS.contains(&w.as_str()) && w.chars().count() > 1)
        .cloned()
        .collect();
    let price_fit = if offer.currency != demand.currency {
        PriceFit::OtherCurrency
    } else if offer.price_minor < demand.budget_min_minor {
        PriceFit::Below
    } else if offer.price_minor > demand.budget_max_minor {
        PriceFit::Above
    } else {
        PriceFit::Within
    };
    Reasons {
        same_sector: demand.sector == offer.field,
        same_province: crate::search::fold(&demand.province) == crate::search::fold(offer.province),
        shared_words,
        price_fit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demand() -> DemandRow {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        DemandRow {
            id: "d".into(),
            sme_id: "sme".into(),
            title: "Máy sấy rơm".into(),
            description: "".into(),
            sector: "agriculture".into(),
            province: "Đồng Tháp".into(),
            currency: "VND".into(),
            budget_min_minor: 100,
            budget_max_minor: 200,
            wanted_by: at.date(),
            visibility: "public".into(),
            status: "open".into(),
            closed_reason: None,
            agreement_id: None,
            version: 1,
            created_by: "u".into(),
            created_at: at,
            updated_at: at,
        }
    }

    fn words(s: &str) -> BTreeSet<String> {
        crate::search::word_set(&crate::search::words(s))
    }

    #[test]
    fn reasons_name_the_facts_and_weigh_them() {
        let d = demand();
        // As the index keeps them: the need with its field and province, the technology
        // with its field.
        let dw = words("Cần máy sấy rơm rạ cho hợp tác xã agriculture Đồng Tháp");
        let tw = words("Máy sấy nông sản và rơm agriculture");
        let offer = |price, currency, field, province| Offer {
            field,
            province,
            words: &tw,
            price_minor: price,
            currency,
        };
        let r = reasons(&d, &dw, &offer(150, "VND", "agriculture", "Dong Thap"));
        assert_eq!(r.shared_words, ["may", "rom", "say"]);
        assert!(r.same_sector && r.same_province && r.is_match());
        assert_eq!(r.price_fit, PriceFit::Within);
        assert_eq!(r.weight(), 3 + 3 + 2 + 1);
        for (price, currency, fit) in [
            (99, "VND", PriceFit::Below),
            (100, "VND", PriceFit::Within),
            (200, "VND", PriceFit::Within),
            (201, "VND", PriceFit::Above),
            (150, "USD", PriceFit::OtherCurrency),
        ] {
            let r = reasons(&d, &dw, &offer(price, currency, "energy", "Hà Nội"));
            assert_eq!(r.price_fit, fit, "{price} {currency}");
            assert!(!r.same_sector && !r.same_province);
        }
        let none = BTreeSet::new();
        let r = reasons(
            &d,
            &dw,
            &Offer {
                words: &none,
                ..offer(500, "VND", "energy", "Hà Nội")
            },
        );
        assert!(!r.is_match());
        assert_eq!(r.weight(), 0);
    }

    #[test]
    fn filters_name_each_fault_and_blank_ones_are_left_out() {
        let f = Filter {
            q: Some("  ".into()),
            status: Some(" open ".into()),
            sector: Some("".into()),
            province: Some(" Đồng Tháp ".into()),
        }
        .trimmed();
        assert_eq!(
            (f.q.as_deref(), f.status.as_deref(), f.sector.as_deref()),
            (None, Some("open"), None)
        );
        assert_eq!(f.province.as_deref(), Some("Đồng Tháp"));
        assert!(f.faults().is_empty());
        assert!(!f.is_empty());
        assert!(Filter::default().is_empty());
        let long = "x".repeat(PLACE_MAX + 1);
        let bad = Filter {
            status: Some("shut".into()),
            sector: Some(long.clone()),
            province: Some(long),
            ..Filter::default()
        };
        let faults = bad.faults();
        let fields: Vec<&str> = faults.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["status", "sector", "province"]);
        let kept = bad.without(&faults);
        assert!(kept.status.is_none() && kept.sector.is_none() && kept.province.is_none());
    }

    #[test]
    fn visibility_by_role() {
        let mut d = demand();
        let as_ = |role, org| Viewer {
            role,
            organisation_id: org,
        };
        assert!(sees(as_(Role::Sme, "sme"), &d, false, false));
        assert!(!sees(as_(Role::Sme, "other"), &d, false, false));
        assert!(sees(as_(Role::Institute, "i"), &d, false, false));
        assert!(!sees(as_(Role::Insurer, "x"), &d, true, true));
        assert!(sees(as_(Role::Auditor, "x"), &d, false, false));
        d.visibility = "invited".into();
        assert!(!sees(as_(Role::Institute, "i"), &d, false, false));
        assert!(sees(as_(Role::Institute, "i"), &d, true, false));
        d.status = "closed".into();
        assert!(!sees(as_(Role::Institute, "i"), &d, true, false));
        assert!(sees(as_(Role::Institute, "i"), &d, false, true));
    }
}
