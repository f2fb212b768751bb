//! Native tests against a fake provider: canned discovery, token and
//! revocation answers, a fixed clock, deterministic randomness, and a
//! record of every request and log line.

use std::collections::{BTreeMap, VecDeque};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deskhost_sdk::collaboration::http::{HttpError, Request, Response};
use deskhost_sdk::collaboration::{AuthError, Authorization, CollaborationAuth, Status, Tokens};
use deskhost_sdk::{Setting, SettingKind, SettingValue};
use serde_json::{Value, json};

use crate::oidc::{self, *};
use crate::{DEFAULT_SCOPES, ID, MicrosoftTeams, Settings};

const NOW_MS: u64 = 1_800_000_000_000;
const AUTHORITY: &str = "https://login.example.com";
const DISCOVERY_URL: &str =
    "https://login.example.com/common/v2.0/.well-known/openid-configuration";
const AUTHORIZE_URL: &str = "https://login.example.com/common/oauth2/v2.0/authorize";
const TOKEN_URL: &str = "https://login.example.com/common/oauth2/v2.0/token";
const REVOKE_URL: &str = "https://login.example.com/common/oauth2/v2.0/revoke";
const CLIENT_ID: &str = "6731de76-14a6-49ae-97bc-6eba6914391e";
const CLIENT_SECRET: &str = "s3cr3t~client.secret_value";
const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const REDIRECT_URI: &str =
    "https://desk.example.com/profile/collaboration/microsoft-teams/callback";
const CODE: &str = "0.AUoAv4j5cvGGr0GRqy180BHbR-auth-code";
const ACCESS_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJub25jZSI6ImFjY2VzcyJ9.access.token";
const REFRESH_TOKEN: &str = "0.AUoAv4j5cvGGr0GRqy180BHbR-refresh-token";
const MS_ISSUER: &str = "https://login.example.com/{tenantid}/v2.0";

/// A request as the fake provider saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    form: BTreeMap<String, String>,
}

struct FakeHost {
    now: u64,
    rng: u64,
    /// Bytes handed out before the generator's.
    forced: VecDeque<u8>,
    /// Answers by `METHOD url`.
    routes: BTreeMap<String, Result<Response, HttpError>>,
    seen: Vec<Seen>,
    logs: Vec<String>,
}

impl FakeHost {
    fn new() -> Self {
        FakeHost {
            now: NOW_MS,
            rng: 7,
            forced: VecDeque::new(),
            routes: BTreeMap::new(),
            seen: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// A Microsoft-like provider: multi-tenant issuer, no revocation.
    fn microsoft() -> Self {
        let mut host = FakeHost::new();
        host.route(
            "GET",
            DISCOVERY_URL,
            json_response(200, &discovery_json(None)),
        );
        host
    }

    fn route(&mut self, method: &str, url: &str, answer: Result<Response, HttpError>) {
        self.routes.insert(format!("{method} {url}"), answer);
    }

    fn token_answer(&mut self, answer: Result<Response, HttpError>) {
        self.route("POST", TOKEN_URL, answer);
    }

    fn next_byte(&mut self) -> u8 {
        if let Some(b) = self.forced.pop_front() {
            return b;
        }
        // splitmix64: deterministic, good enough for tests.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u8
    }

    fn token_requests(&self) -> Vec<&Seen> {
        self.seen.iter().filter(|s| s.url == TOKEN_URL).collect()
    }
}

impl Host for FakeHost {
    fn send(&mut self, request: Request) -> Result<Response, HttpError> {
        let body = request.body.clone().unwrap_or_default();
        self.seen.push(Seen {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), h.value.clone()))
                .collect(),
            form: form_urlencoded::parse(&body).into_owned().collect(),
        });
        self.routes
            .get(&format!("{} {}", request.method, request.url))
            .cloned()
            .unwrap_or_else(|| Err(HttpError::Network(format!("no route to {}", request.url))))
    }
    fn now_ms(&self) -> u64 {
        self.now
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), String> {
        for b in buf {
            *b = self.next_byte();
        }
        Ok(())
    }
    fn log_info(&mut self, message: &str) {
        self.logs.push(format!("info: {message}"));
    }
    fn log_warn(&mut self, message: &str) {
        self.logs.push(format!("warn: {message}"));
    }
}

fn discovery_json(revocation: Option<&str>) -> Value {
    let mut d = json!({
        "issuer": MS_ISSUER,
        "authorization_endpoint": AUTHORIZE_URL,
        "token_endpoint": TOKEN_URL,
        "jwks_uri": "https://login.example.com/common/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "tenant_region_scope": null,
    });
    if let Some(r) = revocation {
        d["revocation_endpoint"] = r.into();
    }
    d
}

fn json_response(status: u16, body: &Value) -> Result<Response, HttpError> {
    Ok(Response {
        status,
        headers: Vec::new(),
        body: serde_json::to_vec(body).unwrap(),
    })
}

fn raw_response(status: u16, body: &str) -> Result<Response, HttpError> {
    Ok(Response {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    })
}

