//! Identity providers: who may sign in. Implement [`IdentityProvider`] and
//! call [`export_identity_provider!`](crate::export_identity_provider).
//!
//! The host calls a fresh instance for every step, so everything to keep
//! between calls (accounts, reset codes) goes through the `kv` capability.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::{Metadata, Setting, parse_settings};

/// Generated bindings of the `identity-provider` world.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "identity-provider",
        with: {
            "deskhost:plugin/types@0.1.1": crate::bindings::deskhost::plugin::types,
            "deskhost:plugin/log@0.1.1": crate::bindings::deskhost::plugin::log,
            "deskhost:plugin/clock@0.1.1": crate::bindings::deskhost::plugin::clock,
            "deskhost:plugin/kv@0.1.1": crate::bindings::deskhost::plugin::kv,
        },
        pub_export_macro: true,
        export_macro_name: "__export_identity_provider",
        default_bindings_module: "deskhost_sdk::identity::bindings",
    });
}

pub use bindings::deskhost::plugin::auth_types::{Identity, Profile, Telephony};
pub use bindings::exports::deskhost::plugin::accounts::{NextStep, ResetError, SignInError};

/// An identity provider: implement this and call
/// [`export_identity_provider!`](crate::export_identity_provider).
pub trait IdentityProvider {
    /// The provider's settings (from the host config), deserialised with serde.
    type Settings: DeserializeOwned;

    /// Describes the plugin; only the id, name, version, description and
    /// settings are read.
    fn metadata() -> Metadata;

    /// The step after the e-mail address. Must not reveal whether the
    /// account exists.
    fn lookup(settings: Self::Settings, email: &str) -> Result<NextStep, SignInError>;

    /// Checks a password and returns who signed in.
    fn verify_password(
        settings: Self::Settings,
        email: &str,
        password: &str,
    ) -> Result<Identity, SignInError>;

    /// Starts a password reset (sends a six-digit code by mail).
    fn start_reset(settings: Self::Settings, email: &str) -> Result<(), SignInError>;

    /// Finishes a password reset.
    fn finish_reset(
        settings: Self::Settings,
        email: &str,
        code: &str,
        new_password: &str,
    ) -> Result<(), ResetError>;
}

fn settings<S: DeserializeOwned>(list: Vec<Setting>) -> Result<S, String> {
    parse_settings(list).map_err(|e| e.message)
}

/// Bridges an [`IdentityProvider`] to the generated `Guest` trait.
#[doc(hidden)]
pub struct Adapter<P>(PhantomData<P>);

impl<P: IdentityProvider> bindings::exports::deskhost::plugin::accounts::Guest for Adapter<P> {
    fn describe() -> Metadata {
        P::metadata()
    }

    fn lookup_account(settings_list: Vec<Setting>, email: String) -> Result<NextStep, SignInError> {
        P::lookup(
            settings(settings_list).map_err(SignInError::Unavailable)?,
            &email,
        )
    }

    fn verify_password(
        settings_list: Vec<Setting>,
        email: String,
        password: String,
    ) -> Result<Identity, SignInError> {
        P::verify_password(
            settings(settings_list).map_err(SignInError::Unavailable)?,
            &email,
            &password,
        )
    }

    fn start_reset(settings_list: Vec<Setting>, email: String) -> Result<(), SignInError> {
        P::start_reset(
            settings(settings_list).map_err(SignInError::Unavailable)?,
            &email,
        )
    }

    fn finish_reset(
        settings_list: Vec<Setting>,
        email: String,
        code: String,
        new_password: String,
    ) -> Result<(), ResetError> {
        P::finish_reset(
            settings(settings_list).map_err(ResetError::Unavailable)?,
            &email,
            &code,
            &new_password,
        )
    }
}

/// Exports a type implementing [`IdentityProvider`] as the plugin's
/// `accounts` interface. Call it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_identity_provider {
    ($provider:ty) => {
        #[doc(hidden)]
        #[allow(dead_code)]
        type __DeskhostIdentityExport = $crate::identity::Adapter<$provider>;
        #[cfg(target_arch = "wasm32")]
        $crate::identity::bindings::__export_identity_provider!(__DeskhostIdentityExport with_types_in $crate::identity::bindings);
    };
}
