//! Station providers: the rules for station credentials (role, telephony,
//! team) at sign-in. Implement [`StationProvider`] and call
//! [`export_station_provider!`](crate::export_station_provider).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::{Metadata, Setting, parse_settings};

/// Generated bindings of the `station-provider` world.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "station-provider",
        with: {
            "deskhost:plugin/types@0.1.1": crate::bindings::deskhost::plugin::types,
            "deskhost:plugin/log@0.1.1": crate::bindings::deskhost::plugin::log,
            "deskhost:plugin/clock@0.1.1": crate::bindings::deskhost::plugin::clock,
            "deskhost:plugin/kv@0.1.1": crate::bindings::deskhost::plugin::kv,
            "deskhost:plugin/auth-types@0.1.1": crate::identity::bindings::deskhost::plugin::auth_types,
        },
        pub_export_macro: true,
        export_macro_name: "__export_station_provider",
        default_bindings_module: "deskhost_sdk::station::bindings",
    });
}

pub use crate::identity::{Identity, Profile, Telephony};
pub use bindings::exports::deskhost::plugin::stations::{
    Permission, Refusal, Station, StationDefaults, StationField, StationRequest,
};

/// Whether a signed-in user other than the one signing in holds this dial
/// number or extension now.
pub fn taken(telephony: Telephony, number: &str) -> bool {
    bindings::deskhost::plugin::station_registry::taken(telephony, number)
}

/// A station provider: implement this and call
/// [`export_station_provider!`](crate::export_station_provider).
pub trait StationProvider {
    /// The provider's settings (from the host config), deserialised with serde.
    type Settings: DeserializeOwned;

    /// Describes the plugin; only the id, name, version, description and
    /// settings are read.
    fn metadata() -> Metadata;

    /// Values to pre-fill in the station credentials dialog.
    fn defaults(settings: Self::Settings, user: &Identity) -> StationDefaults;

    /// Accepts (normalised) or refuses station credentials.
    fn check(
        settings: Self::Settings,
        user: &Identity,
        request: StationRequest,
    ) -> Result<Station, Refusal>;
}

/// Bridges a [`StationProvider`] to the generated `Guest` trait.
#[doc(hidden)]
pub struct Adapter<P>(PhantomData<P>);

impl<P: StationProvider> bindings::exports::deskhost::plugin::stations::Guest for Adapter<P> {
    fn describe() -> Metadata {
        P::metadata()
    }

    fn defaults(settings: Vec<Setting>, user: Identity) -> StationDefaults {
        match parse_settings(settings) {
            Ok(s) => P::defaults(s, &user),
            Err(_) => StationDefaults {
                telephony: None,
                number: None,
                team: None,
            },
        }
    }

    fn check(
        settings: Vec<Setting>,
        user: Identity,
        request: StationRequest,
    ) -> Result<Station, Refusal> {
        let settings = parse_settings(settings).map_err(|e| Refusal {
            field: StationField::Telephony,
            code: "invalid-settings".into(),
            message: e.message,
        })?;
        P::check(settings, &user, request)
    }
}

/// Exports a type implementing [`StationProvider`] as the plugin's
/// `stations` interface. Call it once, at the top level of the plugin crate.
#[macro_export]
macro_rules! export_station_provider {
    ($provider:ty) => {
        #[doc(hidden)]
        #[allow(dead_code)]
        type __DeskhostStationExport = $crate::station::Adapter<$provider>;
        #[cfg(target_arch = "wasm32")]
        $crate::station::bindings::__export_station_provider!(__DeskhostStationExport with_types_in $crate::station::bindings);
    };
}
