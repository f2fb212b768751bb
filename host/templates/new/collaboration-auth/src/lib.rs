//! {{title}}: a deskhost collaboration auth plugin. It connects desktop
//! users to a tool behind an OAuth 2.0 / OpenID Connect authority, with the
//! authorization code flow and PKCE (S256).
//!
//! - The endpoints come from discovery, at
//!   `{authority}/.well-known/openid-configuration`.
//! - `start` makes a random state, nonce and PKCE verifier, and the
//!   authorization URL; the host keeps them (server side) for `complete`.
//! - `complete` checks the callback (error, state in constant time),
//!   redeems the code with the verifier, and reads the account from the ID
//!   token after checking its issuer, audience, nonce and expiry.
//! - `refresh` redeems a refresh token; the old one is kept when the
//!   provider sends no new one.
//! - `status` says whether the access token has expired.
//! - `disconnect` revokes nothing: the host forgets the tokens and they
//!   lapse. Call the provider's revocation endpoint (RFC 7009) here if it
//!   has one.
//!
//! The plugin stores nothing and never logs a token, a code or a secret.
//!
//! Settings (the plugin's `[[collaboration]]` entry in the host config):
//! - `authority` (text, default empty): the issuer's URL, such as
//!   `https://login.example.com/realms/acme`;
//! - `client_id` (text, default empty) and `client_secret` (text, default
//!   empty: a public client);
//! - `scopes` (text list, default `openid`, `profile`, `email`,
//!   `offline_access`).
//!
//! Capabilities: `http`, to the authority's origin (the admin lists it in
//! `allowed_hosts`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deskhost_sdk::capability::clock;
use deskhost_sdk::collaboration::http::{self, Header, HttpError, Request, Response};
use deskhost_sdk::collaboration::{
    Account, AuthError, Authorization, CollaborationAuth, Connection, Status, Tokens,
};
use deskhost_sdk::{Metadata, SettingSpec};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Plugin id, as in `plugin.toml`.
pub const ID: &str = "{{name}}";

/// Lifetime assumed for an access token whose response has no `expires_in`.
const DEFAULT_EXPIRES_IN: u64 = 3600;

/// Settings, from the host config (defaults filled in). No `Debug`: it
/// holds the client secret.
#[derive(Deserialize)]
pub struct Settings {
    /// The issuer's URL.
    pub authority: String,
    /// The client (application) id registered at the authority.
    pub client_id: String,
    /// The client secret; empty for a public client.
    pub client_secret: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
}

impl Settings {
    /// Refuses settings that cannot work.
    pub fn checked(self) -> Result<Self, AuthError> {
        if self.authority.trim().is_empty() || self.client_id.trim().is_empty() {
            return Err(AuthError::Misconfigured(format!(
                "Set `authority` and `client_id` in the settings of the `{ID}` [[collaboration]] entry."
            )));
        }
        Ok(self)
    }

    /// Where the OpenID configuration is.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.authority.trim().trim_end_matches('/')
        )
    }
}

/// The part of the OpenID configuration used here.
#[derive(Debug, Deserialize)]
pub struct Discovery {
    /// Issuer of the ID tokens.
    pub issuer: String,
    /// Where the browser signs in and consents.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are redeemed.
    pub token_endpoint: String,
}

/// A token endpoint's answer (RFC 6749 section 5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

/// The `aud` claim: one audience or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// The claims of an ID token used here.
#[derive(Debug, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user's id at the provider.
    pub sub: String,
    /// Audience: must include our client id.
    pub aud: Audience,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// The nonce of the authorization.
    #[serde(default)]
    pub nonce: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// The PKCE S256 code challenge of a verifier (RFC 7636 section 4.2).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `got` is `expected`, in constant time; never for an empty one.
fn same(got: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(got.as_bytes().ct_eq(expected.as_bytes()))
}

/// The value of a callback parameter given exactly once.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = params.iter().filter(|(k, _)| k == name);
    match (values.next(), values.next()) {
        (Some((_, v)), None) => Some(v.as_str()),
        _ => None,
    }
}

