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
    Claim, ClaimAction, ClaimFilter, ClaimInput, ClaimStep, CoveredAgreement, CoveredFilter,
    Dashboard, Policy, Product, ProductInput, Risk,
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