/// An unsigned-looking JWT with these claims.
fn jwt(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"RS256","kid":"test"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

/// The claims of a work account in TENANT_ID, for `nonce`.
fn claims(nonce: &str) -> Value {
    json!({
        "aud": CLIENT_ID,
        "iss": format!("https://login.example.com/{TENANT_ID}/v2.0"),
        "iat": NOW_MS / 1000 - 5,
        "nbf": NOW_MS / 1000 - 5,
        "exp": NOW_MS / 1000 + 3600,
        "name": "Ada Lovelace",
        "nonce": nonce,
        "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "preferred_username": "ada@contoso.example",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": TENANT_ID,
        "ver": "2.0",
    })
}

fn token_json(id_token: Option<String>, refresh_token: Option<&str>) -> Value {
    let mut t = json!({
        "token_type": "Bearer",
        "scope": "openid profile email User.Read",
        "expires_in": 4000,
        "ext_expires_in": 4000,
        "access_token": ACCESS_TOKEN,
    });
    if let Some(id) = id_token {
        t["id_token"] = id.into();
    }
    if let Some(r) = refresh_token {
        t["refresh_token"] = r.into();
    }
    t
}

fn config_with(secret: &str) -> Config {
    Settings {
        authority: AUTHORITY.into(),
        client_id: CLIENT_ID.into(),
        client_secret: secret.into(),
        ..Settings::default()
    }
    .config()
    .unwrap()
}

fn client(host: FakeHost) -> Client<FakeHost> {
    Client::new(host, config_with(""))
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn query_of(url: &str) -> BTreeMap<String, String> {
    let (_, query) = url.split_once('?').expect("a query");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Starts an authorization and answers the code with an ID token made
/// from `claims` (given the pending nonce).
fn started(
    mut c: Client<FakeHost>,
    claims_for: impl Fn(&str) -> Value,
) -> (Client<FakeHost>, Authorization) {
    let pending = c.start(REDIRECT_URI).unwrap();
    let id = jwt(&claims_for(&pending.nonce));
    c.host_mut().token_answer(json_response(
        200,
        &token_json(Some(id), Some(REFRESH_TOKEN)),
    ));
    (c, pending)
}

fn callback(pending: &Authorization) -> Vec<(String, String)> {
    params(&[
        ("code", CODE),
        ("state", &pending.state),
        ("session_state", "x"),
    ])
}

fn msg(e: &AuthError) -> &str {
    oidc::message(e)
}

fn no_secrets_logged(host: &FakeHost) {
    for line in &host.logs {
        for secret in [ACCESS_TOKEN, REFRESH_TOKEN, CODE, CLIENT_SECRET] {
            assert!(!line.contains(secret), "secret in log line: {line}");
        }
    }
}

#[test]
fn pkce_challenge_matches_rfc7636_appendix_b() {
    // RFC 7636 appendix B: the 32 octets, their base64url verifier and its
    // S256 challenge.
    let octets: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(URL_SAFE_NO_PAD.encode(octets), verifier);
    assert_eq!(
        code_challenge(verifier),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );

    // Through `start`: the state takes the first 32 random bytes, the
    // verifier the next 32.
    let mut host = FakeHost::microsoft();
    host.forced.extend([0u8; 32]);
    host.forced.extend(octets);
    let pending = client(host).start(REDIRECT_URI).unwrap();
    assert_eq!(pending.code_verifier, verifier);
    let q = query_of(&pending.url);
    assert_eq!(
        q["code_challenge"],
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert_eq!(q["code_challenge_method"], "S256");
}

#[test]
fn authorization_url_carries_the_request() {
    let mut c = Client::new(FakeHost::microsoft(), config_with(CLIENT_SECRET));
    let pending = c.start(REDIRECT_URI).unwrap();
    assert!(pending.url.starts_with(&format!("{AUTHORIZE_URL}?")));
    let q = query_of(&pending.url);
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert_eq!(q["response_mode"], "query");
    assert_eq!(q["scope"], "openid profile email offline_access User.Read");
    assert_eq!(q["state"], pending.state);
    assert_eq!(q["nonce"], pending.nonce);
    assert_eq!(q["code_challenge"], code_challenge(&pending.code_verifier));
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q.len(), 9, "nothing else: {q:?}");
    // The secret and the verifier never go to the browser.
    assert!(!pending.url.contains(CLIENT_SECRET));
    assert!(!pending.url.contains(&pending.code_verifier));
    // 32 random bytes each, base64url without padding, all different.
    for v in [&pending.state, &pending.code_verifier, &pending.nonce] {
        assert_eq!(v.len(), 43);
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    assert_ne!(pending.state, pending.nonce);
    assert_ne!(pending.state, pending.code_verifier);
    // Only discovery was asked.
    assert_eq!(c.host().seen.len(), 1);
    assert_eq!(c.host().seen[0].method, "GET");
    assert_eq!(c.host().seen[0].url, DISCOVERY_URL);

    // A second start gets fresh values.
    let again = c.start(REDIRECT_URI).unwrap();
    assert_ne!(again.state, pending.state);
    assert_ne!(again.code_verifier, pending.code_verifier);
}

#[test]
fn authorization_url_joins_an_existing_query_with_an_ampersand() {
    let mut host = FakeHost::new();
    let mut d = discovery_json(None);
    d["authorization_endpoint"] = format!("{AUTHORIZE_URL}?p=b2c_1_signin").into();
    host.route("GET", DISCOVERY_URL, json_response(200, &d));
    let pending = client(host).start(REDIRECT_URI).unwrap();
    assert!(
        pending
            .url
            .starts_with(&format!("{AUTHORIZE_URL}?p=b2c_1_signin&client_id="))
    );
    assert_eq!(query_of(&pending.url)["p"], "b2c_1_signin");
}

#[test]
fn discovery_url_trims_slashes_and_uses_the_tenant() {
    let settings = Settings {
        authority: "https://login.example.com///".into(),
        tenant: "/contoso.onmicrosoft.com/".into(),
        client_id: CLIENT_ID.into(),
        ..Settings::default()
    };
    let config = settings.config().unwrap();
    assert_eq!(
        config.discovery_url(),
        "https://login.example.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    );
    assert_eq!(
        Config::new(AUTHORITY, "common", CLIENT_ID, "", &["openid".into()])
            .unwrap()
            .discovery_url(),
        DISCOVERY_URL
    );
}

#[test]
fn complete_redeems_the_code_and_reads_the_account() {
    let mut c = Client::new(FakeHost::microsoft(), config_with(CLIENT_SECRET));
    let pending = c.start(REDIRECT_URI).unwrap();
    let id = jwt(&claims(&pending.nonce));
    c.host_mut().token_answer(json_response(
        200,
        &token_json(Some(id.clone()), Some(REFRESH_TOKEN)),
    ));

    let connection = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap();

    let t = &connection.tokens;
    assert_eq!(t.access_token, ACCESS_TOKEN);
    assert_eq!(t.refresh_token.as_deref(), Some(REFRESH_TOKEN));
    assert_eq!(t.id_token.as_deref(), Some(id.as_str()));
    assert_eq!(t.expires_at, NOW_MS + 4_000_000);
    assert_eq!(t.scope, "openid profile email User.Read");
    let a = &connection.account;
    assert_eq!(
        a.subject, "00000000-0000-0000-66f3-3332eca7ea81",
        "oid first"
    );
    assert_eq!(a.name, "Ada Lovelace");
    assert_eq!(
        a.email, "ada@contoso.example",
        "preferred_username without email"
    );

    let requests = c.host().token_requests();
    assert_eq!(requests.len(), 1);
    let r = requests[0];
    assert_eq!(r.method, "POST");
    assert!(r.headers.contains(&(
        "content-type".into(),
        "application/x-www-form-urlencoded".into()
    )));
    let f = &r.form;
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], CODE);
    assert_eq!(f["redirect_uri"], REDIRECT_URI);
    assert_eq!(f["client_id"], CLIENT_ID);
    assert_eq!(f["code_verifier"], pending.code_verifier);
    assert_eq!(f["client_secret"], CLIENT_SECRET);
    assert_eq!(f.len(), 6);
    no_secrets_logged(c.host());
    assert!(
        c.host()
            .logs
            .iter()
            .any(|l| l.starts_with("info: complete"))
    );
}

#[test]
fn public_client_sends_no_secret_and_uses_defaults() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    // No expires_in and no scope in the answer: an hour, and what was asked.
    let id = jwt(&{
        let mut cl = claims(&pending.nonce);
        cl.as_object_mut().unwrap().remove("oid");
        cl["email"] = "ada@example.org".into();
        cl
    });
    c.host_mut().token_answer(json_response(
        200,
        &json!({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "id_token": id}),
    ));
    let connection = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap();
    assert_eq!(connection.tokens.expires_at, NOW_MS + 3_600_000);
    assert_eq!(
        connection.tokens.scope,
        "openid profile email offline_access User.Read"
    );
    assert_eq!(connection.tokens.refresh_token, None);
    assert_eq!(
        connection.account.subject, "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "sub without oid"
    );
    assert_eq!(connection.account.email, "ada@example.org", "email first");
    assert!(
        !c.host().token_requests()[0]
            .form
            .contains_key("client_secret")
    );
}

#[test]
fn expires_in_may_be_a_string() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    let mut t = token_json(Some(jwt(&claims(&pending.nonce))), None);
    t["expires_in"] = "3599".into();
    c.host_mut().token_answer(json_response(200, &t));
    let connection = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap();
    assert_eq!(connection.tokens.expires_at, NOW_MS + 3_599_000);
}

#[test]
fn consent_refused_is_denied_without_a_token_request() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    let answer = params(&[
        ("error", "access_denied"),
        (
            "error_description",
            "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: 1",
        ),
        ("state", &pending.state),
    ]);
    let e = c.complete(REDIRECT_URI, &pending, &answer).unwrap_err();
    assert!(matches!(e, AuthError::Denied(_)), "{e:?}");
    assert_eq!(
        msg(&e),
        "Consent was refused at the provider (AADSTS65004: User declined to consent to access the app. Trace ID: 1)."
    );
    let bare = params(&[("error", "access_denied")]);
    let e = c.complete(REDIRECT_URI, &pending, &bare).unwrap_err();
    assert_eq!(msg(&e), "Consent was refused at the provider.");
    assert!(c.host().token_requests().is_empty());
}