/// The URL the browser is sent to.
pub fn authorization_url(
    settings: &Settings,
    discovery: &Discovery,
    redirect_uri: &str,
    pending: &Authorization,
) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &settings.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &settings.scopes.join(" "))
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &code_challenge(&pending.code_verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    let endpoint = &discovery.authorization_endpoint;
    let separator = if endpoint.contains('?') { "&" } else { "?" };
    format!("{endpoint}{separator}{query}")
}

/// Reads the claims of an ID token.
pub fn read_claims(id_token: &str) -> Result<Claims, AuthError> {
    let unreadable = || AuthError::Unavailable("The provider sent an unreadable ID token.".into());
    let payload = id_token.split('.').nth(1).ok_or_else(unreadable)?;
    let json = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| unreadable())?;
    serde_json::from_slice(&json).map_err(|_| unreadable())
}

/// Checks an ID token's claims (OpenID Connect Core 3.1.3.7). The
/// signature is not checked: the token comes straight from the token
/// endpoint over TLS, which step 6 of 3.1.3.7 accepts instead.
pub fn check_claims(
    claims: &Claims,
    issuer: &str,
    client_id: &str,
    nonce: Option<&str>,
    now_s: u64,
) -> Result<(), AuthError> {
    let audience_ok = match &claims.aud {
        Audience::One(a) => a == client_id,
        Audience::Many(all) => all.iter().any(|a| a == client_id),
    };
    if claims.iss != issuer || !audience_ok || claims.sub.is_empty() {
        return Err(AuthError::Unavailable(
            "The provider sent an ID token from another issuer or for another application.".into(),
        ));
    }
    if let Some(expected) = nonce
        && !same(claims.nonce.as_deref().unwrap_or_default(), expected)
    {
        return Err(AuthError::Mismatch(
            "The ID token does not belong to this sign-in (nonce). Click Retry.".into(),
        ));
    }
    // Five minutes of clock skew.
    if claims.exp + 300 <= now_s {
        return Err(AuthError::Unavailable(
            "The provider sent an expired ID token: check the host's clock.".into(),
        ));
    }
    Ok(())
}

/// 32 random bytes, base64url.
fn random() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Unavailable(format!("No randomness available: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Sends a request through the host (only to the allowed hosts).
fn send(method: &str, url: &str, form: Option<String>) -> Result<Response, AuthError> {
    let mut headers = vec![Header {
        name: "Accept".into(),
        value: "application/json".into(),
    }];
    if form.is_some() {
        headers.push(Header {
            name: "Content-Type".into(),
            value: "application/x-www-form-urlencoded".into(),
        });
    }
    http::send(&Request {
        method: method.into(),
        url: url.into(),
        headers,
        body: form.map(String::into_bytes),
    })
    .map_err(|e| match e {
        // The host's message names the host and the setting to add.
        HttpError::Denied(m) => AuthError::Misconfigured(m),
        HttpError::InvalidUrl(m) => AuthError::Misconfigured(format!("Bad URL {url}: {m}")),
        HttpError::Timeout => AuthError::Unavailable(format!("No answer from {url} in time.")),
        HttpError::Network(m) => AuthError::Unavailable(format!("Cannot reach {url}: {m}")),
        HttpError::TooLarge(n) => {
            AuthError::Unavailable(format!("The answer of {url} is over {n} bytes."))
        }
    })
}

fn discover(settings: &Settings) -> Result<Discovery, AuthError> {
    let url = settings.discovery_url();
    let response = send("GET", &url, None)?;
    if !(200..300).contains(&response.status) {
        return Err(AuthError::Misconfigured(format!(
            "No OpenID configuration at {url} (HTTP {}): check `authority`.",
            response.status
        )));
    }
    serde_json::from_slice(&response.body).map_err(|_| {
        AuthError::Unavailable(format!("The OpenID configuration at {url} cannot be read."))
    })
}

/// Posts a token request (with the client's credentials) and reads the answer.
fn token_request(
    settings: &Settings,
    discovery: &Discovery,
    pairs: &[(&str, &str)],
) -> Result<TokenResponse, AuthError> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs)
        .append_pair("client_id", &settings.client_id);
    if !settings.client_secret.is_empty() {
        form.append_pair("client_secret", &settings.client_secret);
    }
    let response = send("POST", &discovery.token_endpoint, Some(form.finish()))?;
    match response.status {
        200..=299 => serde_json::from_slice::<TokenResponse>(&response.body)
            .ok()
            .filter(|t| !t.access_token.is_empty())
            .ok_or_else(|| AuthError::Unavailable("The token response cannot be read.".into())),
        400..=499 => {
            #[derive(Deserialize)]
            struct OAuthError {
                error: String,
            }
            let error = serde_json::from_slice::<OAuthError>(&response.body)
                .map_or_else(|_| format!("HTTP {}", response.status), |e| e.error);
            Err(AuthError::Rejected(format!(
                "The provider refused the request ({error}). Click Retry to connect again."
            )))
        }
        status => Err(AuthError::Unavailable(format!(
            "The token endpoint answered HTTP {status}. Try again later."
        ))),
    }
}

