//! Profile settings: the user's collaboration tools (Microsoft Teams and
//! the like) with their status, last success and failure reason, and the
//! Retry flow (a redirect to the provider and back to the callback).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::AppState;
use super::assets::Assets;
use super::session::{self, SignedIn};
use crate::auth::{Lookup, Session};
use crate::collaboration::{State as CollabState, Summary};
use crate::desktop::Viewer;

/// A form with only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a profile step panicked")
}

/// The callback address the provider sends the browser back to.
fn redirect_uri(state: &AppState, headers: &HeaderMap, plugin: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = if state.auth.config().secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}/collaboration/{plugin}/callback")
}

fn when(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn page(
    assets: &Assets,
    viewer: &Viewer,
    csrf: &str,
    tools: &[Summary],
    notice: Option<&str>,
) -> Markup {
    let content = html! {
        h1 { "Profile settings" }
        @if let Some(n) = notice {
            div.notice role="alert" { p { (n) } }
        }
        @for t in tools {
            @let title_id = format!("collab-{}", t.plugin);
            section.profile-section aria-labelledby=(title_id) {
                h2 id=(title_id) { "Collaboration tools - " (t.name) }
                dl.key-values {
                    dt { "User authentication" }
                    dd {
                        span class=(match t.state { CollabState::Success => "badge tone-success", CollabState::Failed(_) | CollabState::Expired => "badge tone-danger", CollabState::NotConnected => "badge tone-neutral" }) role="status" {
                            (t.state.label())
                        }
                    }
                    @if let Some((name, email)) = &t.account {
                        dt { "Signed in as" }
                        dd { (name) @if !email.is_empty() { " (" (email) ")" } }
                    }
                    dt { "Last success" }
                    dd { @match t.last_success_ms { Some(ms) => (when(ms)), None => "Never" } }
                    @if let CollabState::Failed(reason) = &t.state {
                        dt { "Reason" }
                        dd.reason { (reason) }
                    }
                }
                div.buttons {
                    form method="post" action=(format!("/profile/collaboration/{}/retry", t.plugin)) {
                        input type="hidden" name="csrf" value=(csrf);
                        button.primary type="submit" aria-describedby=(title_id) { "Retry" }
                    }
                    @if t.state == CollabState::Success {
                        form method="post" action=(format!("/profile/collaboration/{}/disconnect", t.plugin)) {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" aria-describedby=(title_id) { "Disconnect" }
                        }
                    }
                }
            }
        }
        @if tools.is_empty() {
            p { "No collaboration tools are set up for this desktop." }
        }
    };
    super::html::side_page(
        assets,
        "Profile settings",
        Some(csrf),
        Some(&viewer.display_name),
        "profile-page",
        content,
    )
}

/// Query of `GET /profile`.
#[derive(Debug, Default, Deserialize)]
pub struct ProfileQuery {
    /// Set when the desktop sent the user here because the layout
    /// requires a collaboration tool.
    #[serde(default)]
    required: Option<String>,
}

/// `GET /profile`.
pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(q): Query<ProfileQuery>,
) -> Response {
    let SignedIn {
        mut session,
        viewer,
    } = signed_in;
    let csrf = session.data.csrf.clone();
    let collab = state.host.collaboration().clone();
    let auth = state.auth.clone();
    let user = viewer.user_id.clone();
    // Only the tools the user's layout requires and they have not
    // connected are named.
    let required = q.required.is_some().then(|| {
        state
            .desktop_for(&viewer)
            .layout()
            .required_collaboration
            .clone()
    });
    let (tools, notice) = blocking(move || {
        let notice = auth.take_notice(&mut session);
        let tools = collab.summaries(&user);
        let notice = notice.or_else(|| {
            let missing = collab.missing(&user, &required?);
            (!missing.is_empty()).then(|| {
                let names: Vec<&str> = missing.iter().map(|t| t.name.as_str()).collect();
                format!(
                    "Your administrator requires {} before you use the desktop. Click Retry to connect.",
                    names.join(" and ")
                )
            })
        });
        (tools, notice)
    })
    .await;
    // Retry posts here and is redirected to the provider: the policy
    // lets forms lead to the hosts the collaboration plugins may reach.
    let origins: Vec<String> = state
        .host
        .config()
        .collaboration
        .iter()
        .flat_map(|c| c.allowed_hosts.clone())
        .collect();
    let csp = super::content_security_policy(&origins);
    (
        [(header::CONTENT_SECURITY_POLICY, csp)],
        Html(page(&state.assets, &viewer, &csrf, &tools, notice.as_deref()).into_string()),
    )
        .into_response()
}

