//! What each insurance action does across the parts: the products insurers define, the cover
//! a party chooses, the insurer's views, the policies, and claims: filed on an agreement the
//! claimant may see (read from `agreements`, numbered with its counters), decided and paid by
//! the insurer, each step stored by `insurance` with its audit event and told to the parties
//! and the insurer through the outbox (`mail`). The API and the demo seed come through here.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::agreements::model::{Agreement, AgreementRow};
use crate::agreements::store;
use crate::audit::Who;
use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::error::AppError;
use crate::insurance::claims::{self, ClaimRow};
use crate::insurance::model::{
    Claim, ClaimAction, ClaimFilter, ClaimInput, ClaimStatus, ClaimStep, CoveredAgreement,
    CoveredFilter, Dashboard, Policy, Product, ProductInput, Risk,
};
use crate::insurance::{cover, portfolio, products};
use crate::AppState;

/// An insurer defines a product (version 1), with its audit event.
pub fn create_product(
    state: &AppState,
    actor: &Actor,
    input: &ProductInput,
) -> Result<Product, AppError> {
    let now = state.clock.now();
    state
        .db
        .write(|conn| products::create(conn, now, Who::from(actor), &actor.organisation_id, input))
}

/// An insurer writes the next version of its product `id`, if it is still at `expected`.
pub fn revise_product(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    input: &ProductInput,
) -> Result<Product, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        products::revise(
            conn,
            now,
            Who::from(actor),
            &actor.organisation_id,
            id,
            expected,
            input,
        )
    })
}

/// The latest version of every product `actor` may see today, filtered.
pub fn list_products(
    state: &AppState,
    actor: &Actor,
    insurer_id: Option<&str>,
    risk: Option<Risk>,
    currency: Option<&str>,
) -> Result<Vec<Product>, AppError> {
    let today = state.clock.today(state.tz);
    let mut conn = state.db.reader()?;
    products::list(&mut conn, actor, today, insurer_id, risk, currency)
}

/// Product `id` as `actor` may see it today: its latest version, or version `wanted`.
pub fn product(
    state: &AppState,
    actor: &Actor,
    id: &str,
    wanted: Option<i32>,
) -> Result<Product, AppError> {
    let today = state.clock.today(state.tz);
    let mut conn = state.db.reader()?;
    products::get(&mut conn, actor, today, id, wanted)
}

/// A party chooses the insurance product and cover of agreement `id`, if it is still at
/// `expected` (`app::agreements::choose_insurance`); the agreement as `actor` now sees it.
pub fn choose_product(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    product_id: &str,
    coverage: Option<&str>,
) -> Result<Agreement, AppError> {
    let now = state.clock.now();
    let row = state.db.write(|conn| {
        super::agreements::choose_insurance(conn, now, actor, id, expected, product_id, coverage)
    })?;
    Agreement::from_row(row, Some(actor))
}

/// A page of the agreements `actor` covers, newest first, and the total.
pub fn covered_agreements(
    state: &AppState,
    actor: &Actor,
    filter: &CoveredFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CoveredAgreement>, i64), AppError> {
    let mut conn = state.db.reader()?;
    portfolio::list(&mut conn, actor, filter, limit, offset)
}

/// One agreement `actor` covers (404 when it does not).
pub fn covered_agreement(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<CoveredAgreement, AppError> {
    let mut conn = state.db.reader()?;
    portfolio::check_viewer(actor)?;
    let row = store::get(&mut conn, id)
        .optional()?
        .ok_or(AppError::NotFound)?;
    portfolio::get(&mut conn, actor, row)
}

/// The dashboard of `actor`'s insurer (or of `insurer_id`, or all, for admins and auditors).
pub fn dashboard(
    state: &AppState,
    actor: &Actor,
    insurer_id: Option<&str>,
) -> Result<Dashboard, AppError> {
    portfolio::dashboard(&mut *state.db.reader()?, actor, insurer_id)
}

/// A page of the policies `actor` may see, newest first, optionally of one agreement, and
/// the total.
pub fn policies(
    state: &AppState,
    actor: &Actor,
    agreement_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Policy>, i64), AppError> {
    let mut conn = state.db.reader()?;
    crate::insurance::visible_policies(&mut conn, actor, agreement_id, limit, offset)
}

/// A party files a claim: one transaction ([`file_claim_in`]).
pub fn file_claim(state: &AppState, actor: &Actor, input: &ClaimInput) -> Result<Claim, AppError> {
    let now = state.clock.now();
    let grace = state.cfg.insurance.non_payment_grace_days;
    state
        .db
        .write(|conn| file_claim_in(conn, now, actor, input, grace))
}

/// Files a claim as `actor` on the agreement `input` names, inside the caller's transaction:
/// the claim and its audit event, and the message to the parties and the insurer.
pub fn file_claim_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    input: &ClaimInput,
    grace_days: u32,
) -> Result<Claim, AppError> {
    // Filing queues behind whatever ends the agreement's cover, so a claim is never filed on
    // a policy that ended meanwhile.
    cover::lock(conn, &input.agreement_id)?;
    let row = store::get_visible(conn, actor, &input.agreement_id).map_err(|e| match e {
        AppError::NotFound => AppError::field("agreement_id", "no agreement with this id"),
        e => e,
    })?;
    let claim = claims::file(
        conn,
        now,
        actor,
        &row,
        input,
        grace_days,
        &mut store::bump_counter,
    )?;
    notify(conn, now, "claim_filed", &row, &claim)?;
    claim.view()
}