#[test]
fn other_provider_errors_are_rejected() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    let answer = params(&[
        ("error", "invalid_request"),
        (
            "error_description",
            "AADSTS50011: The redirect URI does not match.",
        ),
    ]);
    let e = c.complete(REDIRECT_URI, &pending, &answer).unwrap_err();
    assert!(matches!(e, AuthError::Rejected(_)), "{e:?}");
    assert_eq!(
        msg(&e),
        "The provider answered with an error: invalid_request: AADSTS50011: The redirect URI does not match."
    );
    let e = c
        .complete(
            REDIRECT_URI,
            &pending,
            &params(&[("error", "server_error")]),
        )
        .unwrap_err();
    assert_eq!(msg(&e), "The provider answered with an error: server_error");
}

#[test]
fn state_mismatch_is_refused_before_any_request() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    let other_state = "A".repeat(43);
    for answer in [
        params(&[("code", CODE), ("state", &other_state)]),
        params(&[("code", CODE)]),
        params(&[("code", CODE), ("state", "")]),
        params(&[
            ("code", CODE),
            ("state", &pending.state),
            ("state", &other_state),
        ]),
    ] {
        let e = c.complete(REDIRECT_URI, &pending, &answer).unwrap_err();
        assert!(matches!(e, AuthError::Mismatch(_)), "{e:?}");
        assert_eq!(msg(&e), STATE_MISMATCH);
    }
    // A pending authorization without a state matches nothing.
    let mut empty = pending.clone();
    empty.state.clear();
    let e = c
        .complete(
            REDIRECT_URI,
            &empty,
            &params(&[("code", CODE), ("state", "")]),
        )
        .unwrap_err();
    assert_eq!(msg(&e), STATE_MISMATCH);
    assert!(c.host().token_requests().is_empty());
}

