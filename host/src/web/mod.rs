//! The HTTP server (axum): the sign-in flow, the desktop pages, tile
//! actions, health check and embedded static assets. Handlers stay thin:
//! they turn a request into a signed-in [`Viewer`] (from the session
//! cookie) and a call on the [`Desktop`] or [`Auth`], then render HTML.

pub mod admin;
pub mod assets;
pub mod html;
pub mod live;
pub mod metrics;
pub mod profile;
pub mod session;
pub mod signin;
pub mod signin_html;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use arc_swap::ArcSwap;

use crate::app::Host;
use crate::auth::Auth;
use crate::desktop::{Desktop, Desktops, Viewer};
use crate::runtime::types;
use assets::Assets;
use session::SignedIn;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The desktops being served (global and per team); a reload swaps them.
    pub desktops: Arc<ArcSwap<Desktops>>,
    /// The host, for its reload status.
    pub host: Arc<Host>,
    /// Sign-in and sessions.
    pub auth: Arc<Auth>,
    /// Embedded static files.
    pub assets: Arc<Assets>,
}

impl AppState {
    /// The desktop `viewer` gets now.
    pub fn desktop_for(&self, viewer: &Viewer) -> Arc<Desktop> {
        self.desktops.load().for_viewer(viewer).clone()
    }

    /// State serving `host`'s desktops.
    pub fn new(host: Arc<Host>) -> Self {
        metrics::handle();
        AppState {
            desktops: host.desktops(),
            auth: host.auth().clone(),
            host,
            assets: Arc::new(Assets::new()),
        }
    }
}

/// The router.
pub fn router(state: AppState) -> Router {
    let router = Router::new()
        .route("/", get(home))
        .route("/pages/{page}", get(page))
        .route("/widgets/{widget}/action", post(action))
        .route("/events", get(live::events))
        .route("/me/state", post(set_own_state))
        .route("/me/telephony-failed", post(signin::telephony_failed))
        .route("/session/continue", post(signin::continue_here))
        .route("/sign-in", get(signin::show))
        .route("/sign-in/email", post(signin::email))
        .route("/sign-in/back", post(signin::back))
        .route("/sign-in/password", post(signin::password))
        .route("/sign-in/forgot", post(signin::forgot))
        .route(
            "/sign-in/reset",
            get(signin::reset_form).post(signin::reset),
        )
        .route("/station", get(signin::station_form).post(signin::station))
        .route("/sign-out", post(signin::sign_out))
        .route("/profile", get(profile::show))
        .route(
            "/profile/collaboration/{plugin}/retry",
            post(profile::retry),
        )
        .route(
            "/profile/collaboration/{plugin}/disconnect",
            post(profile::disconnect),
        )
        .route("/collaboration/{plugin}/callback", get(profile::callback))
        .route("/admin/status", get(admin::show))
        .route("/admin/status.json", get(admin::json))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::render))
        .route("/static/{file}", get(static_file))
        .fallback(not_found)
        .route_layer(metrics::TrackLayer);
    // The default Content-Security-Policy, made once and kept for the life
    // of the process, so each response only copies a pointer.
    static DEFAULT_CSP: std::sync::LazyLock<HeaderValue> =
        std::sync::LazyLock::new(|| HeaderValue::from_static(content_security_policy(&[]).leak()));
    // One stack of plain tower layers (axum boxes each `layer` call's
    // service, and `from_fn` clones the route on every request): a span
    // per request, then the headers every response carries: the default
    // policy unless the handler set its own, no MIME sniffing, no
    // referrer to other sites, no framing.
    router
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                }))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    DEFAULT_CSP.clone(),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                )),
        )
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Binds `addr`, with a clear error when it is taken.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        anyhow::anyhow!("cannot listen on {addr}: {e} (use --listen to pick another address)")
    })
}

