//! The admin status page (`GET /admin/status`, and `/admin/status.json`
//! for tools): for users the host config grants the admin role
//! (`admins`). What it shows is gathered by [`crate::admin::report`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

use super::AppState;
use super::assets::Assets;
use super::session::SignedIn;
use crate::admin::{Report, report};

fn when(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn limits(l: &crate::layout::Limits) -> String {
    let timeout = l
        .timeout
        .map_or("host default".into(), |t| format!("{} ms", t.as_millis()));
    let memory = l
        .memory_mib
        .map_or("host default".into(), |m| format!("{m} MiB"));
    format!("deadline {timeout}, memory {memory}")
}

/// Refuses users without the admin role, saying how to get it.
fn refuse() -> Response {
    (
        StatusCode::FORBIDDEN,
        "The status page is for administrators. An administrator can add your e-mail address to `admins` in the host config.",
    )
        .into_response()
}

/// Runs `f` on the report when the signed-in user is an admin.
async fn for_admins(
    state: &AppState,
    signed_in: &SignedIn,
    f: impl FnOnce(Report) -> Response,
) -> Response {
    let admin = signed_in
        .session
        .user()
        .is_some_and(|u| state.host.config().is_admin(&u.email));
    if !admin {
        return refuse();
    }
    let host = state.host.clone();
    match tokio::task::spawn_blocking(move || report(&host)).await {
        Ok(r) => f(r),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot gather the status: {e}"),
        )
            .into_response(),
    }
}

/// `GET /admin/status`.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    let assets = state.assets.clone();
    for_admins(&state, &signed_in, |r| {
        Html(page(&assets, &r).into_string()).into_response()
    })
    .await
}

/// `GET /admin/status.json`.
pub async fn json(State(state): State<AppState>, signed_in: SignedIn) -> Response {
    for_admins(&state, &signed_in, |r| Json(r).into_response()).await
}

fn page(assets: &Assets, r: &Report) -> Markup {
    let content = html! {
        h1 { "Status" }
        p.note { "deskhost " (r.version) ", plugin API deskhost:plugin " (r.api_version) ". Also as " a href="/admin/status.json" { "JSON" } "." }
        section.profile-section aria-labelledby="s-problems" {
            h2 id="s-problems" { "Problems" }
            @if r.problems.is_empty() {
                p { "None." }
            } @else {
                ul { @for p in &r.problems { li { (p) } } }
            }
        }
        section.profile-section aria-labelledby="s-reload" {
            h2 id="s-reload" { "Last reload" }
            @if r.reload.attempts == 0 {
                p { "No reload since the host started." }
            } @else {
                p {
                    (when(r.reload.at_ms)) ": "
                    @if r.reload.applied { span.badge.tone-success { "applied" } } @else { span.badge.tone-danger { "rejected: the last good version keeps serving" } }
                    " (reloads since the host started: " (r.reload.attempts) ")"
                }
                @for p in &r.reload.problems { pre.diagnostics { (p) } }
            }
        }
        section.profile-section aria-labelledby="s-layouts" {
            h2 id="s-layouts" { "Layouts" }
            div.table-wrap { table {
                thead { tr { th { "Layout" } th { "For" } th { "sha256" } th { "File" } th { "Limits" } th { "Grants" } th { "Tiles" } } }
                tbody { @for l in &r.layouts { tr {
                    td { (l.name) br; span.note { (l.title) } }
                    td { @if l.teams.is_empty() { "everyone (global)" } @else { "teams " (l.teams.join(", ")) @if l.overlay { " (overlay)" } } }
                    td { code title=(l.hash) { (short(&l.hash)) } }
                    td { (l.file) }
                    td { (limits(&l.limits)) }
                    td { @for (plugin, grants) in &l.grants { (plugin) ": " (grants.join(", ")) br; } }
                    td { @for (role, n) in &l.tiles { (role) ": " (n) br; } }
                } } }
            } }
        }
        section.profile-section aria-labelledby="s-plugins" {
            h2 id="s-plugins" { "Plugins" }
            p.note { "Every call: deadline " (r.limits.0) " ms, memory " (r.limits.1) " MiB, " (r.limits.2) " instances at once (host config; layouts may lower them)." }
            div.table-wrap { table {
                thead { tr { th { "Plugin" } th { "Kind" } th { "API" } th { "sha256" } th { "Asks for" } th { "Granted by the host" } th { "From" } } }
                tbody { @for p in &r.plugins { tr {
                    td { (p.id) " " (p.version) }
                    td { (p.kind) }
                    td { (p.api) }
                    td { code title=(p.hash) { (short(&p.hash)) } }
                    td { (p.capabilities.join(", ")) }
                    td { (p.host_grants.join(", ")) }
                    td { (p.source) }
                } } }
            } }
        }
        section.profile-section aria-labelledby="s-widgets" {
            h2 id="s-widgets" { "Widget failures since start" }
            @if r.widgets.is_empty() {
                p { "None." }
            } @else {
                div.table-wrap { table {
                    thead { tr { th { "Widget" } th { "Plugin" } th.num { "Errors" } th.num { "Timeouts" } th.num { "Crashes" } th.num { "Quarantines" } } }
                    tbody { @for (w, p, c) in &r.widgets { tr {
                        td { (w) } td { (p) }
                        td.num { (c.errors) } td.num { (c.timeouts) } td.num { (c.crashes) } td.num { (c.quarantines) }
                    } } }
                } }
            }
        }
        section.profile-section aria-labelledby="s-incidents" {
            h2 id="s-incidents" { "Recent tracking IDs" }
            @if r.incidents.is_empty() {
                p { "None." }
            } @else {
                div.table-wrap { table {
                    thead { tr { th { "When" } th { "Tracking ID" } th { "Where" } th { "Cause" } } }
                    tbody { @for i in &r.incidents { tr {
                        td { (when(i.at_ms)) } td { code { (i.tracking_id) } } td { (i.source) } td { (i.cause) }
                    } } }
                } }
            }
        }
    };
    super::html::side_page(
        assets,
        "Status",
        None,
        None,
        "profile-page status-page",
        content,
    )
}