/// A page of the claims `actor` may see, newest first, and the total.
pub fn list_claims(
    state: &AppState,
    actor: &Actor,
    filter: &ClaimFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Claim>, i64), AppError> {
    let mut conn = state.db.reader()?;
    claims::list(&mut conn, actor, filter, limit, offset)
}

/// One claim `actor` may see (404 otherwise).
pub fn claim(state: &AppState, actor: &Actor, id: &str) -> Result<Claim, AppError> {
    claims::get_visible(&mut *state.db.reader()?, actor, id)?.view()
}

/// Takes `action` on claim `id`: one transaction ([`act_on_claim_in`]).
pub fn act_on_claim(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected_version: i64,
    action: ClaimAction,
    step: &ClaimStep,
) -> Result<Claim, AppError> {
    let now = state.clock.now();
    state
        .db
        .write(|conn| act_on_claim_in(conn, now, actor, id, expected_version, action, step))
}

/// Takes `action` on claim `id` as `actor`, if it is still at `expected_version`, inside the
/// caller's transaction: the claim and its audit event, and the message to the parties and
/// the insurer.
pub fn act_on_claim_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    expected_version: i64,
    action: ClaimAction,
    step: &ClaimStep,
) -> Result<Claim, AppError> {
    let row = claims::for_action(conn, actor, id, expected_version)?;
    let agreement = store::get(conn, &row.agreement_id)?;
    let claim = claims::act(conn, now, actor, &row, expected_version, action, step)?;
    // The message is named after the state the claim moved to.
    let kind = format!("claim_{}", claim.status);
    notify(conn, now, &kind, &agreement, &claim)?;
    claim.view()
}

/// Tells the agreement's parties and its insurer what happened to `claim`.
fn notify(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    kind: &str,
    agreement: &AgreementRow,
    claim: &ClaimRow,
) -> Result<usize, AppError> {
    let facts = claims::mail_facts(claim)?;
    crate::mail::enqueue_agreement(conn, now, kind, agreement, facts)
}

/// The insurance of agreement `id` as `actor` may see it: the agreement, whether its terms
/// require cover, the product chosen, the policies bound (each with its claims), and the
/// products `actor` may choose now.
#[derive(Debug)]
pub struct Cover {
    pub agreement: Agreement,
    pub insurance_required: bool,
    pub choice: Option<crate::insurance::model::Choice>,
    /// The product chosen, as it was when chosen.
    pub product: Option<Product>,
    pub policies: Vec<Policy>,
    /// What `actor` may choose among: only for a party of an approved agreement neither has
    /// signed, whose terms require cover and that has none chosen yet; empty otherwise.
    pub products: Vec<Product>,
}