#[test]
fn a_missing_code_is_a_mismatch() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    let e = c
        .complete(
            REDIRECT_URI,
            &pending,
            &params(&[("state", &pending.state)]),
        )
        .unwrap_err();
    assert!(matches!(e, AuthError::Mismatch(_)), "{e:?}");
    assert_eq!(msg(&e), NO_CODE);
    assert!(c.host().token_requests().is_empty());
}

#[test]
fn nonce_mismatch_is_refused() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), |_| claims("another-nonce"));
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(matches!(e, AuthError::Mismatch(_)), "{e:?}");
    assert_eq!(msg(&e), NONCE_MISMATCH);

    // No nonce at all.
    let (mut c, pending) = started(client(FakeHost::microsoft()), |nonce| {
        let mut cl = claims(nonce);
        cl.as_object_mut().unwrap().remove("nonce");
        cl
    });
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert_eq!(msg(&e), NONCE_MISMATCH);
}

#[test]
fn invalid_grant_on_the_code_is_rejected() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    c.host_mut().token_answer(json_response(
        400,
        &json!({
            "error": "invalid_grant",
            "error_description": "AADSTS54005: OAuth2 Authorization code was already redeemed.",
            "error_codes": [54005],
        }),
    ));
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(matches!(e, AuthError::Rejected(_)), "{e:?}");
    assert_eq!(
        msg(&e),
        "The provider refused the authorization code: invalid_grant (AADSTS54005: OAuth2 Authorization code was already redeemed.). Click Retry to start again."
    );
    no_secrets_logged(c.host());
}

#[test]
fn a_refused_client_is_misconfigured() {
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    c.host_mut().token_answer(json_response(
        401,
        &json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
        }),
    ));
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(matches!(e, AuthError::Misconfigured(_)), "{e:?}");
    assert!(msg(&e).contains("invalid_client (AADSTS7000215"), "{e:?}");
    assert!(msg(&e).contains("client_secret"), "{e:?}");
}

#[test]
fn provider_trouble_on_the_token_endpoint_is_unavailable() {
    for (answer, words) in [
        (raw_response(503, "busy"), "(HTTP 503)"),
        (
            raw_response(200, "<html>sign in</html>"),
            "not an OAuth 2.0 token response",
        ),
        (
            json_response(200, &json!({"token_type": "Bearer"})),
            "not an OAuth 2.0 token response",
        ),
        (
            raw_response(400, "<html>bad</html>"),
            "(HTTP 400) without saying why",
        ),
        (raw_response(302, ""), "(HTTP 302)"),
    ] {
        let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
        c.host_mut().token_answer(answer);
        let e = c
            .complete(REDIRECT_URI, &pending, &callback(&pending))
            .unwrap_err();
        assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
        assert!(msg(&e).starts_with("login.example.com "), "{e:?}");
        assert!(msg(&e).contains(words), "{e:?}");
    }
    // No ID token in the answer.
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    c.host_mut()
        .token_answer(json_response(200, &token_json(None, Some(REFRESH_TOKEN))));
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
    assert!(msg(&e).contains("without an ID token"), "{e:?}");
    // An ID token that is not a JWT.
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    c.host_mut().token_answer(json_response(
        200,
        &token_json(Some("not-a-jwt".into()), None),
    ));
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(msg(&e).contains("cannot be read"), "{e:?}");
}