fn tokens(settings: &Settings, t: TokenResponse, old_refresh: Option<&str>, now_ms: u64) -> Tokens {
    let expires_in = t.expires_in.unwrap_or(DEFAULT_EXPIRES_IN);
    Tokens {
        access_token: t.access_token,
        refresh_token: t
            .refresh_token
            .filter(|r| !r.is_empty())
            .or(old_refresh.map(String::from)),
        id_token: t.id_token.filter(|i| !i.is_empty()),
        expires_at: now_ms.saturating_add(expires_in.saturating_mul(1000)),
        scope: t.scope.unwrap_or_else(|| settings.scopes.join(" ")),
    }
}

/// The plugin.
pub struct {{type}};

impl CollaborationAuth for {{type}} {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata::new(ID, "{{title}}", env!("CARGO_PKG_VERSION"))
            .description("OAuth 2.0 / OpenID Connect, authorization code flow with PKCE.")
            .setting(
                SettingSpec::text("authority", "The issuer's URL; discovery is at {authority}/.well-known/openid-configuration.")
                    .default_text(""),
            )
            .setting(
                SettingSpec::text("client_id", "The client id registered at the authority.")
                    .default_text(""),
            )
            .setting(
                SettingSpec::text("client_secret", "The client secret; empty for a public client.")
                    .default_text(""),
            )
            .setting(
                SettingSpec::text_list("scopes", "Scopes to ask for; `openid` is needed.")
                    .default_list(&["openid", "profile", "email", "offline_access"]),
            )
    }

    fn start(settings: Settings, redirect_uri: &str) -> Result<Authorization, AuthError> {
        let settings = settings.checked()?;
        let discovery = discover(&settings)?;
        let mut pending = Authorization {
            url: String::new(),
            state: random()?,
            code_verifier: random()?,
            nonce: random()?,
        };
        pending.url = authorization_url(&settings, &discovery, redirect_uri, &pending);
        Ok(pending)
    }

    fn complete(
        settings: Settings,
        redirect_uri: &str,
        pending: Authorization,
        params: Vec<(String, String)>,
    ) -> Result<Connection, AuthError> {
        let settings = settings.checked()?;
        if let Some(error) = param(&params, "error") {
            return Err(if error == "access_denied" {
                AuthError::Denied("Consent was refused at the provider.".into())
            } else {
                AuthError::Rejected(format!("The provider answered with an error: {error}."))
            });
        }
        match param(&params, "state") {
            Some(state) if same(state, &pending.state) => {}
            _ => {
                return Err(AuthError::Mismatch(
                    "The answer does not belong to this sign-in (state). Click Retry.".into(),
                ));
            }
        }
        let code = param(&params, "code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| AuthError::Mismatch("The provider sent no code. Click Retry.".into()))?;
        let discovery = discover(&settings)?;
        let token = token_request(
            &settings,
            &discovery,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &pending.code_verifier),
            ],
        )?;
        let claims = read_claims(token.id_token.as_deref().unwrap_or_default())?;
        let now_ms = clock::now_ms();
        check_claims(
            &claims,
            &discovery.issuer,
            &settings.client_id,
            Some(&pending.nonce),
            now_ms / 1000,
        )?;
        Ok(Connection {
            tokens: tokens(&settings, token, None, now_ms),
            account: Account {
                name: claims.name.unwrap_or_default(),
                email: claims.email.unwrap_or_default(),
                subject: claims.sub,
            },
        })
    }

    fn refresh(settings: Settings, refresh_token: &str) -> Result<Tokens, AuthError> {
        let settings = settings.checked()?;
        if refresh_token.is_empty() {
            return Err(AuthError::Rejected(
                "There is no saved sign-in to renew. Click Retry to connect again.".into(),
            ));
        }
        let discovery = discover(&settings)?;
        let token = token_request(
            &settings,
            &discovery,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )?;
        Ok(tokens(
            &settings,
            token,
            Some(refresh_token),
            clock::now_ms(),
        ))
    }

    fn status(_settings: Settings, tokens: Tokens, now_ms: u64) -> Status {
        if tokens.access_token.is_empty() {
            Status::NotConnected
        } else if tokens.expires_at <= now_ms {
            Status::Expired
        } else {
            Status::Success
        }
    }

    fn disconnect(_settings: Settings, _tokens: Tokens) -> Result<(), AuthError> {
        Ok(())
    }
}