/// The Content-Security-Policy of every page: nothing inline, nothing
/// from elsewhere. Forms may also lead to `form_origins` (the providers a
/// Retry on Profile settings redirects to).
pub fn content_security_policy(form_origins: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for origin in form_origins {
        // Only well-formed origins: nothing that could end the directive.
        if origin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/.-*[]".contains(c))
        {
            form_action.push(' ');
            form_action.push_str(origin.trim_end_matches('/'));
        }
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action {form_action}"
    )
}

pub(crate) fn bad_request(state: &AppState, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(html::error_page(&state.assets, "Bad request", message).into_string()),
    )
        .into_response()
}

async fn home(state: State<AppState>, signed_in: SignedIn) -> Response {
    render_page(&state, signed_in, "home").await
}

async fn page(state: State<AppState>, Path(page): Path<String>, signed_in: SignedIn) -> Response {
    if page == "home" {
        return Redirect::to("/").into_response();
    }
    render_page(&state, signed_in, &page).await
}

async fn render_page(state: &AppState, signed_in: SignedIn, page_id: &str) -> Response {
    let SignedIn {
        mut session,
        viewer,
    } = signed_in;
    let csrf = session.data.csrf.clone();
    let admin = session
        .user()
        .is_some_and(|u| state.host.config().is_admin(&u.email));
    let desktop_telephony = matches!(
        &session.data.step,
        crate::auth::Step::Active { station, .. } if station.telephony == crate::auth::Telephony::Desktop
    );
    let notice = if session.data.notice.is_some() {
        let auth = state.auth.clone();
        tokio::task::spawn_blocking(move || auth.take_notice(&mut session))
            .await
            .unwrap_or(None)
    } else {
        None
    };
    let desktop = state.desktop_for(&viewer);
    let required = desktop.layout().required_collaboration.clone();
    if !required.is_empty() {
        let collab = state.host.collaboration().clone();
        let user = viewer.user_id.clone();
        let missing = tokio::task::spawn_blocking(move || collab.missing(&user, &required))
            .await
            .unwrap_or_default();
        if !missing.is_empty() {
            return Redirect::to("/profile?required=1").into_response();
        }
    }
    let own_state = desktop.own_state(&viewer);
    let frame = html::Frame {
        // The reasons are only offered by the agent state selector.
        idle_reasons: own_state
            .as_ref()
            .map(|_| desktop.idle_reasons())
            .unwrap_or_default(),
        own_state,
        csrf,
        notice,
        desktop_telephony,
        admin,
    };
    match desktop.page(&viewer, page_id).await {
        Some(p) => Html(
            html::page(
                desktop.layout(),
                &p,
                &viewer,
                &state.assets,
                &frame,
                crate::now_ms(),
            )
            .into_string(),
        )
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(
                html::error_page(
                    &state.assets,
                    "Page not found",
                    &format!("There is no page `{page_id}` for your role."),
                )
                .into_string(),
            ),
        )
            .into_response(),
    }
}

fn refused(state: &AppState, e: &crate::auth::AuthError) -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(html::error_page(&state.assets, "Request refused", &e.to_string()).into_string()),
    )
        .into_response()
}

/// The window a script request comes from, when it says.
fn window_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-deskhost-window")
        .and_then(|v| v.to_str().ok())
}

