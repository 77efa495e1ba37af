//! `GET /audit/verify`: admins and auditors walk the chain.

use actix_web::{get, web, HttpResponse};

use crate::audit::model::Verification;
use crate::auth::policy::{require, Act};
use crate::auth::session::Actor;
use crate::error::AppResult;
use crate::http::blocking;
use crate::AppState;

/// Verify the whole audit chain and name the first broken link.
#[utoipa::path(tag = "audit", responses((status = 200, body = Verification), (status = 404, body = crate::error::Problem)), security(("bearer" = [])))]
#[get("/audit/verify")]
pub async fn verify(state: web::Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    require(&actor, Act::VerifyAudit)?;
    let v = blocking(move || crate::app::audit::verify(&state.db)).await?;
    if !v.ok {
        tracing::error!(first_broken = ?v.first_broken, "audit chain verification failed");
    }
    Ok(HttpResponse::Ok().json(v))
}
