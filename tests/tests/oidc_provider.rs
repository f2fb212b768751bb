//! The OpenID provider harness (`deskhost_e2e::oidc`) against a plain
//! relying party written here: discovery, the code flow with PKCE, token
//! exchange with `client_secret_post`, refresh token rotation, revocation,
//! and what restarting or stopping the provider does.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deskhost_e2e::oidc::{Consent, OidcProvider};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Never fetched: `authorize` stops at the redirect.
const REDIRECT_URI: &str = "http://127.0.0.1:1/callback";
const SCOPE: &str = "openid profile email offline_access";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn random(len: usize) -> String {
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        bytes.extend_from_slice(&rand_u64().to_le_bytes());
    }
    bytes.truncate(len);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// One authorization request of the relying party.
struct Request {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

async fn discovery(op: &OidcProvider) -> Value {
    let response = http().get(op.discovery_url()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

async fn authorization_request(op: &OidcProvider, scope: &str) -> Request {
    let discovery = discovery(op).await;
    let verifier = random(48);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random(16);
    let nonce = random(16);
    let mut url = url::Url::parse(discovery["authorization_endpoint"].as_str().unwrap()).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", OidcProvider::client_id())
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", scope)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Request {
        url: url.to_string(),
        state,
        nonce,
        verifier,
    }
}

fn query(callback: &str) -> HashMap<String, String> {
    url::Url::parse(callback)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// POSTs a form to the token (or another) endpoint with the client's
/// credentials in the body; returns the status and the JSON body.
async fn post(op: &OidcProvider, endpoint: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    fields.push(("client_id", OidcProvider::client_id()));
    fields.push(("client_secret", OidcProvider::client_secret()));
    let url = discovery(op).await[endpoint].as_str().unwrap().to_owned();
    let response = http().post(url).form(&fields).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

async fn exchange(op: &OidcProvider, code: &str, verifier: &str) -> (u16, Value) {
    post(
        op,
        "token_endpoint",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(op: &OidcProvider, refresh_token: &str) -> (u16, Value) {
    post(
        op,
        "token_endpoint",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// Signs in, consents and exchanges the code: the token response.
async fn sign_in(op: &OidcProvider, scope: &str) -> (Request, Value) {
    let request = authorization_request(op, scope).await;
    let callback = op.authorize(&request.url, Consent::Grant).await;
    let params = query(&callback);
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {callback}"));
    let (status, tokens) = exchange(op, code, &request.verifier).await;
    assert_eq!(status, 200, "{tokens}");
    (request, tokens)
}

fn jwt_payload(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("not a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn userinfo(op: &OidcProvider, access_token: &str) -> (u16, String) {
    let url = discovery(op).await["userinfo_endpoint"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = http()
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn discovery_follows_the_microsoft_layout() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);
    assert_eq!(OidcProvider::tenant(), "common");
    assert_eq!(op.issuer(), format!("{}/common/v2.0", op.authority()));
    assert!(op.authority().starts_with("http://127.0.0.1:"));

    let doc = discovery(&op).await;
    let issuer = op.issuer();
    assert_eq!(doc["issuer"], issuer.as_str());
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ] {
        let url = doc[endpoint]
            .as_str()
            .unwrap_or_else(|| panic!("{endpoint}: {doc}"));
        assert!(url.starts_with(&format!("{issuer}/")), "{endpoint}: {url}");
    }
    let has = |field: &str, value: &str| {
        doc[field]
            .as_array()
            .unwrap_or_else(|| panic!("{field}: {doc}"))
            .iter()
            .any(|v| v == value)
    };
    assert!(has("code_challenge_methods_supported", "S256"));
    assert!(has(
        "token_endpoint_auth_methods_supported",
        "client_secret_post"
    ));
    assert!(has("response_types_supported", "code"));
    assert!(has("grant_types_supported", "authorization_code"));
    assert!(has("grant_types_supported", "refresh_token"));
    for scope in SCOPE.split(' ') {
        assert!(has("scopes_supported", scope), "{scope}");
    }
    for claim in ["sub", "name", "email"] {
        assert!(has("claims_supported", claim), "{claim}");
    }

    let jwks = http()
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let jwks: Value = serde_json::from_str(&jwks.text().await.unwrap()).unwrap();
    assert!(!jwks["keys"].as_array().unwrap().is_empty(), "{jwks}");
}

#[tokio::test]
async fn code_flow_with_pkce_then_refresh_rotates() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);
    let request = authorization_request(&op, SCOPE).await;
    let callback = op.authorize(&request.url, Consent::Grant).await;
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    let params = query(&callback);
    assert_eq!(params["state"], request.state);
    assert_eq!(params["iss"], op.issuer());
    let code = &params["code"];

    let (status, tokens) = exchange(&op, code, &request.verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().expect("a refresh token");
    let claims = jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["iss"], op.issuer());
    assert_eq!(claims["aud"], OidcProvider::client_id());
    assert_eq!(claims["sub"], "lee");
    assert_eq!(claims["name"], "Lee Lead");
    assert_eq!(claims["email"], "lee@teams.example.com");
    assert_eq!(claims["nonce"], request.nonce.as_str());
    let scopes: Vec<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    for scope in SCOPE.split(' ') {
        assert!(scopes.contains(&scope), "{tokens}");
    }
    assert_eq!(
        op.grants_when(|g| !g.is_empty()).await,
        ["grant authorization_code"]
    );

    // The access token works at the userinfo endpoint.
    let (status, info) = userinfo(&op, access).await;
    assert_eq!(status, 200, "{info}");
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["name"], "Lee Lead");

    // Refresh: new access and refresh tokens, and an ID token.
    let (status, refreshed) = refresh(&op, refresh_token).await;
    assert_eq!(status, 200, "{refreshed}");
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, refresh_token, "rotated");
    assert_ne!(refreshed["access_token"], tokens["access_token"]);
    assert_eq!(
        jwt_payload(refreshed["id_token"].as_str().unwrap())["name"],
        "Lee Lead"
    );
    let (status, info) = userinfo(&op, refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{info}");

    // The rotated token again and again.
    let (status, again) = refresh(&op, new_refresh).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        op.grants_when(|g| g.len() >= 3).await,
        [
            "grant authorization_code",
            "grant refresh_token",
            "grant refresh_token"
        ]
    );

    // The same code again: invalid_grant, and (RFC 6749 4.1.2) every token
    // issued from it is revoked, refreshed ones included.
    let (status, error) = exchange(&op, code, &request.verifier).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    let (status, error) = refresh(&op, again["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    assert_eq!(op.grants().len(), 3);
}

#[tokio::test]
async fn pkce_is_required_and_checked() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);

    // Without a code challenge the provider sends the user back with an error.
    let request = authorization_request(&op, SCOPE).await;
    let mut url = url::Url::parse(&request.url).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !k.starts_with("code_challenge"))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let callback = op.authorize(url.as_str(), Consent::Grant).await;
    let params = query(&callback);
    assert_eq!(params["error"], "invalid_request", "{callback}");

    // A wrong verifier fails the exchange.
    let request = authorization_request(&op, SCOPE).await;
    let callback = op.authorize(&request.url, Consent::Grant).await;
    let (status, error) = exchange(&op, &query(&callback)["code"], &random(48)).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    assert!(op.grants().is_empty());
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_fails() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);
    let (_, tokens) = sign_in(&op, SCOPE).await;
    let first = tokens["refresh_token"].as_str().unwrap();
    let (status, refreshed) = refresh(&op, first).await;
    assert_eq!(status, 200, "{refreshed}");
    let (status, error) = refresh(&op, first).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    // Reuse is taken as theft: the whole grant is revoked, so the rotated
    // token is gone too.
    let (status, error) = refresh(&op, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
}

#[tokio::test]
async fn denied_consent_comes_back_as_access_denied() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);
    let request = authorization_request(&op, SCOPE).await;
    let callback = op.authorize(&request.url, Consent::Deny).await;
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    let params = query(&callback);
    assert_eq!(params["error"], "access_denied", "{callback}");
    assert_eq!(params["state"], request.state);
    assert!(!params.contains_key("code"));
    assert!(op.grants().is_empty());
}

#[tokio::test]
async fn microsoft_style_requests_work() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);
    // Graph scopes next to the OpenID ones, and Microsoft's "pick an
    // account" prompt.
    let scope = format!("{SCOPE} Chat.ReadWrite https://graph.microsoft.com/User.Read");
    let request = authorization_request(&op, &scope).await;
    let url = format!("{}&prompt=select_account", request.url);
    let callback = op.authorize(&url, Consent::Grant).await;
    let params = query(&callback);
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {callback}"));
    let (status, tokens) = exchange(&op, code, &request.verifier).await;
    assert_eq!(status, 200, "{tokens}");
    // Scopes the provider does not know are dropped, not refused.
    let granted: Vec<&str> = tokens["scope"].as_str().unwrap().split(' ').collect();
    assert!(granted.contains(&"offline_access"), "{tokens}");
    assert!(!granted.contains(&"Chat.ReadWrite"), "{tokens}");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    // Microsoft clients send the scope again when refreshing: fine too.
    let (status, refreshed) = post(
        &op,
        "token_endpoint",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("scope", &scope),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(refreshed["refresh_token"].is_string(), "{refreshed}");
}

