//! Thin, idiomatic wrappers over what the host provides to plugins.

/// The host's log. Lines are tagged with the plugin and widget ids.
pub mod log {
    use crate::bindings::deskhost::plugin::log::{Level, log};

    /// Logs at debug level.
    pub fn debug(message: impl AsRef<str>) {
        log(Level::Debug, message.as_ref());
    }
    /// Logs at info level.
    pub fn info(message: impl AsRef<str>) {
        log(Level::Info, message.as_ref());
    }
    /// Logs at warn level.
    pub fn warn(message: impl AsRef<str>) {
        log(Level::Warn, message.as_ref());
    }
    /// Logs at error level.
    pub fn error(message: impl AsRef<str>) {
        log(Level::Error, message.as_ref());
    }
}

/// The host's clock.
pub mod clock {
    /// Unix time in milliseconds, from the host.
    pub fn now_ms() -> u64 {
        crate::bindings::deskhost::plugin::clock::now()
    }
}

/// The plugin's private key-value store. Needs the `kv` grant: without it
/// every call returns an error naming the missing grant.
pub mod kv {
    use crate::Error;
    use crate::bindings::deskhost::plugin::kv::{self as raw, KvError};

    fn convert(e: KvError) -> Error {
        Error::new(match e {
            KvError::Denied(m) | KvError::TooLarge(m) | KvError::Store(m) => m,
        })
    }

    /// Reads a value.
    pub fn get(key: &str) -> Result<Option<Vec<u8>>, Error> {
        raw::get(key).map_err(convert)
    }
    /// Writes a value.
    pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
        raw::set(key, value).map_err(convert)
    }
    /// Removes a value.
    pub fn delete(key: &str) -> Result<(), Error> {
        raw::delete(key).map_err(convert)
    }
}
