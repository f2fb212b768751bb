//! What can go wrong: setting a widget up ([`Error`]) and calling it
//! ([`CallError`]).

use std::time::Duration;

use thiserror::Error;

/// Why a widget could not be built, loaded or set up.
#[derive(Debug, Clone, Error)]
pub enum Error {
    /// The plugin crate did not build, or its files could not be read.
    #[error("cannot build the widget: {0}")]
    Build(String),
    /// The host refused the component (a bad `plugin.toml`, a component
    /// that does not match it, a failing `describe`).
    #[error("the host refuses the widget: {0}")]
    Load(String),
    /// The host would refuse this configuration in a layout: a wrong or
    /// missing setting, an unknown capability. One entry per problem, each
    /// with the host's help.
    #[error("the host refuses this configuration:\n{}", .0.join("\n"))]
    Config(Vec<String>),
    /// The runtime could not start.
    #[error("cannot start the runtime: {0}")]
    Runtime(String),
}

/// Why a render or action call did not produce a view.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CallError {
    /// The widget returned an error of its own.
    #[error("{0}")]
    Widget(String),
    /// The widget failed because the host refused it a capability that is
    /// not granted; `message` is the widget's error, which names the grant.
    #[error("{message}")]
    NotGranted {
        /// The capability, such as `contact-center`.
        capability: String,
        /// The error the widget returned.
        message: String,
    },
    /// The call ran past its deadline and was stopped.
    #[error("did not answer within {} ms and was stopped", .0.as_millis())]
    Timeout(Duration),
    /// The widget tried to grow its memory past its cap (MiB).
    #[error("went over its memory limit of {0} MiB")]
    Memory(u64),
    /// The widget overflowed its stack.
    #[error("overflowed its stack")]
    StackOverflow,
    /// The widget trapped (a panic, an unreachable, a bad memory access).
    #[error("crashed: {0}")]
    Trap(String),
    /// The component could not be instantiated.
    #[error("could not start: {0}")]
    Instantiate(String),
    /// The view was too large to show.
    #[error("returned a view too large to show: {0}")]
    TooLarge(String),
}

impl CallError {
    /// The message, as the host shows it in the widget's tile.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The capability whose absence made the call fail, if that is why.
    pub fn missing_grant(&self) -> Option<&str> {
        match self {
            CallError::NotGranted { capability, .. } => Some(capability),
            _ => None,
        }
    }

    /// The host's error, typed; a widget error naming a capability that
    /// is not in `grants` becomes [`CallError::NotGranted`].
    pub(crate) fn from_host(e: deskhost::runtime::CallError, grants: &[String]) -> Self {
        use deskhost::runtime::CallError as H;
        match e {
            H::Widget(message) => match denied_capability(&message) {
                Some(capability) if !grants.contains(&capability) => CallError::NotGranted {
                    capability,
                    message,
                },
                _ => CallError::Widget(message),
            },
            H::Timeout(d) => CallError::Timeout(d),
            H::Memory(m) => CallError::Memory(m),
            H::StackOverflow => CallError::StackOverflow,
            H::Trap(m) => CallError::Trap(m),
            H::Instantiate(m) => CallError::Instantiate(m),
            H::TooLarge(m) => CallError::TooLarge(m),
        }
    }
}

/// The capability in the host's refusal ("capability `kv` is not granted
/// to plugin ..."), wherever it is in `message`.
fn denied_capability(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("capability `")?;
    let (name, rest) = rest.split_once('`')?;
    rest.starts_with(" is not granted").then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_capability_is_recognised_in_the_widgets_message() {
        let host = deskhost::runtime::CallError::Widget(
            "cannot read agents: capability `contact-center` is not granted to plugin `x`: add ..."
                .into(),
        );
        let e = CallError::from_host(host.clone(), &[]);
        assert_eq!(e.missing_grant(), Some("contact-center"));
        assert!(e.message().starts_with("cannot read agents"));
        // Granted after all: the widget made the message up.
        let e = CallError::from_host(host, &["contact-center".into()]);
        assert!(matches!(e, CallError::Widget(_)));
        assert_eq!(denied_capability("no capability here"), None);
    }
}