#[test]
fn multi_tenant_issuer_takes_the_tenant_from_tid() {
    // The issuer is `https://login.example.com/{tenantid}/v2.0`: the
    // token's own tenant makes it whole.
    let (mut c, pending) = started(client(FakeHost::microsoft()), claims);
    assert!(
        c.complete(REDIRECT_URI, &pending, &callback(&pending))
            .is_ok()
    );

    // A personal account: the consumers tenant.
    let consumers = "9188040d-6c67-4c5b-b519-5df2b4b3ed86";
    let (mut c, pending) = started(client(FakeHost::microsoft()), |nonce| {
        let mut cl = claims(nonce);
        cl["tid"] = consumers.into();
        cl["iss"] = format!("https://login.example.com/{consumers}/v2.0").into();
        cl
    });
    assert!(
        c.complete(REDIRECT_URI, &pending, &callback(&pending))
            .is_ok()
    );

    // `iss` of one tenant, `tid` of another.
    let (mut c, pending) = started(client(FakeHost::microsoft()), |nonce| {
        let mut cl = claims(nonce);
        cl["tid"] = consumers.into();
        cl
    });
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
    assert!(msg(&e).contains("another issuer"), "{e:?}");

    // No `tid` to substitute.
    let (mut c, pending) = started(client(FakeHost::microsoft()), |nonce| {
        let mut cl = claims(nonce);
        cl.as_object_mut().unwrap().remove("tid");
        cl
    });
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(msg(&e).contains("`tid`"), "{e:?}");
}

#[test]
fn single_tenant_issuer_is_compared_as_is() {
    let issuer = format!("https://login.example.com/{TENANT_ID}/v2.0");
    let mut host = FakeHost::new();
    let mut d = discovery_json(None);
    d["issuer"] = issuer.clone().into();
    host.route("GET", DISCOVERY_URL, json_response(200, &d));
    let (mut c, pending) = started(client(host), claims);
    assert!(
        c.complete(REDIRECT_URI, &pending, &callback(&pending))
            .is_ok()
    );

    let mut host = FakeHost::new();
    d["issuer"] = "https://login.example.com/someone-else/v2.0".into();
    host.route("GET", DISCOVERY_URL, json_response(200, &d));
    let (mut c, pending) = started(client(host), claims);
    let e = c
        .complete(REDIRECT_URI, &pending, &callback(&pending))
        .unwrap_err();
    assert!(msg(&e).contains("another issuer"), "{e:?}");
}

#[test]
fn audience_and_expiry_are_checked() {
    // An array audience holding the client id.
    let (mut c, pending) = started(client(FakeHost::microsoft()), |nonce| {
        let mut cl = claims(nonce);
        cl["aud"] = json!(["api://other", CLIENT_ID]);
        cl
    });
    assert!(
        c.complete(REDIRECT_URI, &pending, &callback(&pending))
            .is_ok()
    );

    for (claim, value, words) in [
        ("aud", json!("someone-else"), "another application"),
        ("aud", json!(["someone-else"]), "another application"),
        ("azp", json!("someone-else"), "another application"),
        ("exp", json!(NOW_MS / 1000 - 3600), "expired"),
    ] {
        let (mut c, pending) = started(client(FakeHost::microsoft()), |nonce| {
            let mut cl = claims(nonce);
            cl[claim] = value.clone();
            cl
        });
        let e = c
            .complete(REDIRECT_URI, &pending, &callback(&pending))
            .unwrap_err();
        assert!(matches!(e, AuthError::Unavailable(_)), "{claim}: {e:?}");
        assert!(msg(&e).contains(words), "{claim}: {e:?}");
    }
}

#[test]
fn refresh_keeps_the_old_refresh_token_when_none_comes_back() {
    let mut host = FakeHost::microsoft();
    host.token_answer(json_response(200, &token_json(None, None)));
    let mut c = Client::new(host, config_with(CLIENT_SECRET));
    let tokens = c.refresh(REFRESH_TOKEN).unwrap();
    assert_eq!(tokens.access_token, ACCESS_TOKEN);
    assert_eq!(tokens.refresh_token.as_deref(), Some(REFRESH_TOKEN));
    assert_eq!(tokens.id_token, None);
    assert_eq!(tokens.expires_at, NOW_MS + 4_000_000);

    let requests = c.host().token_requests();
    assert_eq!(requests.len(), 1);
    let f = &requests[0].form;
    assert_eq!(f["grant_type"], "refresh_token");
    assert_eq!(f["refresh_token"], REFRESH_TOKEN);
    assert_eq!(f["client_id"], CLIENT_ID);
    assert_eq!(f["scope"], "openid profile email offline_access User.Read");
    assert_eq!(f["client_secret"], CLIENT_SECRET);
    assert_eq!(f.len(), 5);
    no_secrets_logged(c.host());
}

