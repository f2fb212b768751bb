//! The OAuth 2.0 / OpenID Connect client itself, independent of the host:
//! discovery, the authorization URL with PKCE, the code and refresh token
//! grants, ID token checks and revocation, over a [`Host`]. The plugin
//! wires it to the `http`, `clock` and `log` imports and WASI random; the
//! unit tests to a fake provider with canned answers.
//!
//! Nothing here logs or returns a token, a code, a verifier or a secret in
//! a message: texts name hosts, OAuth error codes and the provider's own
//! error descriptions only.

use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use deskhost_sdk::collaboration::http::{Header, HttpError, Request, Response};
use deskhost_sdk::collaboration::{Account, AuthError, Authorization, Connection, Status, Tokens};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What `start`, `complete`, `refresh` and `disconnect` answer while the
/// `client_id` setting is empty.
pub const NOT_SET_UP: &str = "Microsoft Teams is not set up: client_id is empty. Set it under the collaboration plugin's settings in the host config.";

/// The callback's `state` is missing or is not the one of the pending
/// authorization.
pub const STATE_MISMATCH: &str =
    "The answer does not belong to this sign-in (state mismatch). Click Retry to start again.";

/// The ID token's `nonce` is missing or is not the one of the pending
/// authorization.
pub const NONCE_MISMATCH: &str =
    "The answer does not belong to this sign-in (nonce mismatch). Click Retry to start again.";

/// The callback's `iss` (RFC 9207) names another provider than the one
/// discovered.
pub const ISSUER_MISMATCH: &str =
    "The answer comes from another provider (issuer mismatch). Click Retry to start again.";

/// The callback carries neither an error nor a code.
pub const NO_CODE: &str = "The answer carries no authorization code. Click Retry to start again.";

/// Random bytes in a state, a nonce and a PKCE code verifier (which is
/// then 43 characters, the shortest RFC 7636 allows).
pub const RANDOM_BYTES: usize = 32;

/// Lifetime assumed for an access token when the provider does not say.
pub const DEFAULT_EXPIRES_IN: u64 = 3600;

/// Clock difference tolerated between the host and the provider when
/// checking an ID token's `exp`, in seconds.
pub const CLOCK_SKEW_SECONDS: u64 = 300;

/// Placeholder in the issuer of Microsoft's multi-tenant discovery
/// documents (`common`, `organizations`, `consumers`), standing for the
/// `tid` claim of each ID token.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Longest provider text (error description) repeated in a message.
const MAX_PROVIDER_TEXT: usize = 400;

/// What the client needs from the host: outbound HTTP, time, randomness
/// and the log.
pub trait Host {
    /// Sends a request (only to hosts the admin allows).
    fn send(&mut self, request: Request) -> Result<Response, HttpError>;
    /// Unix time in milliseconds.
    fn now_ms(&self) -> u64;
    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), String>;
    /// Logs at info level. Never pass a token, code or secret.
    fn log_info(&mut self, message: &str);
    /// Logs at warn level. Never pass a token, code or secret.
    fn log_warn(&mut self, message: &str);
}

/// Checked settings.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Base URL of the provider, without trailing slashes.
    pub authority: String,
    /// Tenant path segment (`common`, a tenant id or domain name).
    pub tenant: String,
    /// OAuth client id.
    pub client_id: String,
    /// Client secret, sent as `client_secret` (client_secret_post) when set.
    pub client_secret: Option<String>,
    /// Scopes asked for, one per entry.
    pub scopes: Vec<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl Config {
    /// Checks the settings. Surrounding blanks are dropped; scope entries
    /// may hold several space-separated scopes.
    pub fn new(
        authority: &str,
        tenant: &str,
        client_id: &str,
        client_secret: &str,
        scopes: &[String],
    ) -> Result<Config, AuthError> {
        let client_id = client_id.trim();
        if client_id.is_empty() {
            return Err(AuthError::Misconfigured(NOT_SET_UP.into()));
        }
        let authority = authority.trim().trim_end_matches('/');
        let scheme_ok = ["https://", "http://"]
            .iter()
            .any(|s| authority.len() > s.len() && authority[..s.len()].eq_ignore_ascii_case(s));
        if !scheme_ok || authority.contains(['?', '#']) || authority.contains(char::is_whitespace) {
            return Err(AuthError::Misconfigured(format!(
                "The `authority` setting of Microsoft Teams must be an https:// URL, such as https://login.microsoftonline.com; it is `{authority}`."
            )));
        }
        let tenant = tenant.trim().trim_matches('/');
        if tenant.is_empty()
            || tenant.contains(['/', '?', '#', '%', '\\'])
            || tenant.contains(char::is_whitespace)
        {
            return Err(AuthError::Misconfigured(format!(
                "The `tenant` setting of Microsoft Teams must be a tenant id or domain name, `common`, `organizations` or `consumers`; it is `{tenant}`."
            )));
        }
        let scopes: Vec<String> = scopes
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(AuthError::Misconfigured(
                "The `scopes` setting of Microsoft Teams must include `openid`: the connected account is read from the ID token.".into(),
            ));
        }
        let client_secret = Some(client_secret.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Ok(Config {
            authority: authority.to_owned(),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            scopes,
        })
    }

    /// Where the provider's OpenID configuration is.
    pub fn discovery_url(&self) -> String {
        format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            self.authority, self.tenant
        )
    }

    /// The scopes, space-separated.
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }
}