/// The insurance of agreement `id` as `actor` may see it (404 for another organisation's).
pub fn cover(state: &AppState, actor: &Actor, id: &str) -> Result<Cover, AppError> {
    use crate::rules::lifecycle::Status;
    use crate::rules::roles::Role;
    let today = state.clock.today(state.tz);
    let mut conn = state.db.reader()?;
    let row = store::get_visible(&mut conn, actor, id)?;
    let party = match actor.role {
        Role::Sme => row.sme_id == actor.organisation_id,
        Role::Institute => row.institute_id == actor.organisation_id,
        _ => false,
    };
    let unsigned = row.sme_signed_at.is_none() && row.institute_signed_at.is_none();
    let agreement = Agreement::from_row(row, Some(actor))?;
    let terms = agreement.terms.as_ref().map(|t| t.parse()).transpose()?;
    let insurance_required = terms.as_ref().is_some_and(|t| t.insurance_required);
    let choice = cover::choice(&mut conn, &agreement.id)?;
    let policies = crate::insurance::for_agreement(&mut conn, &agreement.id)?;
    // The version chosen (or bound), even if the insurer has since retired the product.
    let chosen = choice
        .as_ref()
        .map(|c| (c.product_id.clone(), c.product_version))
        .or_else(|| {
            policies
                .iter()
                .find_map(|p| Some((p.product_id.clone()?, p.product_version?)))
        });
    let product = match chosen {
        Some((id, version)) => products::version(&mut conn, &id, version)?
            .map(|p| p.view())
            .transpose()?,
        None => None,
    };
    let products = match &terms {
        Some(terms)
            if party
                && unsigned
                && insurance_required
                && choice.is_none()
                && agreement.status == Status::Approved =>
        {
            products::list(&mut conn, actor, today, None, None, Some(&terms.currency))?
        }
        _ => Vec::new(),
    };
    Ok(Cover {
        agreement,
        insurance_required,
        choice,
        product,
        policies,
        products,
    })
}

/// Every version of the insurer's product `id`, newest first (404 for another's).
pub fn product_history(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<Product>, AppError> {
    portfolio::check_viewer(actor)?;
    let mut conn = state.db.reader()?;
    products::history(&mut conn, actor, id)
}

/// What the insurer's list of covered agreements can be filtered by: the institutes (id,
/// name) and the SMEs' provinces.
pub fn covered_filter_choices(
    state: &AppState,
    actor: &Actor,
) -> Result<portfolio::FilterChoices, AppError> {
    portfolio::filter_choices(&mut *state.db.reader()?, actor)
}

/// An agreement as its insurer sees it: the covered agreement (organisations, cover,
/// policies and their claims) and what happened to it and its claims, oldest first, each
/// step naming the organisation that acted and never the person.
#[derive(Debug)]
pub struct InsurerCover {
    pub covered: CoveredAgreement,
    pub history: Vec<super::agreements::Happened>,
}

/// Agreement `id` as the insurer covering it sees it (404 when it does not cover it).
pub fn insurer_cover(state: &AppState, actor: &Actor, id: &str) -> Result<InsurerCover, AppError> {
    let mut conn = state.db.reader()?;
    portfolio::check_viewer(actor)?;
    let row = store::get(&mut conn, id)
        .optional()?
        .ok_or(AppError::NotFound)?;
    let covered = portfolio::get(&mut conn, actor, row)?;
    let mut events = crate::audit::for_entity(&mut conn, "agreement", &covered.id)?;
    for claim in covered.policies.iter().flat_map(|p| &p.claims) {
        events.extend(crate::audit::for_entity(&mut conn, "claim", &claim.id)?);
    }
    events.sort_by_key(|e| e.seq);
    events.iter_mut().for_each(crate::audit::without_people);
    let mut org_ids: Vec<String> = events
        .iter()
        .filter_map(|e| e.actor_organisation_id.clone())
        .collect();
    org_ids.sort();
    org_ids.dedup();
    let names: std::collections::HashMap<String, String> =
        crate::accounts::organisations_by_id(&mut conn, &org_ids)?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
    let history = events
        .into_iter()
        .map(|e| super::agreements::Happened {
            at: e.at,
            organisation: e
                .actor_organisation_id
                .as_ref()
                .and_then(|o| names.get(o).cloned()),
            person: None,
            data: serde_json::from_str(&e.data).unwrap_or_default(),
            action: e.action,
        })
        .collect();
    Ok(InsurerCover { covered, history })
}

/// A claim as its insurer decides it: the claim, the agreement it is on (organisations
/// only), and while it is filed, what approving it would pay now and how.
#[derive(Debug)]
pub struct ClaimReview {
    pub claim: Claim,
    pub agreement: CoveredAgreement,
    pub payout: Option<crate::insurance::model::PayoutFigures>,
}

/// Claim `id` as its insurer sees it (404 for anyone but the insurer deciding it).
pub fn claim_review(state: &AppState, actor: &Actor, id: &str) -> Result<ClaimReview, AppError> {
    use crate::rules::roles::Role;
    if actor.role != Role::Insurer {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.reader()?;
    let row = claims::get_visible(&mut conn, actor, id)?;
    let agreement_row = store::get(&mut conn, &row.agreement_id)?;
    let agreement = portfolio::get(&mut conn, actor, agreement_row)?;
    let payout = match ClaimStatus::parse(&row.status) {
        Some(ClaimStatus::Filed) => Some(claims::payout_figures(&mut conn, &row)?),
        _ => None,
    };
    Ok(ClaimReview {
        claim: row.view()?,
        agreement,
        payout,
    })
}

/// The insurer approves claim `id` (still at `expected_version`) for the payout it was
/// shown, `shown_payout_minor`: if earlier payouts on the policy changed it meanwhile, nothing
/// is approved and the answer is a conflict naming the payout now, so no one approves an
/// amount they did not see. One transaction, as [`act_on_claim_in`].
pub fn approve_claim(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected_version: i64,
    shown_payout_minor: i64,
    note: Option<String>,
) -> Result<Claim, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        let row = claims::for_action(conn, actor, id, expected_version)?;
        claims::lock_policy(conn, &row.policy_id)?;
        let figures = claims::payout_figures(conn, &row)?;
        if figures.payout_minor != shown_payout_minor {
            return Err(AppError::Conflict(format!(
                "the payout is now {} (earlier payouts on the policy changed it)",
                figures.payout_minor
            )));
        }
        let step = ClaimStep {
            reason: note,
            reference: None,
        };
        act_on_claim_in(
            conn,
            now,
            actor,
            id,
            expected_version,
            ClaimAction::Approve,
            &step,
        )
    })
}