#[test]
fn refresh_takes_a_rotated_refresh_token_and_checks_a_new_id_token() {
    let mut host = FakeHost::microsoft();
    let mut cl = claims("");
    cl.as_object_mut().unwrap().remove("nonce");
    let id = jwt(&cl);
    host.token_answer(json_response(
        200,
        &token_json(Some(id.clone()), Some("rotated")),
    ));
    let tokens = client(host).refresh(REFRESH_TOKEN).unwrap();
    assert_eq!(tokens.refresh_token.as_deref(), Some("rotated"));
    assert_eq!(tokens.id_token.as_deref(), Some(id.as_str()));

    let mut host = FakeHost::microsoft();
    cl["aud"] = "someone-else".into();
    host.token_answer(json_response(200, &token_json(Some(jwt(&cl)), None)));
    let e = client(host).refresh(REFRESH_TOKEN).unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
}

#[test]
fn a_revoked_refresh_token_is_rejected() {
    let mut host = FakeHost::microsoft();
    host.token_answer(json_response(
        400,
        &json!({
            "error": "invalid_grant",
            "error_description": "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.",
        }),
    ));
    let mut c = client(host);
    let e = c.refresh(REFRESH_TOKEN).unwrap_err();
    assert!(matches!(e, AuthError::Rejected(_)), "{e:?}");
    assert_eq!(
        msg(&e),
        "The provider no longer accepts the saved sign-in (invalid_grant: AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.). Click Retry to connect again."
    );
    no_secrets_logged(c.host());

    let mut host = FakeHost::microsoft();
    host.token_answer(json_response(
        400,
        &json!({"error": "interaction_required"}),
    ));
    let e = client(host).refresh(REFRESH_TOKEN).unwrap_err();
    assert_eq!(
        msg(&e),
        "The provider no longer accepts the saved sign-in (interaction_required). Click Retry to connect again."
    );

    let e = client(FakeHost::microsoft()).refresh("").unwrap_err();
    assert!(matches!(e, AuthError::Rejected(_)), "{e:?}");
}

#[test]
fn an_unreachable_provider_is_unavailable() {
    let mut host = FakeHost::new();
    host.route(
        "GET",
        DISCOVERY_URL,
        Err(HttpError::Network(
            "https://login.example.com:443: connection refused".into(),
        )),
    );
    let mut c = client(host);
    let e = c.start(REDIRECT_URI).unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
    assert_eq!(
        msg(&e),
        "Cannot reach login.example.com: https://login.example.com:443: connection refused"
    );
    assert!(c.host().logs.iter().any(|l| l.starts_with("warn: start")));

    let mut host = FakeHost::new();
    host.route("GET", DISCOVERY_URL, Err(HttpError::Timeout));
    let e = client(host).refresh(REFRESH_TOKEN).unwrap_err();
    assert_eq!(
        msg(&e),
        "Cannot reach login.example.com: no answer in time."
    );

    let mut host = FakeHost::microsoft();
    host.token_answer(Err(HttpError::TooLarge(1 << 20)));
    let e = client(host).refresh(REFRESH_TOKEN).unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");

    for (status, kind) in [
        (503u16, "unavailable"),
        (400, "misconfigured"),
        (404, "misconfigured"),
    ] {
        let mut host = FakeHost::new();
        host.route(
            "GET",
            DISCOVERY_URL,
            json_response(status, &json!({"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant 'common' not found."})),
        );
        let e = client(host).start(REDIRECT_URI).unwrap_err();
        match (kind, &e) {
            ("unavailable", AuthError::Unavailable(_)) => {}
            ("misconfigured", AuthError::Misconfigured(m)) => {
                assert!(m.contains("AADSTS90002"), "{m}");
                assert!(m.contains("`authority` and `tenant`"), "{m}");
            }
            _ => panic!("HTTP {status}: {e:?}"),
        }
    }

    let mut host = FakeHost::new();
    host.route("GET", DISCOVERY_URL, raw_response(200, "<html></html>"));
    let e = client(host).start(REDIRECT_URI).unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
}

#[test]
fn a_denied_host_is_passed_through_verbatim() {
    let denial = "plugin `microsoft-teams` may not reach https://login.example.com:443: add \"https://login.example.com:443\" to `allowed_hosts` of its [[collaboration]] entry in the host config";
    let mut host = FakeHost::new();
    host.route("GET", DISCOVERY_URL, Err(HttpError::Denied(denial.into())));
    let e = client(host).start(REDIRECT_URI).unwrap_err();
    assert!(matches!(e, AuthError::Misconfigured(_)), "{e:?}");
    assert_eq!(msg(&e), denial);

    // The same passthrough for the token endpoint.
    let mut host = FakeHost::microsoft();
    host.token_answer(Err(HttpError::Denied(denial.into())));
    let e = client(host).refresh(REFRESH_TOKEN).unwrap_err();
    assert_eq!(msg(&e), denial);

    let mut host = FakeHost::new();
    host.route(
        "GET",
        DISCOVERY_URL,
        Err(HttpError::InvalidUrl("bad".into())),
    );
    let e = client(host).start(REDIRECT_URI).unwrap_err();
    assert!(matches!(e, AuthError::Misconfigured(_)), "{e:?}");
}