#[tokio::test]
async fn revocation_is_logged_and_sticks() {
    let op = OidcProvider::start(REDIRECT_URI, 3600);
    let (_, tokens) = sign_in(&op, SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = post(
        &op,
        "revocation_endpoint",
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while op.revocations() == 0 {
        assert!(std::time::Instant::now() < deadline, "no `revoked` line");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(op.revocations(), 1);
    let (status, error) = refresh(&op, refresh_token).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    // Revoking the refresh token revokes the grant: its access token too.
    let (status, _) = userinfo(&op, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn short_access_tokens_expire() {
    // Four seconds: the provider counts from the start of the second it
    // issued the token in, so a shorter one can be over before the first
    // use on a busy machine.
    let op = OidcProvider::start(REDIRECT_URI, 4);
    let (_, tokens) = sign_in(&op, SCOPE).await;
    assert_eq!(tokens["expires_in"], 4, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _) = userinfo(&op, access).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let (status, body) = userinfo(&op, access).await;
    assert_eq!(status, 401, "{body}");
    // The refresh token outlives it.
    let (status, refreshed) = refresh(&op, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(refreshed["expires_in"], 4);
}

#[tokio::test]
async fn restart_forgets_tokens_and_stop_refuses_connections() {
    let mut op = OidcProvider::start(REDIRECT_URI, 3600);
    let (_, tokens) = sign_in(&op, SCOPE).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let port = op.port();
    let authority = op.authority();

    op.restart();
    assert_eq!(op.port(), port);
    assert_eq!(op.authority(), authority);
    let (status, error) = refresh(&op, refresh_token).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"], "invalid_grant");
    // The grant log survives the restart.
    assert_eq!(op.grants(), ["grant authorization_code"]);
    // And the restarted provider still signs people in.
    let (_, tokens) = sign_in(&op, SCOPE).await;
    assert!(tokens["refresh_token"].is_string());

    op.stop();
    assert!(!op.is_running());
    let error = http()
        .get(format!(
            "{authority}/common/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .expect_err("the provider is down");
    assert!(error.is_connect(), "{error:?}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    op.restart();
    assert_eq!(discovery(&op).await["issuer"], op.issuer().as_str());
}
