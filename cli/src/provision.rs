//! `--save-token-set FILE` and `--provisioning-image FILE` (of `picoauth login` and
//! `picoauth tokens export`): a token set in the firmware's encoding
//! ([`TokenSet::encode`], versioned `postcard`), and the provisioning image
//! ([`picoauth::provision::Image`]: client id, client secret, token set; magic,
//! version, length, CRC-32) that `probe-rs download --binary-format bin
//! --base-address …` writes into the device's provisioning region.
//!
//! Both files hold secrets: they are created with mode 0600 (and set to it if they
//! existed), their contents are never printed, and the buffers are wiped after use.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use picoauth::provision::Image;
use picoauth::token_set::TokenSet;
use picoauth::ClientSecret;
use zeroize::Zeroizing;

/// The token set as the command holds it: room for JWT access tokens (the firmware
/// decodes it with its own, smaller, capacities and refuses what does not fit).
pub(crate) type CliTokenSet = TokenSet<1024, 1024>;

/// Where to write the token set, if anywhere.
#[derive(Debug, Default, Clone, clap::Args)]
pub(crate) struct Outputs {
    /// Write the token set in the firmware's encoding (versioned postcard) to this
    /// file (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub(crate) save_token_set: Option<PathBuf>,
    /// Write a provisioning image (client id, client secret, token set; magic,
    /// version, length, CRC-32) to this file (mode 0600), for `probe-rs download
    /// --binary-format bin --base-address …` (see picoauth-embassy's README).
    #[arg(long, value_name = "FILE")]
    pub(crate) provisioning_image: Option<PathBuf>,
}

impl Outputs {
    /// Whether any output was asked for.
    pub(crate) fn wanted(&self) -> bool {
        self.save_token_set.is_some() || self.provisioning_image.is_some()
    }

    /// Writes the asked-for files; returns one line per file written for the
    /// terminal (paths and sizes, no contents).
    pub(crate) fn write(
        &self,
        set: &CliTokenSet,
        client_id: &str,
        client_secret: Option<&str>,
        id: u64,
    ) -> Result<Vec<String>, String> {
        let mut done = Vec::new();
        let len = set.encoded_len().map_err(|e| format!("token set: {e}"))?;
        let mut encoded = Zeroizing::new(vec![0u8; len]);
        set.encode(&mut encoded)
            .map_err(|e| format!("token set: {e}"))?;
        if let Some(path) = &self.save_token_set {
            write_secret_file(path, &encoded)?;
            done.push(format!(
                "wrote the token set ({len} bytes) to {}",
                path.display()
            ));
        }
        if let Some(path) = &self.provisioning_image {
            let image = Image {
                id,
                client_id,
                client_secret: client_secret.map(ClientSecret::new),
                token_set: &encoded,
            };
            let n = image
                .encoded_len()
                .map_err(|e| format!("provisioning image: {e}"))?;
            let mut bytes = Zeroizing::new(vec![0u8; n]);
            image
                .encode(&mut bytes)
                .map_err(|e| format!("provisioning image: {e}"))?;
            write_secret_file(path, &bytes)?;
            done.push(format!(
                "wrote the provisioning image ({n} bytes, id {id:016x}) to {}",
                path.display()
            ));
        }
        Ok(done)
    }
}

/// A fresh random provisioning id.
pub(crate) fn random_id() -> Result<u64, String> {
    let mut b = [0u8; 8];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut b)
        .map_err(|_| "no secure random numbers available".to_owned())?;
    Ok(u64::from_le_bytes(b))
}

/// Writes `bytes` to `path`, readable and writable by the owner only.
fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        opts.mode(0o600);
        let mut f = opts.open(path).map_err(fail)?;
        // An existing file keeps its mode on open: narrow it before writing.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
        f.write_all(bytes).map_err(fail)?;
        f.sync_all().map_err(fail)
    }
    #[cfg(not(unix))]
    {
        let mut f = opts.open(path).map_err(fail)?;
        f.write_all(bytes).map_err(fail)?;
        f.sync_all().map_err(fail)
    }
}