/// What the client reads from the provider's OpenID configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discovery {
    /// Issuer of the ID tokens; may hold [`TENANT_PLACEHOLDER`].
    pub issuer: String,
    /// Where the browser is sent to sign in and consent.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are redeemed.
    pub token_endpoint: String,
    /// Where tokens are revoked (RFC 7009), if the provider has one.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
}

/// The PKCE S256 code challenge of a verifier (RFC 7636 section 4.2).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Judges stored tokens at `now_ms`: expired once `expires_at` is reached.
pub fn status(tokens: &Tokens, now_ms: u64) -> Status {
    if tokens.expires_at <= now_ms {
        Status::Expired
    } else {
        Status::Success
    }
}

/// The `host[:port]` of a URL, for messages.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// Turns a failed host request into what the user and the admin are told.
pub fn http_error(error: HttpError, url: &str) -> AuthError {
    let host = host_of(url);
    match error {
        // The host's message names the origin and the exact setting to
        // add: pass it through as it is.
        HttpError::Denied(message) => AuthError::Misconfigured(message),
        HttpError::InvalidUrl(detail) => AuthError::Misconfigured(format!(
            "Cannot reach {host}: the address is not usable ({detail}). Check the `authority` setting of Microsoft Teams."
        )),
        HttpError::Timeout => {
            AuthError::Unavailable(format!("Cannot reach {host}: no answer in time."))
        }
        HttpError::Network(detail) => {
            AuthError::Unavailable(format!("Cannot reach {host}: {detail}"))
        }
        HttpError::TooLarge(limit) => AuthError::Unavailable(format!(
            "Cannot reach {host}: its answer is larger than the {limit} bytes the host accepts."
        )),
    }
}

/// The message of an error.
pub fn message(error: &AuthError) -> &str {
    match error {
        AuthError::Denied(m)
        | AuthError::Mismatch(m)
        | AuthError::Rejected(m)
        | AuthError::Unavailable(m)
        | AuthError::Misconfigured(m) => m,
    }
}

/// Provider text (an error code or description) made fit for a one-line
/// message: blanks collapsed, control characters dropped, length capped.
fn clean(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > MAX_PROVIDER_TEXT {
        out = out.chars().take(MAX_PROVIDER_TEXT).collect();
        out.push('…');
    }
    out
}

/// The first value of a callback parameter.
fn first<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The value of a callback parameter given exactly once.
fn unique<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = params.iter().filter(|(k, _)| k == name);
    match (values.next(), values.next()) {
        (Some((_, v)), None) => Some(v.as_str()),
        _ => None,
    }
}

fn ct_equal(a: &str, b: &str) -> bool {
    !b.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// An OAuth error response (RFC 6749 section 5.2).
#[derive(Debug, Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl ErrorResponse {
    fn description(&self) -> Option<String> {
        self.error_description
            .as_deref()
            .map(clean)
            .filter(|d| !d.is_empty())
    }
}

/// A token response (RFC 6749 section 5.1, OpenID Connect Core 3.1.3.3).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    id_token: Option<String>,
    /// Seconds; some providers send it as a string.
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
}

