//! The sign-in flow over HTTP: e-mail, password (or Forgot password and the
//! reset code), station credentials, sign-out, and the one-window Continue.
//! Handlers stay thin: they load the session, check its CSRF token, call
//! [`Auth`](crate::auth::Auth) off the executor and render
//! [`super::signin_html`].

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::session::{self, SignedIn, check_csrf, client_addr};
use super::{AppState, signin_html as pages};
use crate::auth::{AuthError, Lookup, NextStep, Session, StationInput, Step};

/// Query of `GET /sign-in`.
#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    /// Set when a session expired.
    #[serde(default)]
    expired: Option<String>,
    /// Set after signing out.
    #[serde(default)]
    signed_out: Option<String>,
}

/// A form with only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// The e-mail step's form.
#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    email: String,
}

/// The password step's form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    password: String,
}

/// The reset form.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// The station credentials form.
#[derive(Debug, Deserialize)]
pub struct StationForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(flatten)]
    input: StationInput,
}

/// Runs a blocking sign-in step off the executor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("a sign-in step panicked")
}

fn html(status: StatusCode, markup: maud::Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

fn status_of(e: &AuthError) -> StatusCode {
    match e {
        AuthError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        AuthError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        AuthError::Csrf => StatusCode::FORBIDDEN,
        AuthError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AuthError::WrongStep => StatusCode::CONFLICT,
        AuthError::SignOutRefused(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The session of a sign-in form post, with its CSRF token checked; a
/// missing session means it expired on the way.
async fn form_session(
    state: &AppState,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<(CookieJar, Session), Response> {
    let jar = CookieJar::from_headers(headers);
    let found = session::lookup(state, headers).await;
    let Lookup::Found(session) = found else {
        return Err(Redirect::to("/sign-in?expired=1").into_response());
    };
    if let Err(e) = check_csrf(state, &session, headers, csrf) {
        return Err(html(
            status_of(&e),
            pages::step(&state.assets, &session, Some(&e), None, ""),
        ));
    }
    Ok((jar, *session))
}

/// `GET /sign-in`: the step the session is at (a new session starts at the
/// e-mail step).
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SignInQuery>,
) -> Response {
    let jar = CookieJar::from_headers(&headers);
    let found = session::lookup(&state, &headers).await;
    let mut session = match found {
        Lookup::Found(s) => s,
        Lookup::None | Lookup::Expired => {
            let auth = state.auth.clone();
            match blocking(move || auth.start()).await {
                Ok((token, session)) => {
                    let jar = session::with_session(jar, state.auth.config(), token);
                    let notice = if q.expired.is_some() {
                        Some("Your session has expired. Sign in again.")
                    } else if q.signed_out.is_some() {
                        Some("You have signed out.")
                    } else {
                        None
                    };
                    return (
                        jar,
                        Html(pages::step(&state.assets, &session, None, notice, "").into_string()),
                    )
                        .into_response();
                }
                Err(e) => return html(status_of(&e), pages::unavailable(&state.assets, &e)),
            }
        }
    };
    match &session.data.step {
        Step::Station { .. } => return Redirect::to("/station").into_response(),
        Step::Active { .. } => return Redirect::to("/").into_response(),
        _ => {}
    }
    let auth = state.auth.clone();
    let (session, notice) = blocking(move || {
        let notice = auth.take_notice(&mut session);
        (session, notice)
    })
    .await;
    html(
        StatusCode::OK,
        pages::step(&state.assets, &session, None, notice.as_deref(), ""),
    )
}

/// `POST /sign-in/email`.
pub async fn email(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EmailForm>,
) -> Response {
    let (_, mut session) = match form_session(&state, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let auth = state.auth.clone();
    let email = form.email.clone();
    let (session, result) = blocking(move || {
        let r = auth.submit_email(&mut session, &email);
        (session, r)
    })
    .await;
    match result {
        Ok(NextStep::Password) => Redirect::to("/sign-in").into_response(),
        Ok(NextStep::Redirect(url)) => match super::view::safe_url(&url) {
            Some(url) => Redirect::to(&url).into_response(),
            None => html(
                StatusCode::BAD_GATEWAY,
                pages::step(
                    &state.assets,
                    &session,
                    Some(&AuthError::Refused(
                        "Your organisation's sign-in page has an invalid address. Contact your administrator."
                            .into(),
                    )),
                    None,
                    &form.email,
                ),
            ),
        },
        Err(e) => html(
            status_of(&e),
            pages::step(&state.assets, &session, Some(&e), None, &form.email),
        ),
    }
}

/// `POST /sign-in/back`: from the password step back to the e-mail step
/// (the Alt+Left / Command+Left shortcut and the Change link).
pub async fn back(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (_, mut session) = match form_session(&state, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let auth = state.auth.clone();
    match blocking(move || auth.back_to_email(&mut session)).await {
        Ok(()) => Redirect::to("/sign-in").into_response(),
        Err(e) => html(status_of(&e), pages::unavailable(&state.assets, &e)),
    }
}

/// `POST /sign-in/password`.
pub async fn password(
    State(state): State<AppState>,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (jar, mut session) = match form_session(&state, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let client = client_addr(&request_ext, &headers, state.auth.config());
    let auth = state.auth.clone();
    let (session, result) = blocking(move || {
        let r = auth.submit_password(&mut session, &form.password, &client);
        (session, r)
    })
    .await;
    match result {
        Ok(token) => (
            session::with_session(jar, state.auth.config(), token),
            Redirect::to("/station"),
        )
            .into_response(),
        Err(e) => html(
            status_of(&e),
            pages::step(&state.assets, &session, Some(&e), None, ""),
        ),
    }
}

/// `POST /sign-in/forgot`: sends a code to the address of the password
/// step, then shows the reset form.
pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EmailForm>,
) -> Response {
    let (_, mut session) = match form_session(&state, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let email = match (&session.data.step, form.email.trim()) {
        (_, given) if !given.is_empty() => given.to_owned(),
        (Step::Password { email }, _) => email.clone(),
        _ => {
            return html(
                StatusCode::UNPROCESSABLE_ENTITY,
                pages::step(
                    &state.assets,
                    &session,
                    Some(&AuthError::BadEmail),
                    None,
                    "",
                ),
            );
        }
    };
    let auth = state.auth.clone();
    let (session, result) = blocking(move || {
        let r = auth.start_reset(&mut session, &email);
        (session, r)
    })
    .await;
    match result {
        Ok(_) => Redirect::to("/sign-in/reset").into_response(),
        Err(e) => html(
            status_of(&e),
            pages::step(&state.assets, &session, Some(&e), None, &form.email),
        ),
    }
}

/// `GET /sign-in/reset`: the code and new password form.
pub async fn reset_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let found = session::lookup(&state, &headers).await;
    match found {
        Lookup::Found(s) if matches!(s.data.step, Step::Password { .. }) => {
            html(StatusCode::OK, pages::reset(&state.assets, &s, None))
        }
        _ => Redirect::to("/sign-in").into_response(),
    }
}

/// `POST /sign-in/reset`.
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    request_ext: axum::http::Extensions,
    Form(form): Form<ResetForm>,
) -> Response {
    let client = client_addr(&request_ext, &headers, state.auth.config());
    let (_, mut session) = match form_session(&state, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Step::Password { email } = &session.data.step else {
        return Redirect::to("/sign-in").into_response();
    };
    let email = email.clone();
    let auth = state.auth.clone();
    let (session, result) = blocking(move || {
        let r = auth.finish_reset(
            &mut session,
            &email,
            &form.code,
            &form.new_password,
            &form.confirm_password,
            &client,
        );
        (session, r)
    })
    .await;
    match result {
        Ok(()) => Redirect::to("/sign-in").into_response(),
        Err(e) => html(
            status_of(&e),
            pages::reset(&state.assets, &session, Some(&e)),
        ),
    }
}

/// `GET /station`: the Station credentials dialog.
pub async fn station_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let found = session::lookup(&state, &headers).await;
    let session = match found {
        Lookup::Found(s) if matches!(s.data.step, Step::Station { .. }) => s,
        Lookup::Found(s) if matches!(s.data.step, Step::Active { .. }) => {
            return Redirect::to("/").into_response();
        }
        Lookup::Expired => return Redirect::to("/sign-in?expired=1").into_response(),
        _ => return Redirect::to("/sign-in").into_response(),
    };
    let auth = state.auth.clone();
    let (session, form) = blocking(move || {
        let f = auth.station_form(&session);
        (session, f)
    })
    .await;
    match form {
        Ok(form) => html(
            StatusCode::OK,
            pages::station(&state.assets, &session, &form, None),
        ),
        Err(e) => html(status_of(&e), pages::unavailable(&state.assets, &e)),
    }
}

/// `POST /station`.
pub async fn station(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<StationForm>,
) -> Response {
    let (_, mut session) = match form_session(&state, &headers, form.csrf.as_deref()).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !matches!(session.data.step, Step::Station { .. }) {
        return Redirect::to("/sign-in").into_response();
    }
    let auth = state.auth.clone();
    let input = form.input.clone();
    let (session, result) = blocking(move || {
        let r = auth.submit_station(&mut session, &input);
        (session, r)
    })
    .await;
    match result {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) => {
            let auth = state.auth.clone();
            let (session, f) = blocking(move || {
                let f = auth.station_form(&session);
                (session, f)
            })
            .await;
            match f {
                Ok(mut f) => {
                    f.apply(&form.input);
                    html(
                        status_of(&e),
                        pages::station(&state.assets, &session, &f, Some(&e)),
                    )
                }
                Err(e2) => html(status_of(&e2), pages::unavailable(&state.assets, &e2)),
            }
        }
    }
}

/// `POST /sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    let mut session = signed_in.session;
    if let Err(e) = check_csrf(&state, &session, &headers, form.csrf.as_deref()) {
        return html(status_of(&e), pages::unavailable(&state.assets, &e));
    }
    let auth = state.auth.clone();
    let result = blocking(move || {
        let r = auth.sign_out(&session);
        if let Err(e) = &r {
            session.data.notice = Some(e.to_string());
            auth.keep(&session);
        }
        r
    })
    .await;
    match result {
        Ok(()) => {
            let jar =
                session::without_session(CookieJar::from_headers(&headers), state.auth.config());
            (jar, Redirect::to("/sign-in?signed_out=1")).into_response()
        }
        Err(AuthError::SignOutRefused(_)) => {
            let back = headers
                .get(axum::http::header::REFERER)
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.find("/pages/").map(|i| r[i..].to_owned()))
                .unwrap_or_else(|| "/".into());
            Redirect::to(&back).into_response()
        }
        Err(e) => html(status_of(&e), pages::unavailable(&state.assets, &e)),
    }
}

/// Form of `POST /session/continue`.
#[derive(Debug, Deserialize)]
pub struct ContinueForm {
    #[serde(default)]
    csrf: Option<String>,
    /// The window that becomes live.
    window: String,
}

/// `POST /session/continue`: Continue in this window.
pub async fn continue_here(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<ContinueForm>,
) -> Response {
    if let Some(refused) =
        session::csrf_or_refuse(&state, &signed_in.session, &headers, form.csrf.as_deref())
    {
        return refused;
    }
    if form.window.is_empty() || form.window.len() > 64 {
        return (StatusCode::BAD_REQUEST, "a window id is needed").into_response();
    }
    state
        .auth
        .instances()
        .take_over(&signed_in.viewer.user_id, &form.window, crate::now_ms());
    if headers.contains_key(session::CSRF_HEADER) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Redirect::to("/").into_response()
    }
}

/// Form of `POST /me/telephony-failed`.
#[derive(Debug, Deserialize)]
pub struct TelephonyFailedForm {
    #[serde(default)]
    csrf: Option<String>,
    /// What the browser reported (such as `NotAllowedError`).
    #[serde(default)]
    reason: String,
}

/// `POST /me/telephony-failed`: the page could not start desktop
/// telephony; the user goes to RONA and gets a tracking ID.
pub async fn telephony_failed(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed_in: SignedIn,
    Form(form): Form<TelephonyFailedForm>,
) -> Response {
    if let Some(refused) =
        session::csrf_or_refuse(&state, &signed_in.session, &headers, form.csrf.as_deref())
    {
        return refused;
    }
    let auth = state.auth.clone();
    let session = signed_in.session;
    let tracking_id = blocking(move || auth.telephony_failed(&session, &form.reason)).await;
    Json(serde_json::json!({
        "tracking_id": tracking_id,
        "message": format!(
            "Desktop telephony could not start, so your state is set to RONA. Contact your administrator and share tracking ID {tracking_id}."
        ),
    }))
    .into_response()
}
