//! The demand hall's actions: an SME posts, edits and closes a need; institutes see the open
//! needs their technologies match, ranked, with the reasons; an institute proposes one of its
//! listed technologies (the SME is mailed); the SME requests a trial from a proposal in one
//! step, which closes the need in the same transaction (and `agreements` opens it again should
//! that request end before the trial begins).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use diesel::OptionalExtension;

use crate::audit::Who;
use crate::auth::session::Actor;
use crate::db::DbConn;
use crate::demands::model::{reasons, Offer, Reasons};
use crate::demands::{
    self, Demand, DemandInput, DemandRow, Filter, Proposal, ProposalInput, Viewer,
};
use crate::error::AppError;
use crate::rules::roles::Role;
use crate::search::{self, Kind};
use crate::settlement::money::Currency;
use crate::settlement::terms::Price;
use crate::technologies::{self, Search, Technology, TechnologyRow, Visible};
use crate::AppState;

fn viewer(actor: &Actor) -> Viewer<'_> {
    Viewer {
        role: actor.role,
        organisation_id: &actor.organisation_id,
    }
}

/// Which of `ids` are institutes (the organisations are `accounts`').
fn institutes_among(conn: &mut DbConn, ids: &[String]) -> Result<Vec<String>, AppError> {
    Ok(crate::accounts::organisations_by_id(conn, ids)?
        .into_iter()
        .filter(|o| o.kind == "institute")
        .map(|o| o.id)
        .collect())
}

/// Checks `input`'s invitees inside the transaction, then hands the part a plain answer.
fn known_institutes(conn: &mut DbConn, input: &DemandInput) -> Result<Vec<String>, AppError> {
    institutes_among(conn, &input.invited_institute_ids)
}

/// An SME posts a demand.
pub fn create(state: &AppState, actor: &Actor, input: &DemandInput) -> Result<Demand, AppError> {
    if actor.role != Role::Sme {
        return Err(AppError::Forbidden("only enterprises post demands".into()));
    }
    let now = state.clock.now();
    let today = state.clock.today(state.tz);
    state.db.write(|conn| {
        let known = known_institutes(conn, input)?;
        demands::create(
            conn,
            now,
            today,
            Who::from(actor),
            &actor.organisation_id,
            input,
            &|_| known.clone(),
        )
    })
}

/// The demand `id` the actor may see and, being its SME, change (403 for others who see it).
fn own(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<DemandRow, AppError> {
    let row = demands::visible(conn, viewer(actor), id)?;
    if actor.role != Role::Sme || row.sme_id != actor.organisation_id {
        return Err(AppError::Forbidden(
            "only the enterprise that posted a demand may change it".into(),
        ));
    }
    Ok(row)
}

/// Its SME replaces an open demand, if still at `expected`.
pub fn update(
    state: &AppState,
    actor: &Actor,
    id: &str,
    expected: i64,
    input: &DemandInput,
) -> Result<Demand, AppError> {
    let now = state.clock.now();
    let today = state.clock.today(state.tz);
    state.db.write(|conn| {
        let row = own(conn, actor, id)?;
        let known = known_institutes(conn, input)?;
        demands::update(
            conn,
            now,
            today,
            Who::from(actor),
            &row,
            expected,
            input,
            &|_| known.clone(),
        )
    })
}

/// Its SME closes an open demand, if still at `expected`.
pub fn close(state: &AppState, actor: &Actor, id: &str, expected: i64) -> Result<Demand, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        let row = own(conn, actor, id)?;
        demands::close(conn, now, Who::from(actor), &row, Some(expected), None)
    })
}

/// A page of the demands the actor may see, and how many there are; a filter no demand could
/// answer (see [`Filter::faults`]) is 422 naming its fields.
pub fn list(
    state: &AppState,
    actor: &Actor,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Demand>, i64), AppError> {
    let faults = filter.faults();
    if !faults.is_empty() {
        return Err(AppError::Validation(faults));
    }
    let mut conn = state.db.reader()?;
    let (rows, total) = demands::list(&mut conn, viewer(actor), filter, limit, offset)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let invited = demands::invitees(&mut conn, &row.id)?;
        out.push(Demand::of(row, invited));
    }
    Ok((out, total))
}