impl TokenResponse {
    fn expires_in(&self) -> u64 {
        match &self.expires_in {
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .unwrap_or(DEFAULT_EXPIRES_IN)
    }
}

/// `aud`: one client id or several.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(a) => a == client_id,
            Audience::Many(list) => list.iter().any(|a| a == client_id),
        }
    }
}

/// The ID token claims the client reads.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: f64,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    /// Microsoft: the tenant the account belongs to.
    #[serde(default)]
    tid: Option<String>,
    /// Microsoft: the account's object id, the same for every application.
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

impl Claims {
    fn account(&self) -> Account {
        Account {
            subject: non_empty(&self.oid).unwrap_or(&self.sub).to_owned(),
            name: non_empty(&self.name).unwrap_or_default().to_owned(),
            email: non_empty(&self.email)
                .or(non_empty(&self.preferred_username))
                .unwrap_or_default()
                .to_owned(),
        }
    }
}

/// The grant a token request is for, which words a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Code,
    Refresh,
}

/// Base64url, with or without padding (JWT segments have none, but
/// accepting it costs nothing).
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The client, for one call.
pub struct Client<H> {
    host: H,
    config: Config,
}

impl<H: Host> Client<H> {
    /// A client over `host` with checked settings.
    pub fn new(host: H, config: Config) -> Self {
        Client { host, config }
    }

    /// The host (for tests).
    pub fn host(&self) -> &H {
        &self.host
    }

    /// The host, mutably (for tests).
    pub fn host_mut(&mut self) -> &mut H {
        &mut self.host
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts an authorization: the URL to send the browser to, with a
    /// fresh state, nonce and PKCE verifier for the host to keep.
    pub fn start(&mut self, redirect_uri: &str) -> Result<Authorization, AuthError> {
        let result = self.try_start(redirect_uri);
        self.report("start", &result);
        result
    }

    /// Completes an authorization from the callback's query parameters.
    pub fn complete(
        &mut self,
        redirect_uri: &str,
        pending: &Authorization,
        params: &[(String, String)],
    ) -> Result<Connection, AuthError> {
        let result = self.try_complete(redirect_uri, pending, params);
        self.report("complete", &result);
        result
    }

    /// Gets new tokens with a refresh token.
    pub fn refresh(&mut self, refresh_token: &str) -> Result<Tokens, AuthError> {
        let result = self.try_refresh(refresh_token);
        self.report("refresh", &result);
        result
    }

    /// Revokes the tokens where the provider has a revocation endpoint.
    pub fn disconnect(&mut self, tokens: &Tokens) -> Result<(), AuthError> {
        let result = self.try_disconnect(tokens);
        self.report("disconnect", &result);
        result
    }

    fn report<T>(&mut self, step: &str, result: &Result<T, AuthError>) {
        let host = host_of(&self.config.authority).to_owned();
        match result {
            Ok(_) => self.host.log_info(&format!("{step} with {host}: done")),
            Err(e) => {
                let kind = match e {
                    AuthError::Denied(_) => "denied",
                    AuthError::Mismatch(_) => "mismatch",
                    AuthError::Rejected(_) => "rejected",
                    AuthError::Unavailable(_) => "unavailable",
                    AuthError::Misconfigured(_) => "misconfigured",
                };
                self.host
                    .log_warn(&format!("{step} with {host}: {kind}: {}", message(e)));
            }
        }
    }

    fn random_string(&mut self) -> Result<String, AuthError> {
        let mut buf = [0u8; RANDOM_BYTES];
        self.host.fill_random(&mut buf).map_err(|e| {
            AuthError::Unavailable(format!("No randomness available to start the sign-in: {e}"))
        })?;
        Ok(URL_SAFE_NO_PAD.encode(buf))
    }

    fn send(
        &mut self,
        method: &str,
        url: &str,
        form: Option<String>,
    ) -> Result<Response, AuthError> {
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
        self.host
            .send(Request {
                method: method.into(),
                url: url.into(),
                headers,
                body: form.map(String::into_bytes),
            })
            .map_err(|e| http_error(e, url))
    }

    /// Reads the provider's OpenID configuration.
    pub fn discover(&mut self) -> Result<Discovery, AuthError> {
        let url = self.config.discovery_url();
        let response = self.send("GET", &url, None)?;
        let host = host_of(&url);
        match response.status {
            200..=299 => {}
            status @ 400..=499 => {
                let why = serde_json::from_slice::<ErrorResponse>(&response.body)
                    .ok()
                    .and_then(|e| e.description().or(Some(clean(&e.error))))
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default();
                return Err(AuthError::Misconfigured(format!(
                    "{host} has no OpenID configuration at {url} (HTTP {status}{why}). Check the `authority` and `tenant` settings of Microsoft Teams."
                )));
            }
            status => {
                return Err(AuthError::Unavailable(format!(
                    "{host} did not answer with its OpenID configuration (HTTP {status}). Try again later."
                )));
            }
        }
        let discovery: Discovery = serde_json::from_slice(&response.body).map_err(|e| {
            AuthError::Unavailable(format!(
                "{host} answered with an OpenID configuration that cannot be read ({e})."
            ))
        })?;
        for (name, value) in [
            ("authorization_endpoint", &discovery.authorization_endpoint),
            ("token_endpoint", &discovery.token_endpoint),
        ] {
            let lower = value.to_ascii_lowercase();
            if !(lower.starts_with("https://") || lower.starts_with("http://")) {
                return Err(AuthError::Unavailable(format!(
                    "{host} answered with an OpenID configuration whose {name} is not an http(s) URL."
                )));
            }
        }
        if discovery.issuer.is_empty() {
            return Err(AuthError::Unavailable(format!(
                "{host} answered with an OpenID configuration without an issuer."
            )));
        }
        Ok(discovery)
    }

    fn try_start(&mut self, redirect_uri: &str) -> Result<Authorization, AuthError> {
        let discovery = self.discover()?;
        let state = self.random_string()?;
        let code_verifier = self.random_string()?;
        let nonce = self.random_string()?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", &self.config.scope())
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &code_challenge(&code_verifier))
            .append_pair("code_challenge_method", "S256")
            .finish();
        let endpoint = discovery.authorization_endpoint;
        let separator = match endpoint.find('?') {
            None => "?",
            Some(_) if endpoint.ends_with(['?', '&']) => "",
            Some(_) => "&",
        };
        Ok(Authorization {
            url: format!("{endpoint}{separator}{query}"),
            state,
            code_verifier,
            nonce,
        })
    }