/// How many months the insurer's charts show, the current one last.
pub const CHART_MONTHS: u32 = 12;

/// The insurer's figures month by month for the last [`CHART_MONTHS`] months, per currency.
pub fn monthly(
    state: &AppState,
    actor: &Actor,
    insurer_id: Option<&str>,
) -> Result<Vec<crate::insurance::model::MonthlySeries>, AppError> {
    use chrono::Datelike;
    let today = state.clock.today(state.tz);
    let this_month = today.with_day(1).unwrap_or(today);
    let first = this_month
        .checked_sub_months(chrono::Months::new(CHART_MONTHS - 1))
        .unwrap_or(this_month);
    portfolio::monthly(
        &mut *state.db.reader()?,
        actor,
        insurer_id,
        first,
        CHART_MONTHS,
        state.tz,
    )
}

/// A claim in the insurer's inbox, with the agreement's number and the claimant's name.
#[derive(Debug)]
pub struct InboxClaim {
    pub claim: Claim,
    pub agreement_number: String,
    /// The organisation that filed it.
    pub claimant: String,
}

/// A page of the insurer's claims, the total, and how many wait for a decision (filed) or a
/// payment (approved), whatever the filter.
#[derive(Debug)]
pub struct Inbox {
    pub items: Vec<InboxClaim>,
    pub total: i64,
    pub to_decide: i64,
    pub to_pay: i64,
}

/// A page of the claims the insurer decides, newest first ([`Inbox`]).
pub fn claims_inbox(
    state: &AppState,
    actor: &Actor,
    filter: &ClaimFilter,
    limit: i64,
    offset: i64,
) -> Result<Inbox, AppError> {
    use crate::rules::roles::Role;
    if actor.role != Role::Insurer {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.reader()?;
    let (items, total) = claims::list(&mut conn, actor, filter, limit, offset)?;
    let count = |conn: &mut DbConn, status: ClaimStatus| {
        let only = ClaimFilter {
            status: Some(status),
            ..ClaimFilter::default()
        };
        claims::list(conn, actor, &only, 0, 0).map(|(_, n)| n)
    };
    let to_decide = count(&mut conn, ClaimStatus::Filed)?;
    let to_pay = count(&mut conn, ClaimStatus::Approved)?;
    let mut org_ids: Vec<String> = items.iter().map(|c| c.claimant_org.clone()).collect();
    org_ids.sort();
    org_ids.dedup();
    let names: std::collections::HashMap<String, String> =
        crate::accounts::organisations_by_id(&mut conn, &org_ids)?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
    let mut numbers: std::collections::HashMap<String, String> = Default::default();
    let mut out = Vec::with_capacity(items.len());
    for claim in items {
        let number = match numbers.get(&claim.agreement_id) {
            Some(n) => n.clone(),
            None => {
                let n = store::get(&mut conn, &claim.agreement_id)?.number;
                numbers.insert(claim.agreement_id.clone(), n.clone());
                n
            }
        };
        out.push(InboxClaim {
            claimant: names.get(&claim.claimant_org).cloned().unwrap_or_default(),
            agreement_number: number,
            claim,
        });
    }
    Ok(Inbox {
        items: out,
        total,
        to_decide,
        to_pay,
    })
}