fn note(state: &AppState, mut session: Session, text: String) {
    session.data.notice = Some(text);
    state.auth.keep(&session);
}

/// `POST /profile/collaboration/{plugin}/retry`: to the provider.
pub async fn retry(
    State(state): State<AppState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    let SignedIn { session, viewer } = signed_in;
    if let Some(refused) = session::csrf_or_refuse(&state, &session, &headers, form.csrf.as_deref())
    {
        return refused;
    }
    let uri = redirect_uri(&state, &headers, &plugin);
    let collab = state.host.collaboration().clone();
    let result = blocking(move || collab.start(&viewer.user_id, &plugin, &uri)).await;
    match result {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => {
            let s = state.clone();
            blocking(move || note(&s, session, e.to_string())).await;
            Redirect::to("/profile").into_response()
        }
    }
}

/// `POST /profile/collaboration/{plugin}/disconnect`.
pub async fn disconnect(
    State(state): State<AppState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    let SignedIn { session, viewer } = signed_in;
    if let Some(refused) = session::csrf_or_refuse(&state, &session, &headers, form.csrf.as_deref())
    {
        return refused;
    }
    let collab = state.host.collaboration().clone();
    if let Err(e) = blocking(move || collab.disconnect(&viewer.user_id, &plugin)).await {
        let s = state.clone();
        blocking(move || note(&s, session, e.to_string())).await;
    }
    Redirect::to("/profile").into_response()
}

/// Query of the callback: whatever the provider sent, plus our own bounce
/// marker.
pub type CallbackQuery = Vec<(String, String)>;

/// `GET /collaboration/{plugin}/callback`: back from the provider.
///
/// The session cookie is SameSite=Strict, so a browser coming straight
/// from the provider's site does not send it; the page then reloads itself
/// from this site (a same-site navigation, which does), once.
pub async fn callback(
    State(state): State<AppState>,
    Path(plugin): Path<String>,
    headers: HeaderMap,
    Query(mut params): Query<CallbackQuery>,
) -> Response {
    let found = session::lookup(&state, &headers).await;
    let bounced = params.iter().any(|(k, _)| k == "deskhost_bounce");
    params.retain(|(k, _)| k != "deskhost_bounce");
    let session = match found {
        Lookup::Found(s) if s.viewer().is_some() => *s,
        _ if !bounced => {
            return Html(bounce_page(&state.assets).into_string()).into_response();
        }
        Lookup::Expired => return Redirect::to("/sign-in?expired=1").into_response(),
        _ => return Redirect::to("/sign-in").into_response(),
    };
    let Some(viewer) = session.viewer() else {
        return Redirect::to("/sign-in").into_response();
    };
    let uri = redirect_uri(&state, &headers, &plugin);
    let collab = state.host.collaboration().clone();
    let s = state.clone();
    blocking(move || {
        if let Err(e) = collab.complete(&viewer.user_id, &plugin, &uri, params) {
            note(&s, session, e.to_string());
        }
    })
    .await;
    Redirect::to("/profile").into_response()
}

fn bounce_page(assets: &Assets) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (super::html::head(assets, "Connecting…", None))
            body data-bounce="deskhost_bounce" {
                main id="main" { p role="status" { "Connecting… If nothing happens, " a href="/profile" { "go back to Profile settings" } "." } }
            }
        }
    }
}
