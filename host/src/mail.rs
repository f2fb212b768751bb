//! Outgoing mail, the host side of the `mail` capability. The embedded
//! default writes each message to an outbox folder in the data dir (one
//! `.eml` file each) and logs it; with SMTP settings it goes to a relay.
//! Both through `lettre`.

use std::path::PathBuf;

use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{FileTransport, SmtpTransport, Transport};
use thiserror::Error;

use crate::config::MailConfig;

/// Why a message was not sent.
#[derive(Debug, Error)]
pub enum MailError {
    /// An address or the message is malformed.
    #[error("cannot build the message: {0}")]
    Invalid(String),
    /// The transport refused or failed.
    #[error("cannot deliver the message: {0}")]
    Transport(String),
}

/// Sends mail on behalf of plugins.
pub trait Mailer: Send + Sync {
    /// Sends a plain-text message; `plugin` is named in the log.
    fn send(&self, plugin: &str, to: &str, subject: &str, body: &str) -> Result<(), MailError>;
}

/// Refuses every message: where the host runs no sign-in (layout checks,
/// widget tests), so nothing can be sent.
pub struct NoMail;

impl Mailer for NoMail {
    fn send(&self, plugin: &str, _to: &str, _subject: &str, _body: &str) -> Result<(), MailError> {
        Err(MailError::Transport(format!(
            "mail is not available here (plugin `{plugin}` tried to send)"
        )))
    }
}

enum Delivery {
    Outbox(PathBuf, FileTransport),
    Smtp(Box<SmtpTransport>),
}

/// The mailer the host config asks for.
pub struct HostMailer {
    from: Mailbox,
    delivery: Delivery,
}

impl HostMailer {
    /// A mailer for `config`; the outbox defaults to `data_dir/outbox`.
    pub fn new(config: &MailConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.parse().map_err(|e| {
            anyhow::anyhow!("[mail] from = {:?} is not a mail address: {e}", config.from)
        })?;
        let delivery = match &config.smtp {
            None => {
                let dir = config
                    .outbox
                    .clone()
                    .unwrap_or_else(|| data_dir.join("outbox"));
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the mail outbox {}: {e}", dir.display())
                })?;
                Delivery::Outbox(dir.clone(), FileTransport::new(dir))
            }
            Some(smtp) => {
                let builder = match smtp.security.as_str() {
                    "starttls" => SmtpTransport::starttls_relay(&smtp.host),
                    "tls" => SmtpTransport::relay(&smtp.host),
                    "none" => Ok(SmtpTransport::builder_dangerous(&smtp.host)),
                    other => anyhow::bail!(
                        "[mail.smtp] security = {other:?}: use \"starttls\", \"tls\" or \"none\""
                    ),
                }
                .map_err(|e| anyhow::anyhow!("[mail.smtp] host {:?}: {e}", smtp.host))?;
                let mut builder = builder.port(smtp.port);
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Delivery::Smtp(Box::new(builder.build()))
            }
        };
        Ok(HostMailer { from, delivery })
    }

    /// The outbox folder, when mail goes there.
    pub fn outbox(&self) -> Option<&std::path::Path> {
        match &self.delivery {
            Delivery::Outbox(dir, _) => Some(dir),
            Delivery::Smtp(_) => None,
        }
    }
}

impl Mailer for HostMailer {
    fn send(&self, plugin: &str, to: &str, subject: &str, body: &str) -> Result<(), MailError> {
        let to_box: Mailbox = to
            .parse()
            .map_err(|e| MailError::Invalid(format!("`{to}` is not a mail address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Invalid(e.to_string()))?;
        match &self.delivery {
            Delivery::Outbox(dir, transport) => {
                let id = transport
                    .send(&message)
                    .map_err(|e| MailError::Transport(e.to_string()))?;
                tracing::info!(
                    plugin,
                    to,
                    subject,
                    file = %dir.join(format!("{id}.eml")).display(),
                    "mail written to the outbox"
                );
            }
            Delivery::Smtp(transport) => {
                transport
                    .send(&message)
                    .map_err(|e| MailError::Transport(e.to_string()))?;
                tracing::info!(plugin, to, subject, "mail sent");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_gets_one_eml_file_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = HostMailer::new(&MailConfig::default(), dir.path()).unwrap();
        mailer
            .send("t", "lee@example.com", "Your code", "Code: 123456")
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .flatten()
            .collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].path()).unwrap();
        assert!(text.contains("To: lee@example.com"), "{text}");
        assert!(text.contains("123456"), "{text}");
    }

    #[test]
    fn a_bad_address_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = HostMailer::new(&MailConfig::default(), dir.path()).unwrap();
        let err = mailer.send("t", "not an address", "s", "b").unwrap_err();
        assert!(err.to_string().contains("not an address"), "{err}");
    }
}