async fn action(
    state: State<AppState>,
    Path(widget): Path<String>,
    headers: HeaderMap,
    signed_in: SignedIn,
    form: axum::Form<Vec<(String, String)>>,
) -> Response {
    let SignedIn { session, viewer } = signed_in;
    let mut id = None;
    let mut csrf = None;
    let mut values = Vec::new();
    for (k, v) in form.0 {
        if k == view::ACTION_FIELD {
            id = Some(v);
        } else if k == session::CSRF_FIELD {
            csrf = Some(v);
        } else {
            values.push((k, v));
        }
    }
    if let Err(e) = session::check_csrf(&state, &session, &headers, csrf.as_deref()) {
        return refused(&state, &e);
    }
    if let Some(window) = window_of(&headers)
        && !state.auth.instances().is_live(&viewer.user_id, window)
    {
        return (StatusCode::CONFLICT, MOVED).into_response();
    }
    let Some(id) = id else {
        return bad_request(&state, "The form was sent without an action.");
    };
    let desktop = state.desktop_for(&viewer);
    let Some(tile) = desktop
        .tile(&viewer, &widget, Some(types::Action { id, values }))
        .await
    else {
        return (StatusCode::NOT_FOUND, "no such widget for this viewer").into_response();
    };
    if headers.contains_key("x-deskhost-fragment") {
        Html(html::tile(&tile, &session.data.csrf, crate::now_ms()).into_string()).into_response()
    } else {
        // Without script: back to the page the widget is on.
        let page = desktop
            .layout()
            .roles
            .get(&viewer.role)
            .and_then(|d| d.widget(&widget))
            .map(|(p, _)| p.id.clone())
            .unwrap_or_else(|| "home".into());
        Redirect::to(&page_url(&page)).into_response()
    }
}

/// What a window that is no longer the live one is told.
pub const MOVED: &str =
    "Your session moved to another window. Click Continue to use the desktop in this window.";

fn page_url(page: &str) -> String {
    if page.is_empty() || page == "home" {
        "/".into()
    } else {
        format!("/pages/{page}")
    }
}

/// Form of the header's agent state selector.
#[derive(Debug, Deserialize)]
struct OwnStateForm {
    /// `available` or `idle:<reason>`.
    state: String,
    /// Page to return to.
    #[serde(default)]
    page: String,
    #[serde(default)]
    csrf: Option<String>,
}

async fn set_own_state(
    state: State<AppState>,
    headers: HeaderMap,
    signed_in: SignedIn,
    form: axum::Form<OwnStateForm>,
) -> Response {
    use crate::contact_center::AgentState;
    let SignedIn { session, viewer } = signed_in;
    if let Err(e) = session::check_csrf(&state, &session, &headers, form.csrf.as_deref()) {
        return refused(&state, &e);
    }
    let (new_state, reason) = match form.state.split_once(':') {
        None if form.state == "available" => (AgentState::Available, None),
        Some(("idle", reason)) => (AgentState::Idle, Some(reason)),
        _ => return bad_request(&state, &format!("unknown agent state `{}`", form.state)),
    };
    if let Err(e) = state
        .desktop_for(&viewer)
        .set_own_state(&viewer, new_state, reason)
    {
        return (
            StatusCode::CONFLICT,
            Html(
                html::error_page(&state.assets, "State not changed", &e.to_string()).into_string(),
            ),
        )
            .into_response();
    }
    Redirect::to(&page_url(&form.page)).into_response()
}

async fn healthz(state: State<AppState>) -> Response {
    let desktops = state.desktops.load();
    let global = desktops.global();
    let plugins: Vec<serde_json::Value> = global
        .plugins()
        .iter()
        .map(|p| serde_json::json!({"id": p.info.id, "version": p.info.version.to_string()}))
        .collect();
    let layouts: Vec<serde_json::Value> = desktops
        .all()
        .map(|d| serde_json::json!({"path": d.layout().path.display().to_string(), "teams": d.layout().teams}))
        .collect();
    axum::Json(serde_json::json!({
        "status": "ok",
        "api": global.api_version().to_string(),
        "layouts": layouts,
        "plugins": plugins,
        "reload": state.host.reload_status(),
    }))
    .into_response()
}

async fn static_file(state: State<AppState>, Path(file): Path<String>) -> Response {
    match state.assets.get(&file) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            a.body.clone(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

async fn not_found(state: State<AppState>) -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            html::error_page(
                &state.assets,
                "Page not found",
                "There is nothing at this address.",
            )
            .into_string(),
        ),
    )
        .into_response()
}
