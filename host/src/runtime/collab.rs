//! The `collaboration-auth` world on the host side: its generated
//! bindings, the outbound HTTP import (allowed hosts only, with a deadline
//! and a response cap), and the typed calls into collaboration plugins.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use super::auth::AuthCall;
use super::host::HostState;
use super::{CallError, LoadedPlugin, Pre, Runtime};
use crate::plugin::PluginKind;

/// Bindings of the `collaboration-auth` world.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "collaboration-auth",
        with: {
            "deskhost:plugin/types": crate::runtime::host::types,
            "deskhost:plugin/log": crate::runtime::host::deskhost::plugin::log,
            "deskhost:plugin/clock": crate::runtime::host::deskhost::plugin::clock,
        },
    });
}

pub use bindings::deskhost::plugin::http;
pub use bindings::exports::deskhost::plugin::collaboration::{
    Account, AuthError, Authorization, Connection, ConnectionStatus, Tokens,
};

/// Deadline of one outbound request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response body a plugin may receive.
pub const HTTP_MAX_BODY: u64 = 1 << 20;

/// Adds the `http` import to `linker`.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    http::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
}

/// `scheme://host:port` of a URL, with the scheme's default port.
fn origin(url: &str) -> Result<(String, String, u16), String> {
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(format!("`{url}` is not an http:// or https:// URL")),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("`{url}` has no host"))?
        .to_ascii_lowercase();
    Ok((scheme, host, uri.port_u16().unwrap_or(default)))
}

/// Whether `pattern` (`scheme://host[:port]`, port `*` for any) allows
/// the origin.
pub fn host_allowed(pattern: &str, scheme: &str, host: &str, port: u16) -> bool {
    let Some((p_scheme, rest)) = pattern.split_once("://") else {
        return false;
    };
    let rest = rest.trim_end_matches('/');
    let (p_host, p_port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.ends_with(']') || rest.starts_with('[') => (h, Some(p)),
        _ => (rest, None),
    };
    let default = if p_scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    p_scheme.eq_ignore_ascii_case(scheme)
        && p_host.eq_ignore_ascii_case(host)
        && match p_port {
            None => port == default,
            Some("*") => true,
            Some(p) => p.parse::<u16>() == Ok(port),
        }
}

impl http::Host for HostState {
    fn send(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        self.check_grant("http").map_err(http::HttpError::Denied)?;
        let (scheme, host, port) = origin(&request.url).map_err(http::HttpError::InvalidUrl)?;
        let shown = format!("{scheme}://{host}:{port}");
        if !self
            .allowed_hosts
            .iter()
            .any(|p| host_allowed(p, &scheme, &host, port))
        {
            let message = format!(
                "plugin `{plugin}` may not reach {shown}: add \"{shown}\" to `allowed_hosts` \
                 of its [[collaboration]] entry in the host config",
                plugin = self.plugin
            );
            tracing::warn!(plugin = %self.plugin, "denied: {message}");
            return Err(http::HttpError::Denied(message));
        }
        let _span =
            tracing::debug_span!("plugin_http", plugin = %self.plugin, origin = %shown).entered();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(HTTP_TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let mut builder = axum::http::Request::builder()
            .method(request.method.as_str())
            .uri(&request.url);
        for h in &request.headers {
            builder = builder.header(&h.name, &h.value);
        }
        let result = match request.body {
            Some(body) => builder
                .body(body)
                .map_err(|e| http::HttpError::InvalidUrl(e.to_string()))
                .and_then(|r| agent.run(r).map_err(|e| http_error(e, &shown))),
            None => builder
                .body(())
                .map_err(|e| http::HttpError::InvalidUrl(e.to_string()))
                .and_then(|r| agent.run(r).map_err(|e| http_error(e, &shown))),
        };
        let response = result?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| {
                Some(http::Header {
                    name: n.as_str().to_owned(),
                    value: v.to_str().ok()?.to_owned(),
                })
            })
            .collect();
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(HTTP_MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| http::HttpError::Network(format!("{shown}: {e}")))?;
        if body.len() as u64 > HTTP_MAX_BODY {
            return Err(http::HttpError::TooLarge(HTTP_MAX_BODY));
        }
        tracing::debug!(status, bytes = body.len(), "plugin request answered");
        Ok(http::Response {
            status,
            headers,
            body,
        })
    }
}

fn http_error(e: ureq::Error, origin: &str) -> http::HttpError {
    match e {
        ureq::Error::Timeout(_) => http::HttpError::Timeout,
        other => http::HttpError::Network(format!("{origin}: {other}")),
    }
}

impl Runtime {
    /// Calls a collaboration auth plugin that may reach `allowed_hosts`.
    /// Blocking: run it off the async executor.
    pub fn call_collaboration<T>(
        &self,
        plugin: &LoadedPlugin,
        call: &AuthCall<'_>,
        allowed_hosts: Arc<[String]>,
        f: impl FnOnce(
            &bindings::exports::deskhost::plugin::collaboration::Guest,
            &mut Store<HostState>,
        ) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let Pre::Collaboration(pre) = &plugin.pre else {
            return Err(super::auth::not_kind(plugin, PluginKind::CollaborationAuth));
        };
        self.call_world(
            plugin,
            "(collaboration)",
            call,
            Some(allowed_hosts),
            |store| pre.instantiate(store),
            |i, store| f(i.deskhost_plugin_collaboration(), store),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_match_scheme_host_and_port() {
        assert!(host_allowed(
            "https://login.example.com",
            "https",
            "login.example.com",
            443
        ));
        assert!(!host_allowed(
            "https://login.example.com",
            "http",
            "login.example.com",
            80
        ));
        assert!(!host_allowed(
            "https://login.example.com",
            "https",
            "evil.example.com",
            443
        ));
        assert!(!host_allowed(
            "https://login.example.com",
            "https",
            "login.example.com",
            8443
        ));
        assert!(host_allowed(
            "http://127.0.0.1:4000",
            "http",
            "127.0.0.1",
            4000
        ));
        assert!(!host_allowed(
            "http://127.0.0.1:4000",
            "http",
            "127.0.0.1",
            4001
        ));
        assert!(host_allowed(
            "http://127.0.0.1:*",
            "http",
            "127.0.0.1",
            4001
        ));
        assert!(host_allowed(
            "HTTPS://Login.Example.com/",
            "https",
            "login.example.com",
            443
        ));
        assert!(!host_allowed(
            "login.example.com",
            "https",
            "login.example.com",
            443
        ));
    }

    #[test]
    fn origins_get_default_ports_and_refuse_other_schemes() {
        assert_eq!(
            origin("https://a.example/x?y").unwrap(),
            ("https".into(), "a.example".into(), 443)
        );
        assert_eq!(origin("http://a:81/").unwrap().2, 81);
        assert!(origin("ftp://a/").is_err());
        assert!(origin("not a url").is_err());
    }
}