    fn try_complete(
        &mut self,
        redirect_uri: &str,
        pending: &Authorization,
        params: &[(String, String)],
    ) -> Result<Connection, AuthError> {
        if let Some(error) = first(params, "error") {
            let error = clean(error);
            let description = first(params, "error_description")
                .map(clean)
                .filter(|d| !d.is_empty());
            return Err(match (error.as_str(), description) {
                ("access_denied", Some(d)) => {
                    AuthError::Denied(format!("Consent was refused at the provider ({d})."))
                }
                ("access_denied", None) => {
                    AuthError::Denied("Consent was refused at the provider.".into())
                }
                (_, Some(d)) => AuthError::Rejected(format!(
                    "The provider answered with an error: {error}: {d}"
                )),
                (_, None) => {
                    AuthError::Rejected(format!("The provider answered with an error: {error}"))
                }
            });
        }
        // A parameter given twice is as good as none.
        match unique(params, "state") {
            Some(state) if ct_equal(state, &pending.state) => {}
            _ => return Err(AuthError::Mismatch(STATE_MISMATCH.into())),
        }
        let code = unique(params, "code")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| AuthError::Mismatch(NO_CODE.into()))?;

        let discovery = self.discover()?;
        // RFC 9207: a provider that names itself in the answer must be the
        // one asked (against mix-up attacks). Microsoft sends no `iss`.
        if params.iter().any(|(k, _)| k == "iss") {
            let named = unique(params, "iss").unwrap_or_default();
            let placeholder = discovery.issuer.contains(TENANT_PLACEHOLDER);
            if !placeholder && named != discovery.issuer {
                return Err(AuthError::Mismatch(ISSUER_MISMATCH.into()));
            }
        }
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("client_id", &self.config.client_id)
            .append_pair("code_verifier", &pending.code_verifier);
        if let Some(secret) = &self.config.client_secret {
            form.append_pair("client_secret", secret);
        }
        let response = self.send("POST", &discovery.token_endpoint, Some(form.finish()))?;
        let token = self.read_tokens(&discovery.token_endpoint, &response, Grant::Code)?;