#[test]
fn an_empty_client_id_is_misconfigured() {
    for client_id in ["", "   "] {
        let settings = Settings {
            client_id: client_id.into(),
            ..Settings::default()
        };
        let e = settings.config().unwrap_err();
        assert!(matches!(e, AuthError::Misconfigured(_)), "{e:?}");
        assert_eq!(
            msg(&e),
            "Microsoft Teams is not set up: client_id is empty. Set it under the collaboration plugin's settings in the host config."
        );
    }
    // The defaults, as the host fills them in, are not set up either.
    let parsed: Settings = deskhost_sdk::parse_settings(Vec::<Setting>::new()).unwrap();
    assert_eq!(msg(&parsed.config().unwrap_err()), NOT_SET_UP);
}

#[test]
fn other_bad_settings_are_misconfigured() {
    let ok = || Settings {
        client_id: CLIENT_ID.into(),
        ..Settings::default()
    };
    let cases = [
        Settings {
            authority: "login.microsoftonline.com".into(),
            ..ok()
        },
        Settings {
            authority: "ftp://login.example.com".into(),
            ..ok()
        },
        Settings {
            authority: "https://".into(),
            ..ok()
        },
        Settings {
            tenant: "".into(),
            ..ok()
        },
        Settings {
            tenant: "a/b".into(),
            ..ok()
        },
        Settings {
            tenant: "a b".into(),
            ..ok()
        },
        Settings {
            scopes: vec!["profile".into(), "User.Read".into()],
            ..ok()
        },
        Settings {
            scopes: Vec::new(),
            ..ok()
        },
    ];
    for s in cases {
        let e = s.config().unwrap_err();
        assert!(matches!(e, AuthError::Misconfigured(_)), "{s:?}: {e:?}");
    }
    // Scopes may be written space-separated in one entry.
    let c = Settings {
        scopes: vec!["openid offline_access".into(), " Chat.Read ".into()],
        ..ok()
    }
    .config()
    .unwrap();
    assert_eq!(c.scope(), "openid offline_access Chat.Read");
    assert_eq!(ok().config().unwrap().client_secret, None);
    assert_eq!(
        ok().config().unwrap().authority,
        "https://login.microsoftonline.com"
    );
}

#[test]
fn status_follows_the_expiry() {
    let tokens = Tokens {
        access_token: ACCESS_TOKEN.into(),
        refresh_token: Some(REFRESH_TOKEN.into()),
        id_token: None,
        expires_at: NOW_MS,
        scope: "openid".into(),
    };
    assert!(matches!(status(&tokens, NOW_MS - 1), Status::Success));
    assert!(matches!(status(&tokens, NOW_MS), Status::Expired));
    assert!(matches!(status(&tokens, NOW_MS + 1), Status::Expired));
    // Through the plugin, whatever the settings.
    assert!(matches!(
        MicrosoftTeams::status(Settings::default(), tokens.clone(), NOW_MS - 1),
        Status::Success
    ));
    assert!(matches!(
        MicrosoftTeams::status(Settings::default(), tokens, NOW_MS + 1),
        Status::Expired
    ));
}

fn stored_tokens(refresh: Option<&str>) -> Tokens {
    Tokens {
        access_token: ACCESS_TOKEN.into(),
        refresh_token: refresh.map(str::to_owned),
        id_token: None,
        expires_at: NOW_MS + 1000,
        scope: "openid".into(),
    }
}

#[test]
fn disconnect_without_a_revocation_endpoint_only_forgets() {
    let mut c = client(FakeHost::microsoft());
    c.disconnect(&stored_tokens(Some(REFRESH_TOKEN))).unwrap();
    assert_eq!(c.host().seen.len(), 1, "discovery only");
}

#[test]
fn disconnect_revokes_where_the_provider_can() {
    let revoking = || {
        let mut host = FakeHost::new();
        host.route(
            "GET",
            DISCOVERY_URL,
            json_response(200, &discovery_json(Some(REVOKE_URL))),
        );
        host
    };
    let mut host = revoking();
    host.route("POST", REVOKE_URL, raw_response(200, ""));
    let mut c = Client::new(host, config_with(CLIENT_SECRET));
    c.disconnect(&stored_tokens(Some(REFRESH_TOKEN))).unwrap();
    let r = c.host().seen.last().unwrap();
    assert_eq!(r.url, REVOKE_URL);
    assert_eq!(r.form["token"], REFRESH_TOKEN);
    assert_eq!(r.form["token_type_hint"], "refresh_token");
    assert_eq!(r.form["client_id"], CLIENT_ID);
    assert_eq!(r.form["client_secret"], CLIENT_SECRET);
    no_secrets_logged(c.host());

    let mut host = revoking();
    host.route("POST", REVOKE_URL, raw_response(200, ""));
    let mut c = client(host);
    c.disconnect(&stored_tokens(None)).unwrap();
    let r = c.host().seen.last().unwrap();
    assert_eq!(r.form["token"], ACCESS_TOKEN);
    assert_eq!(r.form["token_type_hint"], "access_token");
    assert!(!r.form.contains_key("client_secret"));

    let mut host = revoking();
    host.route(
        "POST",
        REVOKE_URL,
        json_response(503, &json!({"error": "temporarily_unavailable"})),
    );
    let e = client(host)
        .disconnect(&stored_tokens(Some(REFRESH_TOKEN)))
        .unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
    assert!(
        msg(&e).contains("HTTP 503: temporarily_unavailable"),
        "{e:?}"
    );

    let mut host = revoking();
    host.route("POST", REVOKE_URL, Err(HttpError::Timeout));
    let e = client(host)
        .disconnect(&stored_tokens(Some(REFRESH_TOKEN)))
        .unwrap_err();
    assert!(matches!(e, AuthError::Unavailable(_)), "{e:?}");
}

