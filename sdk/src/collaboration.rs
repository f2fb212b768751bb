//! Collaboration auth plugins (Microsoft Teams and the like): OAuth 2.0 /
//! OpenID Connect on behalf of a desktop user. Implement
//! [`CollaborationAuth`] and call
//! [`export_collaboration_auth!`](crate::export_collaboration_auth).
//!
//! The host keeps the tokens, encrypted, and hands them back when it needs
//! the plugin to judge or refresh them; the plugin stores nothing. It
//! reaches the provider through [`http::send`], which only reaches the
//! hosts the admin allows.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::{Metadata, Setting, parse_settings};

/// Generated bindings of the `collaboration-auth` world.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "collaboration-auth",
        with: {
            "deskhost:plugin/types@0.1.1": crate::bindings::deskhost::plugin::types,
            "deskhost:plugin/log@0.1.1": crate::bindings::deskhost::plugin::log,
            "deskhost:plugin/clock@0.1.1": crate::bindings::deskhost::plugin::clock,
        },
        pub_export_macro: true,
        export_macro_name: "__export_collaboration_auth",
        default_bindings_module: "deskhost_sdk::collaboration::bindings",
    });
}

pub use bindings::exports::deskhost::plugin::collaboration::{
    Account, AuthError, Authorization, Connection, ConnectionStatus as Status, Tokens,
};

/// Outbound HTTP through the host.
pub mod http {
    pub use super::bindings::deskhost::plugin::http::{Header, HttpError, Request, Response, send};
}

/// A collaboration auth plugin: implement this and call
/// [`export_collaboration_auth!`](crate::export_collaboration_auth).
pub trait CollaborationAuth {
    /// The plugin's settings (from the host config), deserialised with serde.
    type Settings: DeserializeOwned;

    /// Describes the plugin; only the id, name, version, description and
    /// settings are read.
    fn metadata() -> Metadata;

    /// Starts an authorization that returns to `redirect_uri`.
    fn start(settings: Self::Settings, redirect_uri: &str) -> Result<Authorization, AuthError>;

    /// Completes it from the callback's query parameters.
    fn complete(
        settings: Self::Settings,
        redirect_uri: &str,
        pending: Authorization,
        params: Vec<(String, String)>,
    ) -> Result<Connection, AuthError>;

    /// Gets new tokens with a refresh token.
    fn refresh(settings: Self::Settings, refresh_token: &str) -> Result<Tokens, AuthError>;

    /// Judges stored tokens at `now_ms`.
    fn status(settings: Self::Settings, tokens: Tokens, now_ms: u64) -> Status;

    /// Revokes the tokens at the provider, where it supports it.
    fn disconnect(settings: Self::Settings, tokens: Tokens) -> Result<(), AuthError>;
}

fn settings<S: DeserializeOwned>(list: Vec<Setting>) -> Result<S, AuthError> {
    parse_settings(list).map_err(|e| AuthError::Misconfigured(e.message))
}

/// Bridges a [`CollaborationAuth`] to the generated `Guest` trait.
#[doc(hidden)]
pub struct Adapter<P>(PhantomData<P>);

impl<P: CollaborationAuth> bindings::exports::deskhost::plugin::collaboration::Guest
    for Adapter<P>
{
    fn describe() -> Metadata {
        P::metadata()
    }

    fn start(s: Vec<Setting>, redirect_uri: String) -> Result<Authorization, AuthError> {
        P::start(settings(s)?, &redirect_uri)
    }

    fn complete(
        s: Vec<Setting>,
        redirect_uri: String,
        pending: Authorization,
        params: Vec<(String, String)>,
    ) -> Result<Connection, AuthError> {
        P::complete(settings(s)?, &redirect_uri, pending, params)
    }

    fn refresh(s: Vec<Setting>, refresh_token: String) -> Result<Tokens, AuthError> {
        P::refresh(settings(s)?, &refresh_token)
    }

    fn status(s: Vec<Setting>, tokens: Tokens, now: u64) -> Status {
        match settings(s) {
            Ok(s) => P::status(s, tokens, now),
            Err(AuthError::Misconfigured(m)) => Status::Failed(m),
            Err(_) => Status::Failed("invalid settings".into()),
        }
    }

    fn disconnect(s: Vec<Setting>, tokens: Tokens) -> Result<(), AuthError> {
        P::disconnect(settings(s)?, tokens)
    }
}

/// Exports a type implementing [`CollaborationAuth`] as the plugin's
/// `collaboration` interface. Call it once, at the top level of the crate.
#[macro_export]
macro_rules! export_collaboration_auth {
    ($plugin:ty) => {
        #[doc(hidden)]
        #[allow(dead_code)]
        type __DeskhostCollaborationExport = $crate::collaboration::Adapter<$plugin>;
        #[cfg(target_arch = "wasm32")]
        $crate::collaboration::bindings::__export_collaboration_auth!(__DeskhostCollaborationExport with_types_in $crate::collaboration::bindings);
    };
}
