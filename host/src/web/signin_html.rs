//! The HTML of the sign-in flow: the e-mail and password steps, the reset
//! form and the Station credentials dialog. Labels and button names follow
//! the seed (Sign in, Forgot password, Submit); every control has a label,
//! and an error names the field it is about.

use maud::{DOCTYPE, Markup, html};

use super::assets::Assets;
use super::session::CSRF_FIELD;
use crate::auth::{ADMIN_CHECKLIST, AuthError, Session, StationForm, Step, Telephony, role_label};
use crate::layout::Role;

const PRODUCT: &str = "Supervisor Desktop";

fn shell(assets: &Assets, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (super::html::head(assets, &format!("{title} · {PRODUCT}"), None))
            body.signin-page {
                main id="main" {
                    div.signin-card {
                        div.signin-brand { img src=(assets.logo_url) alt=""; span { (PRODUCT) } }
                        (body)
                    }
                }
            }
        }
    }
}

fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(session.data.csrf); }
}

/// The error box: the message, and for failures only the admin can fix,
/// the seed's checklist and the tracking ID.
fn error_box(error: Option<&AuthError>) -> Markup {
    html! {
        @if let Some(e) = error {
            div.form-error id="form-error" role="alert" {
                p { (e.to_string()) }
                @if let AuthError::Unavailable { tracking_id } = e {
                    p { "Ask your administrator to check:" }
                    ul { @for item in ADMIN_CHECKLIST { li { (item) } } }
                    p.tracking { "Tracking ID: " code { (tracking_id) } }
                }
            }
        }
    }
}

fn notice_box(notice: Option<&str>) -> Markup {
    html! {
        @if let Some(n) = notice {
            p.form-notice role="status" { (n) }
        }
    }
}

/// The e-mail or the password step, as the session's step says.
pub fn step(
    assets: &Assets,
    session: &Session,
    error: Option<&AuthError>,
    notice: Option<&str>,
    email_value: &str,
) -> Markup {
    match &session.data.step {
        Step::Password { email } => password_step(assets, session, email, error, notice),
        _ => email_step(assets, session, email_value, error, notice),
    }
}