/// The provinces of the demands the actor may see, to filter a list by.
pub fn provinces(state: &AppState, actor: &Actor) -> Result<Vec<String>, AppError> {
    let mut conn = state.db.reader()?;
    Ok(demands::provinces(&mut conn, viewer(actor))?)
}

/// One demand the actor may see.
pub fn get(state: &AppState, actor: &Actor, id: &str) -> Result<Demand, AppError> {
    let mut conn = state.db.reader()?;
    let row = demands::visible(&mut conn, viewer(actor), id)?;
    let invited = demands::invitees(&mut conn, &row.id)?;
    Ok(Demand::of(row, invited))
}

/// The proposals of a demand the actor may see: its SME and the supervisors see all, an
/// institute its own.
pub fn proposals(state: &AppState, actor: &Actor, id: &str) -> Result<Vec<Proposal>, AppError> {
    let mut conn = state.db.reader()?;
    proposals_in(&mut conn, actor, id)
}

fn proposals_in(conn: &mut DbConn, actor: &Actor, id: &str) -> Result<Vec<Proposal>, AppError> {
    let row = demands::visible(conn, viewer(actor), id)?;
    let only = (actor.role == Role::Institute).then_some(actor.organisation_id.as_str());
    Ok(demands::proposals(conn, &row.id, only)?)
}

/// A proposal with the technology and institute it names, as the demand's page shows it.
#[derive(Debug, Clone)]
pub struct ProposalShown {
    pub proposal: Proposal,
    pub technology: Option<Technology>,
    pub institute: String,
}

/// A demand as its page shows it: the demand, its proposals (as [`proposals`] scopes them),
/// and the names of the institutes it invites.
#[derive(Debug, Clone)]
pub struct DemandPage {
    pub demand: Demand,
    pub proposals: Vec<ProposalShown>,
    pub invited: Vec<String>,
    /// Whether the actor is the SME that posted it.
    pub own: bool,
}

/// The page of demand `id`.
pub fn page(state: &AppState, actor: &Actor, id: &str) -> Result<DemandPage, AppError> {
    let mut conn = state.db.reader()?;
    let proposals = proposals_in(&mut conn, actor, id)?;
    let row = demands::get(&mut conn, id)?;
    let invited_ids = demands::invitees(&mut conn, id)?;
    let mut org_ids: Vec<String> = proposals.iter().map(|p| p.institute_id.clone()).collect();
    org_ids.extend(invited_ids.iter().cloned());
    let names: HashMap<String, String> = crate::accounts::organisations_by_id(&mut conn, &org_ids)?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut shown = Vec::with_capacity(proposals.len());
    for p in proposals {
        let technology = technologies::get(&mut conn, &p.technology_id)
            .ok()
            .map(Technology::from);
        shown.push(ProposalShown {
            institute: names.get(&p.institute_id).cloned().unwrap_or_default(),
            technology,
            proposal: p,
        });
    }
    let own = actor.role == Role::Sme && row.sme_id == actor.organisation_id;
    Ok(DemandPage {
        invited: invited_ids
            .iter()
            .map(|i| names.get(i).cloned().unwrap_or_else(|| i.clone()))
            .collect(),
        demand: Demand::of(row, invited_ids),
        proposals: shown,
        own,
    })
}