        let host = host_of(&discovery.token_endpoint);
        let id_token = token
            .id_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AuthError::Unavailable(format!(
                    "{host} answered without an ID token, so the account cannot be known."
                ))
            })?;
        let claims = self.check_id_token(&discovery, id_token, Some(&pending.nonce))?;
        let tokens = self.tokens(&token, None);
        Ok(Connection {
            tokens,
            account: claims.account(),
        })
    }

    fn try_refresh(&mut self, refresh_token: &str) -> Result<Tokens, AuthError> {
        if refresh_token.is_empty() {
            return Err(AuthError::Rejected(
                "There is no saved sign-in to renew. Click Retry to connect again.".into(),
            ));
        }
        let discovery = self.discover()?;
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", refresh_token)
            .append_pair("client_id", &self.config.client_id)
            .append_pair("scope", &self.config.scope());
        if let Some(secret) = &self.config.client_secret {
            form.append_pair("client_secret", secret);
        }
        let response = self.send("POST", &discovery.token_endpoint, Some(form.finish()))?;
        let token = self.read_tokens(&discovery.token_endpoint, &response, Grant::Refresh)?;
        // An ID token is optional on refresh (OpenID Connect Core 12.2);
        // when one comes, it must still be from the issuer and for us.
        if let Some(id_token) = token.id_token.as_deref().filter(|t| !t.is_empty()) {
            self.check_id_token(&discovery, id_token, None)?;
        }
        Ok(self.tokens(&token, Some(refresh_token)))
    }

    fn try_disconnect(&mut self, tokens: &Tokens) -> Result<(), AuthError> {
        let discovery = self.discover()?;
        let Some(endpoint) = discovery.revocation_endpoint.filter(|e| !e.is_empty()) else {
            // Microsoft has no revocation endpoint: the host forgets the
            // tokens and they lapse.
            return Ok(());
        };
        let (token, hint) = match tokens.refresh_token.as_deref().filter(|t| !t.is_empty()) {
            Some(refresh) => (refresh, "refresh_token"),
            None => (tokens.access_token.as_str(), "access_token"),
        };
        if token.is_empty() {
            return Ok(());
        }
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", hint)
            .append_pair("client_id", &self.config.client_id);
        if let Some(secret) = &self.config.client_secret {
            form.append_pair("client_secret", secret);
        }
        let response = self.send("POST", &endpoint, Some(form.finish()))?;
        if (200..300).contains(&response.status) {
            return Ok(());
        }
        let host = host_of(&endpoint);
        let why = serde_json::from_slice::<ErrorResponse>(&response.body)
            .ok()
            .map(|e| match e.description() {
                Some(d) => format!(": {}: {d}", clean(&e.error)),
                None => format!(": {}", clean(&e.error)),
            })
            .unwrap_or_default();
        Err(AuthError::Unavailable(format!(
            "{host} did not revoke the tokens (HTTP {}{why}). Try again later.",
            response.status
        )))
    }

    /// Reads a token endpoint's answer.
    fn read_tokens(
        &self,
        url: &str,
        response: &Response,
        grant: Grant,
    ) -> Result<TokenResponse, AuthError> {
        let host = host_of(url);
        match response.status {
            200..=299 => serde_json::from_slice::<TokenResponse>(&response.body)
                .ok()
                .filter(|t| !t.access_token.is_empty())
                // No parser detail in the message: it could quote a token.
                .ok_or_else(|| {
                    AuthError::Unavailable(format!(
                        "{host} answered the token request with something that is not an OAuth 2.0 token response."
                    ))
                }),
            status @ 400..=499 => match serde_json::from_slice::<ErrorResponse>(&response.body) {
                Ok(e) => Err(self.refusal(grant, &e)),
                Err(_) => Err(AuthError::Unavailable(format!(
                    "{host} refused the token request (HTTP {status}) without saying why."
                ))),
            },
            status => Err(AuthError::Unavailable(format!(
                "{host} could not answer the token request (HTTP {status}). Try again later."
            ))),
        }
    }

    /// What a refused token request means for the user or the admin.
    fn refusal(&self, grant: Grant, e: &ErrorResponse) -> AuthError {
        let error = clean(&e.error);
        let description = e.description();
        // A client the provider does not know or accept is the admin's
        // business: retrying, or dropping the user's tokens, cannot help.
        if matches!(error.as_str(), "invalid_client" | "unauthorized_client") {
            let why = description.map(|d| format!(" ({d})")).unwrap_or_default();
            return AuthError::Misconfigured(format!(
                "The provider does not accept the client of Microsoft Teams: {error}{why}. Check client_id and client_secret under the collaboration plugin's settings in the host config."
            ));
        }
        match (grant, description) {
            (Grant::Code, Some(d)) => AuthError::Rejected(format!(
                "The provider refused the authorization code: {error} ({d}). Click Retry to start again."
            )),
            (Grant::Code, None) => AuthError::Rejected(format!(
                "The provider refused the authorization code: {error}. Click Retry to start again."
            )),
            (Grant::Refresh, Some(d)) => AuthError::Rejected(format!(
                "The provider no longer accepts the saved sign-in ({error}: {d}). Click Retry to connect again."
            )),
            (Grant::Refresh, None) => AuthError::Rejected(format!(
                "The provider no longer accepts the saved sign-in ({error}). Click Retry to connect again."
            )),
        }
    }

    /// The tokens to hand the host; `old_refresh` is kept when the
    /// provider issues no new refresh token.
    fn tokens(&self, token: &TokenResponse, old_refresh: Option<&str>) -> Tokens {
        let refresh_token = token
            .refresh_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .or(old_refresh)
            .map(str::to_owned);
        let scope = token
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or_else(|| self.config.scope(), str::to_owned);
        Tokens {
            access_token: token.access_token.clone(),
            refresh_token,
            id_token: token.id_token.clone().filter(|t| !t.is_empty()),
            expires_at: self
                .host
                .now_ms()
                .saturating_add(token.expires_in().saturating_mul(1000)),
            scope,
        }
    }

    /// Reads and checks an ID token (OpenID Connect Core 3.1.3.7).
    ///
    /// The signature is not checked: the token comes straight from the
    /// token endpoint over TLS (the host only makes https requests to the
    /// hosts the admin allows), and OpenID Connect Core 3.1.3.7 (step 6)
    /// lets a client rely on that TLS server validation instead of the
    /// signature for tokens it receives that way. The other checks (issuer,
    /// audience, expiry and, after an authorization, nonce) are made.
    fn check_id_token(
        &self,
        discovery: &Discovery,
        id_token: &str,
        nonce: Option<&str>,
    ) -> Result<Claims, AuthError> {
        let host = host_of(&discovery.token_endpoint);
        let unreadable = || {
            AuthError::Unavailable(format!(
                "{host} answered with an ID token that cannot be read."
            ))
        };
        let mut parts = id_token.split('.');
        let (Some(_header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unreadable());
        };
        let payload = LENIENT_URL_SAFE.decode(payload).map_err(|_| unreadable())?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| unreadable())?;

        let expected_issuer = if discovery.issuer.contains(TENANT_PLACEHOLDER) {
            let tid = claims
                .tid
                .as_deref()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    AuthError::Unavailable(format!(
                        "{host} answered with an ID token without the `tid` claim its issuer `{}` needs.",
                        discovery.issuer
                    ))
                })?;
            discovery.issuer.replace(TENANT_PLACEHOLDER, tid)
        } else {
            discovery.issuer.clone()
        };
        if claims.iss != expected_issuer {
            return Err(AuthError::Unavailable(format!(
                "{host} answered with an ID token from another issuer (`{}`, expected `{expected_issuer}`).",
                clean(&claims.iss)
            )));
        }
        let client_id = &self.config.client_id;
        let azp_ok = claims.azp.as_deref().is_none_or(|azp| azp == client_id);
        if !claims.aud.contains(client_id) || !azp_ok {
            return Err(AuthError::Unavailable(format!(
                "{host} answered with an ID token for another application, not client_id `{client_id}`."
            )));
        }
        if let Some(expected) = nonce {
            let got = claims.nonce.as_deref().unwrap_or_default();
            if !ct_equal(got, expected) {
                return Err(AuthError::Mismatch(NONCE_MISMATCH.into()));
            }
        }
        let now_s = self.host.now_ms() / 1000;
        if !(claims.exp > 0.0 && (claims.exp as u64).saturating_add(CLOCK_SKEW_SECONDS) > now_s) {
            return Err(AuthError::Unavailable(format!(
                "{host} answered with an ID token that has expired. Check that the host's clock is right."
            )));
        }
        if claims.sub.is_empty() {
            return Err(unreadable());
        }
        Ok(claims)
    }
}
