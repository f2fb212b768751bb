//! Session cookies, CSRF checks and the extractors that turn a request into
//! a session or a signed-in viewer. The cookie is HttpOnly, SameSite=Strict
//! and, when the host config says the desktop is served over https, Secure
//! with the `__Host-` prefix.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use super::AppState;
use crate::auth::{AuthError, Lookup, Session};
use crate::config::AuthConfig;
use crate::desktop::Viewer;

/// Header that carries the CSRF token on script requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The session cookie's name.
pub fn cookie_name(config: &AuthConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-deskhost_session"
    } else {
        "deskhost_session"
    }
}

/// `jar` with the session cookie set to `token`.
pub fn with_session(jar: CookieJar, config: &AuthConfig, token: String) -> CookieJar {
    let cookie = Cookie::build((cookie_name(config), token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(config.secure_cookies)
        .path("/")
        .build();
    jar.add(cookie)
}

/// `jar` with the session cookie removed.
pub fn without_session(jar: CookieJar, config: &AuthConfig) -> CookieJar {
    jar.remove(Cookie::build(cookie_name(config)).path("/").build())
}

/// The client's address, for attempt limits and logs ("unknown" when the
/// server was not started with connection info, as in router tests).
/// Behind a trusted proxy (`[auth] trusted_proxies`) it is the last
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_addr(
    parts_ext: &axum::http::Extensions,
    headers: &HeaderMap,
    config: &AuthConfig,
) -> String {
    let Some(peer) = parts_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        return "unknown".into();
    };
    forwarded_client(peer, headers, &config.trusted_proxies).to_string()
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy;
/// then, walking `X-Forwarded-For` from the right (entries nearer the host
/// were written by proxies we trust), the first address that is not a
/// trusted proxy. Entries that are not addresses stop the walk: what is
/// left of them came from the client and may be forged. IPv4 addresses
/// mapped into IPv6 (a dual-stack listener) compare as IPv4.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.to_canonical();
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(addr) = hop.parse::<IpAddr>().map(|a| a.to_canonical()) else {
            break;
        };
        client = addr;
        if !trusted.contains(&addr) {
            break;
        }
    }
    client
}

/// Loads the session a request's cookie leads to.
pub async fn lookup(state: &AppState, headers: &HeaderMap) -> Lookup {
    let token = cookie_value(headers, cookie_name(state.auth.config()));
    // Most requests find their session in memory; the rest read the store
    // off the async executor.
    if let Some(found) = state.auth.cached_session(token.as_deref()) {
        return found;
    }
    let auth = state.auth.clone();
    tokio::task::spawn_blocking(move || auth.session(token.as_deref()))
        .await
        .unwrap_or(Lookup::Expired)
}

/// The value of the request's cookie `name`, read as a [`CookieJar`] reads
/// it (percent-decoded; the last of several wins) without building one.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .into_iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|cookie| Cookie::parse_encoded(cookie).ok())
        .rfind(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

/// Checks the CSRF token of a request (header or form field).
pub fn check_csrf(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    form_value: Option<&str>,
) -> Result<(), AuthError> {
    let header = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    state.auth.check_csrf(session, header.or(form_value))
}

/// Checks the CSRF token of a request; on a mismatch, the response to
/// send instead (403 with the reason).
pub fn csrf_or_refuse(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    form_value: Option<&str>,
) -> Option<Response> {
    check_csrf(state, session, headers, form_value)
        .err()
        .map(|e| (StatusCode::FORBIDDEN, e.to_string()).into_response())
}

/// A signed-in user on the desktop: an active session and its viewer.
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// Who is looking.
    pub viewer: Viewer,
}

/// Where a request without an active session goes: script requests get
/// 401 (the page script then reloads), pages a redirect to sign-in.
fn not_signed_in(parts: &Parts, expired: bool) -> Response {
    let script = parts.headers.contains_key("x-deskhost-fragment")
        || parts.headers.contains_key(CSRF_HEADER)
        || parts.uri.path() == "/events";
    if script {
        return (StatusCode::UNAUTHORIZED, "sign in again").into_response();
    }
    Redirect::to(if expired {
        "/sign-in?expired=1"
    } else {
        "/sign-in"
    })
    .into_response()
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match lookup(state, &parts.headers).await {
            Lookup::Found(session) => match session.viewer() {
                Some(viewer) => Ok(SignedIn {
                    session: *session,
                    viewer,
                }),
                None => Err(not_signed_in(parts, false)),
            },
            Lookup::Expired => Err(not_signed_in(parts, true)),
            Lookup::None => Err(not_signed_in(parts, false)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_read_as_a_cookie_jar_reads_it() {
        let mut h = HeaderMap::new();
        h.append(
            axum::http::header::COOKIE,
            "theme=dark; sid=first; other=x".parse().unwrap(),
        );
        h.append(
            axum::http::header::COOKIE,
            "sid=la%20st; junk".parse().unwrap(),
        );
        let jar = CookieJar::from_headers(&h);
        assert_eq!(cookie_value(&h, "sid").as_deref(), Some("la st"));
        assert_eq!(
            cookie_value(&h, "sid").as_deref(),
            jar.get("sid").map(|c| c.value())
        );
        assert_eq!(cookie_value(&h, "theme").as_deref(), Some("dark"));
        assert_eq!(cookie_value(&h, "missing"), None);
        assert_eq!(cookie_value(&HeaderMap::new(), "sid"), None);
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.5")];
        let forwarded = headers(&["203.0.113.7"]);
        // From the proxy: the client it names.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &forwarded, &trusted),
            ip("203.0.113.7")
        );
        // From anyone else: the header is the client's own words.
        assert_eq!(
            forwarded_client(ip("198.51.100.1"), &forwarded, &trusted),
            ip("198.51.100.1")
        );
        // A dual-stack listener sees the proxy as ::ffff:127.0.0.1.
        assert_eq!(
            forwarded_client(ip("::ffff:127.0.0.1"), &forwarded, &trusted),
            ip("203.0.113.7")
        );
        // No proxies configured: never read.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &forwarded, &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_forged_left_part_is_skipped_and_proxy_hops_are_walked() {
        let trusted = [ip("127.0.0.1"), ip("10.0.0.5")];
        // The client wrote 1.2.3.4 itself; our proxies appended the rest.
        let forwarded = headers(&["1.2.3.4, 203.0.113.7", "10.0.0.5"]);
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &forwarded, &trusted),
            ip("203.0.113.7")
        );
        // Garbage nearest the proxy: fall back to the proxy's address.
        let garbage = headers(&["203.0.113.7, not-an-address"]);
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &garbage, &trusted),
            ip("127.0.0.1")
        );
        // IPv6 clients.
        let v6 = headers(&["2001:db8::1"]);
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &v6, &trusted),
            ip("2001:db8::1")
        );
    }
}