#[test]
fn messages_name_the_host_only() {
    assert_eq!(
        host_of("https://login.example.com/common/x?y#z"),
        "login.example.com"
    );
    assert_eq!(host_of("http://127.0.0.1:4000"), "127.0.0.1:4000");
    assert_eq!(
        host_of("https://user:pw@idp.example.com/x"),
        "idp.example.com"
    );
}

#[test]
fn settings_debug_hides_the_secret() {
    let s = Settings {
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        ..Settings::default()
    };
    assert!(!format!("{s:?}").contains(CLIENT_SECRET));
    assert!(!format!("{:?}", s.config().unwrap()).contains(CLIENT_SECRET));
}

#[test]
fn metadata_declares_every_setting_with_its_default() {
    let m = MicrosoftTeams::metadata();
    assert_eq!(m.id, ID);
    assert_eq!(m.version, env!("CARGO_PKG_VERSION"));
    let manifest = include_str!("../plugin.toml");
    assert!(manifest.contains(&format!("id = \"{ID}\"")));
    assert!(manifest.contains(&format!("version = \"{}\"", env!("CARGO_PKG_VERSION"))));
    assert!(manifest.contains("kind = \"collaboration-auth\""));

    let names: Vec<&str> = m.settings.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "authority",
            "tenant",
            "client_id",
            "client_secret",
            "scopes"
        ]
    );
    for s in &m.settings {
        assert!(!s.doc.is_empty(), "{} has no doc", s.name);
        assert!(!s.required, "{} has a default", s.name);
        let kind_ok = matches!(
            (&s.kind, &s.default),
            (SettingKind::Text, Some(SettingValue::Text(_)))
                | (SettingKind::TextList, Some(SettingValue::TextList(_)))
        );
        assert!(kind_ok, "{}: {:?} / {:?}", s.name, s.kind, s.default);
    }
    let default_of = |name: &str| {
        m.settings
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .default
            .clone()
            .unwrap()
    };
    assert!(
        matches!(default_of("authority"), SettingValue::Text(t) if t == "https://login.microsoftonline.com")
    );
    assert!(matches!(default_of("tenant"), SettingValue::Text(t) if t == "common"));
    assert!(matches!(default_of("client_id"), SettingValue::Text(t) if t.is_empty()));
    assert!(matches!(default_of("client_secret"), SettingValue::Text(t) if t.is_empty()));
    assert!(matches!(default_of("scopes"), SettingValue::TextList(l) if l == DEFAULT_SCOPES));

    // The declared defaults parse into the same settings as serde's.
    let declared: Vec<Setting> = m
        .settings
        .iter()
        .map(|s| Setting {
            name: s.name.clone(),
            value: s.default.clone().unwrap(),
        })
        .collect();
    let parsed: Settings = deskhost_sdk::parse_settings(declared).unwrap();
    assert_eq!(format!("{parsed:?}"), format!("{:?}", Settings::default()));
}

#[test]
fn a_callback_naming_another_issuer_is_a_mismatch() {
    let issuer = format!("{AUTHORITY}/common/v2.0");
    let provider = || {
        let mut host = FakeHost::new();
        let mut d = discovery_json(None);
        d["issuer"] = issuer.clone().into();
        d["authorization_response_iss_parameter_supported"] = true.into();
        host.route("GET", DISCOVERY_URL, json_response(200, &d));
        host
    };
    let same_issuer = |nonce: &str| {
        let mut cl = claims(nonce);
        cl["iss"] = issuer.clone().into();
        cl
    };
    // The right `iss` (RFC 9207) goes through.
    let (mut c, pending) = started(client(provider()), same_issuer);
    let mut answer = callback(&pending);
    answer.push(("iss".into(), issuer.clone()));
    assert!(c.complete(REDIRECT_URI, &pending, &answer).is_ok());

    for named in [vec!["https://evil.example.com"], vec![issuer.as_str(), "x"]] {
        let (mut c, pending) = started(client(provider()), same_issuer);
        let mut answer = callback(&pending);
        answer.extend(named.iter().map(|i| ("iss".to_string(), i.to_string())));
        let e = c.complete(REDIRECT_URI, &pending, &answer).unwrap_err();
        assert!(matches!(e, AuthError::Mismatch(_)), "{e:?}");
        assert_eq!(msg(&e), ISSUER_MISMATCH);
        assert!(c.host().token_requests().is_empty());
    }
}