/// An institute proposes one of its listed technologies to an open demand it may see; the
/// SME's users are mailed, each in their language.
pub fn propose(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &ProposalInput,
) -> Result<Proposal, AppError> {
    if actor.role != Role::Institute {
        return Err(AppError::Forbidden(
            "only institutes propose technologies".into(),
        ));
    }
    let now = state.clock.now();
    let link = format!("{}/demands/{id}", state.cfg.app.public_url);
    state.db.write(|conn| {
        let demand = demands::visible(conn, viewer(actor), id)?;
        let tech = technologies::get(conn, input.technology_id.trim())
            .optional()?
            .filter(|t| t.institute_id == actor.organisation_id && t.status == "listed")
            .ok_or_else(|| {
                AppError::field("technology_id", "not one of your listed technologies")
            })?;
        let proposal = demands::propose(
            conn,
            now,
            Who::from(actor),
            &demand,
            &actor.organisation_id,
            &ProposalInput {
                technology_id: tech.id.clone(),
                message: input.message.clone(),
            },
        )?;
        let institute =
            crate::accounts::organisations_by_id(conn, &[actor.organisation_id.clone()])?
                .into_iter()
                .next()
                .map(|o| o.name)
                .unwrap_or_default();
        crate::mail::enqueue_organisation(
            conn,
            now,
            "demand_proposal",
            &demand.sme_id,
            &|locale| {
                serde_json::json!({
                    "demand": demand.title,
                    "institute": institute,
                    "technology": if locale == "vi" { &tech.title_vi } else { &tech.title_en },
                    "message": proposal.message,
                    "link": link,
                })
            },
        )?;
        Ok(proposal)
    })
}

/// What the SME adds to a proposal to request its trial (the rest comes from the proposal).
#[derive(Debug, Clone)]
pub struct FromProposal {
    pub place_of_use: String,
    pub message: String,
    pub requested_start: NaiveDate,
}

/// Its SME requests a trial of a proposal's technology, in one step: the trial request (the
/// same as from the catalogue), the proposal marked with it, and the demand closed, all in one
/// transaction. A proposal whose earlier request ended may be requested from again. Returns
/// the new agreement.
pub fn request_trial(
    state: &AppState,
    actor: &Actor,
    id: &str,
    proposal_id: &str,
    req: &FromProposal,
) -> Result<crate::agreements::model::Agreement, AppError> {
    let now = state.clock.now();
    state.db.write(|conn| {
        let demand = own(conn, actor, id)?;
        let proposal =
            demands::proposal(conn, &demand.id, proposal_id)?.ok_or(AppError::NotFound)?;
        if demand.status != "open" {
            return Err(AppError::InvalidTransition {
                detail: "this demand is closed".into(),
                current_state: demand.status.clone(),
                current_version: demand.version,
            });
        }
        let row = super::agreements::request(
            conn,
            now,
            state.tz,
            &state.cfg.app.agreement_prefix,
            actor,
            crate::agreements::model::NewRequest {
                technology_id: &proposal.technology_id,
                place_of_use: req.place_of_use.clone(),
                message: req.message.clone(),
                requested_start: req.requested_start,
            },
        )?;
        demands::mark_requested(conn, now, Who::from(actor), &proposal, &row.id)?;
        demands::close(conn, now, Who::from(actor), &demand, None, Some(&row.id))?;
        crate::agreements::model::Agreement::from_row(row, Some(actor))
    })
}

/// A technology of the institute that matches a demand, and why.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TechnologyMatch {
    pub technology_id: String,
    pub title: crate::technologies::Localized,
    /// The price compared with the budget: the current terms' fixed price (lump sum,
    /// installments' total, or entry fee), else the valuation.
    pub price: crate::settlement::money::MoneyText,
    pub reasons: Reasons,
    /// The reasons' weights added: what the list is ordered by.
    pub weight: u32,
    /// Whether the institute has proposed it to this demand already.
    pub proposed: bool,
}

/// An open demand an institute may answer, with its technologies that match, best first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DemandMatch {
    pub demand: Demand,
    pub matches: Vec<TechnologyMatch>,
}

/// A technology's price to compare with budgets: the fixed part of its current terms, or its
/// valuation when the terms have none (a royalty alone) or are not set.
fn price_of(
    row: &TechnologyRow,
    terms: Option<&crate::technologies::TermsVersion>,
) -> (i64, String) {
    if let Some(t) = terms {
        let fixed = match &t.terms.price {
            Price::LumpSum { amount, .. } => Some(amount),
            Price::Installments { total, .. } => Some(total),
            Price::EntryFeePlusRoyalty { entry_fee, .. } => Some(entry_fee),
            Price::Royalty { .. } => None,
        };
        let minor = fixed
            .and_then(|a| Currency::parse(&t.terms.currency).and_then(|c| c.parse_amount(a).ok()));
        if let Some(minor) = minor {
            return (minor, t.terms.currency.clone());
        }
    }
    (row.valuation_minor, row.valuation_currency.clone())
}