fn email_step(
    assets: &Assets,
    session: &Session,
    value: &str,
    error: Option<&AuthError>,
    notice: Option<&str>,
) -> Markup {
    let invalid = error.is_some();
    shell(
        assets,
        "Sign in",
        html! {
            h1 { "Sign in" }
            (notice_box(notice))
            (error_box(error))
            form.signin-form method="post" action="/sign-in/email" novalidate {
                (csrf(session))
                label for="email" { "E-mail address" }
                input id="email" name="email" type="email" autocomplete="username" required
                    autofocus value=(value) aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[invalid.then_some("form-error")];
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}

fn password_step(
    assets: &Assets,
    session: &Session,
    email: &str,
    error: Option<&AuthError>,
    notice: Option<&str>,
) -> Markup {
    let invalid = error.is_some();
    shell(
        assets,
        "Sign in",
        html! {
            h1 { "Sign in" }
            div.signin-identity {
                span { (email) }
                form method="post" action="/sign-in/back" id="back-form" {
                    (csrf(session))
                    button.link type="submit" aria-label="Change e-mail address" { "Change" }
                }
            }
            (notice_box(notice))
            (error_box(error))
            form.signin-form method="post" action="/sign-in/password" data-back-shortcut="back-form" {
                (csrf(session))
                input type="hidden" name="email" value=(email) autocomplete="username";
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password"
                    required autofocus aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[invalid.then_some("form-error")];
                button.primary type="submit" { "Sign in" }
            }
            form.signin-secondary method="post" action="/sign-in/forgot" {
                (csrf(session))
                button.link type="submit" { "Forgot password" }
            }
            p.hint { "To change the e-mail address, press Alt+Left arrow (Windows) or Command+Left arrow (Mac)." }
        },
    )
}

/// The reset form: the six-digit code and the new password.
pub fn reset(assets: &Assets, session: &Session, error: Option<&AuthError>) -> Markup {
    let email = match &session.data.step {
        Step::Password { email } => email.as_str(),
        _ => "",
    };
    let code_error = matches!(
        error,
        Some(AuthError::InvalidCode { .. } | AuthError::CodeExpired | AuthError::TooManyTries)
    );
    let password_error = matches!(
        error,
        Some(AuthError::WeakPassword(_) | AuthError::PasswordMismatch)
    );
    shell(
        assets,
        "Reset your password",
        html! {
            h1 { "Reset your password" }
            p.form-notice role="status" {
                "We sent a six-digit confirmation code to " strong { (email) } ". "
                "It can be used once, within 10 minutes."
            }
            (error_box(error))
            form.signin-form method="post" action="/sign-in/reset" novalidate {
                (csrf(session))
                label for="code" { "Confirmation code" }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                    maxlength="6" required autofocus
                    aria-invalid=[code_error.then_some("true")]
                    aria-describedby=[code_error.then_some("form-error")];
                input type="hidden" name="email" value=(email) autocomplete="username";
                label for="new-password" { "New password" }
                input id="new-password" name="new_password" type="password" autocomplete="new-password"
                    required aria-invalid=[password_error.then_some("true")]
                    aria-describedby=[password_error.then_some("form-error")];
                label for="confirm-password" { "Confirm new password" }
                input id="confirm-password" name="confirm_password" type="password"
                    autocomplete="new-password" required;
                button.primary type="submit" { "Reset password" }
            }
            form.signin-secondary method="post" action="/sign-in/forgot" {
                (csrf(session))
                button.link type="submit" { "Send a new code" }
            }
            p { a href="/sign-in" { "Back to sign in" } }
        },
    )
}

/// The Station credentials dialog.
pub fn station(
    assets: &Assets,
    session: &Session,
    form: &StationForm,
    error: Option<&AuthError>,
) -> Markup {
    let bad =
        |field: &str| matches!(error, Some(AuthError::Station { field: f, .. }) if *f == field);
    let team_roles: Vec<&str> = form
        .roles
        .iter()
        .filter(|r| **r != Role::Supervisor)
        .map(|r| r.as_str())
        .collect();
    let show_team = form.role != Role::Supervisor;
    let desktop = form.selected == Telephony::Desktop;
    let name = session
        .user()
        .map(|u| u.display_name.as_str())
        .unwrap_or("");
    shell(
        assets,
        "Station credentials",
        html! {
            section.station-dialog role="dialog" aria-modal="true" aria-labelledby="station-title" {
                h1 id="station-title" { "Station credentials" }
                p.note { "Signed in as " strong { (name) } "." }
                (error_box(error))
                form.signin-form method="post" action="/station" id="station-form" {
                    (csrf(session))
                    // The browser's time zone and language, filled in by the
                    // page's script, for the widgets' local times.
                    input type="hidden" name="time_zone" id="time-zone";
                    input type="hidden" name="locale" id="locale";
                    @if form.roles.len() > 1 {
                        label for="role" { "Role" }
                        select id="role" name="role" aria-invalid=[bad("role").then_some("true")] {
                            @for r in &form.roles {
                                option value=(r.as_str()) selected[*r == form.role] { (role_label(*r)) }
                            }
                        }
                    } @else {
                        input type="hidden" name="role" value=(form.role.as_str());
                    }
                    fieldset.telephony aria-invalid=[bad("telephony").then_some("true")] {
                        legend { "Telephony" }
                        @for t in &form.telephony {
                            @let id = format!("telephony-{}", t.as_str());
                            div.radio {
                                input type="radio" id=(id) name="telephony" value=(t.as_str()) checked[*t == form.selected];
                                label for=(id) { (t.label()) }
                            }
                        }
                    }
                    div.field id="number-field" hidden[desktop] {
                        label for="number" { "Dial number/Extension" }
                        input id="number" name="number" type="tel" autocomplete="tel" value=(form.number)
                            placeholder="+14155550100"
                            aria-invalid=[bad("number").then_some("true")]
                            aria-describedby=[bad("number").then_some("form-error")];
                    }
                    div.field id="desktop-field" hidden[!desktop] {
                        input type="hidden" name="microphone" id="microphone" value="unknown";
                        p.note id="microphone-status" { "Desktop telephony uses your browser's microphone." }
                        div.check {
                            input type="checkbox" id="e911" name="e911"
                                aria-invalid=[bad("e911").then_some("true")];
                            label for="e911" { "I acknowledge the E911 notice: emergency calls made from this browser may not reach emergency services at my location." }
                        }
                    }
                    div.check {
                        input type="checkbox" id="remember" name="remember" checked[form.remembered];
                        label for="remember" { "Remember my credentials" }
                    }
                    @if !team_roles.is_empty() {
                        div.field id="team-field" data-roles=(team_roles.join(" ")) hidden[!show_team] {
                            label for="team-search" { "Search teams" }
                            input type="search" id="team-search" aria-controls="team" autocomplete="off";
                            label for="team" { "Team" }
                            select id="team" name="team" aria-invalid=[bad("team").then_some("true")] {
                                option value="" selected[form.team.is_none()] { "Choose a team" }
                                @for (id, team_name) in &form.teams {
                                    option value=(id) selected[form.team.as_deref() == Some(id.as_str())] { (team_name) }
                                }
                            }
                        }
                    }
                    button.primary type="submit" { "Submit" }
                }
            }
        },
    )
}

/// A sign-in failure that leaves nothing to retry on the page.
pub fn unavailable(assets: &Assets, error: &AuthError) -> Markup {
    shell(
        assets,
        "Sign in",
        html! {
            h1 { "Sign in" }
            (error_box(Some(error)))
            p { a href="/sign-in" { "Back to sign in" } }
        },
    )
}