deskhost_sdk::export_collaboration_auth!({{type}});

#[cfg(test)]
mod tests {
    use super::*;
    use deskhost_sdk::parse_settings;
    use deskhost_sdk::testing::default_setting_list;

    fn defaults() -> Settings {
        parse_settings(default_setting_list(&{{type}}::metadata())).unwrap()
    }

    fn claims(json: &str) -> Claims {
        let token = format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(json));
        read_claims(&token).unwrap()
    }

    #[test]
    fn metadata_agrees_with_plugin_toml() {
        let manifest = include_str!("../plugin.toml");
        let m = {{type}}::metadata();
        assert!(manifest.contains(&format!("id = \"{}\"", m.id)));
        assert!(manifest.contains(&format!("version = \"{}\"", m.version)));
        assert!(manifest.contains("kind = \"collaboration-auth\""));
        assert!(manifest.contains("capabilities = [\"http\"]"));
        assert!(m.settings.iter().all(|s| !s.doc.is_empty()));
    }

    #[test]
    fn defaults_parse_and_ask_for_the_authority() {
        let s = defaults();
        assert_eq!(s.scopes, ["openid", "profile", "email", "offline_access"]);
        assert!(matches!(s.checked(), Err(AuthError::Misconfigured(m)) if m.contains("authority")));
    }

    #[test]
    fn pkce_challenge_is_rfc_7636s() {
        // RFC 7636, appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn the_authorization_url_carries_state_nonce_and_challenge() {
        let s = Settings {
            authority: "https://login.example.com".into(),
            client_id: "desk".into(),
            ..defaults()
        };
        let d = Discovery {
            issuer: "https://login.example.com".into(),
            authorization_endpoint: "https://login.example.com/authorize".into(),
            token_endpoint: "https://login.example.com/token".into(),
        };
        let pending = Authorization {
            url: String::new(),
            state: "st".into(),
            code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            nonce: "no".into(),
        };
        let url = authorization_url(&s, &d, "https://desk/cb", &pending);
        assert!(url.starts_with("https://login.example.com/authorize?response_type=code&client_id=desk&redirect_uri=https%3A%2F%2Fdesk%2Fcb&scope=openid+profile+email+offline_access"), "{url}");
        assert!(url.contains("&state=st&nonce=no&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"), "{url}");
    }

    #[test]
    fn id_tokens_are_checked() {
        let ok = claims(r#"{"iss":"https://i","sub":"u1","aud":["desk"],"exp":2000,"nonce":"n"}"#);
        assert!(check_claims(&ok, "https://i", "desk", Some("n"), 1000).is_ok());
        assert!(matches!(
            check_claims(&ok, "https://i", "desk", Some("other"), 1000),
            Err(AuthError::Mismatch(_))
        ));
        assert!(check_claims(&ok, "https://evil", "desk", Some("n"), 1000).is_err());
        assert!(check_claims(&ok, "https://i", "other-app", Some("n"), 1000).is_err());
        assert!(check_claims(&ok, "https://i", "desk", Some("n"), 5000).is_err());
    }
}