/// The open demands the actor's institute may see that its listed technologies match,
/// ordered by the best match's weight (then the most recent), each with every matching
/// technology and the reasons, in figures and words.
pub fn matches(state: &AppState, actor: &Actor) -> Result<Vec<DemandMatch>, AppError> {
    if actor.role != Role::Institute {
        return Err(AppError::Forbidden(
            "demands are matched to an institute's technologies".into(),
        ));
    }
    let mut conn = state.db.reader()?;
    let search = Search {
        institute_id: Some(actor.organisation_id.clone()),
        status: Some("listed".into()),
        ..Search::default()
    };
    let (techs, _) = technologies::search(
        &mut conn,
        Visible::ListedOrOwn(&actor.organisation_id),
        &search,
        super::technologies::OWN_LIMIT,
        0,
    )?;
    if techs.is_empty() {
        return Ok(Vec::new());
    }
    let tech_ids: Vec<String> = techs.iter().map(|t| t.id.clone()).collect();
    let terms: HashMap<String, crate::technologies::TermsVersion> =
        technologies::current_terms_of(&mut conn, &tech_ids)?
            .into_iter()
            .map(|t| (t.technology_id.clone(), t))
            .collect();
    let province =
        crate::accounts::organisations_by_id(&mut conn, &[actor.organisation_id.clone()])?
            .into_iter()
            .next()
            .map(|o| o.province)
            .unwrap_or_default();
    let open = demands::open_for(&mut conn, &actor.organisation_id)?;
    let demand_ids: Vec<String> = open.iter().map(|d| d.id.clone()).collect();
    let demand_words = search::words_of(&mut conn, Kind::Demand, &demand_ids)?;
    let tech_words = search::words_of(&mut conn, Kind::Technology, &tech_ids)?;
    let proposed: BTreeSet<(String, String)> =
        demands::proposed_by(&mut conn, &actor.organisation_id)?
            .into_iter()
            .collect();
    let none = BTreeSet::new();
    let mut out: Vec<(u32, DemandMatch)> = Vec::new();
    for d in open {
        let dw = demand_words.get(&d.id).unwrap_or(&none);
        let mut found: Vec<TechnologyMatch> = Vec::new();
        for t in &techs {
            let (price_minor, currency) = price_of(t, terms.get(&t.id));
            let r = reasons(
                &d,
                dw,
                &Offer {
                    field: &t.field,
                    province: &province,
                    words: tech_words.get(&t.id).unwrap_or(&none),
                    price_minor,
                    currency: &currency,
                },
            );
            if !r.is_match() {
                continue;
            }
            let amount = Currency::parse(&currency)
                .map(|c| c.format_amount(price_minor))
                .unwrap_or_else(|| price_minor.to_string());
            found.push(TechnologyMatch {
                technology_id: t.id.clone(),
                title: crate::technologies::Localized {
                    vi: t.title_vi.clone(),
                    en: t.title_en.clone(),
                },
                price: crate::settlement::money::MoneyText { amount, currency },
                weight: r.weight(),
                proposed: proposed.contains(&(d.id.clone(), t.id.clone())),
                reasons: r,
            });
        }
        if found.is_empty() {
            continue;
        }
        found.sort_by(|a, b| {
            b.weight
                .cmp(&a.weight)
                .then(a.technology_id.cmp(&b.technology_id))
        });
        let best = found[0].weight;
        let invited = demands::invitees(&mut conn, &d.id)?;
        out.push((
            best,
            DemandMatch {
                demand: Demand::of(d, invited),
                matches: found,
            },
        ));
    }
    // Stable: equal weights keep the most recent first.
    out.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(out.into_iter().map(|(_, m)| m).collect())
}
