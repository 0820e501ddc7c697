//! Registered clients, outstanding codes and refresh tokens.

use core::hash::{BuildHasher as _, Hasher as _};
use std::collections::HashMap;

use super::request::Form;
use super::ClientRegistration;

/// Which provider's endpoint a refresh token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProviderKind {
    /// Slack `oauth.v2.access` (token rotation).
    Slack,
    /// Pinterest `/v5/oauth/token`.
    Pinterest,
    /// RFC 6749 `/oauth/token`.
    Rfc6749,
}

/// An outstanding authorization code.
#[derive(Clone, Debug)]
pub(super) struct CodeGrant {
    pub(super) client_id: String,
    pub(super) redirect_uri: Option<String>,
    pub(super) code_challenge: Option<String>,
    pub(super) scope: Option<String>,
}

/// A live refresh token.
#[derive(Clone, Debug)]
pub(super) struct RefreshGrant {
    pub(super) provider: ProviderKind,
    pub(super) client_id: String,
    /// The scope originally granted (a refresh may ask for less, never more).
    pub(super) scope: String,
}

/// The result of presenting a code.
#[derive(Debug)]
pub(super) enum CodeUse {
    /// First use: the code is now spent.
    Fresh(CodeGrant),
    /// Spent before (whatever was issued for it has been revoked now).
    Reused,
    /// Never issued.
    Unknown,
}

/// Everything the provider remembers.
pub(super) struct State {
    clients: Vec<ClientRegistration>,
    codes: HashMap<String, CodeGrant>,
    /// Spent codes, with the refresh token issued for each (revoked if the code comes back).
    spent_codes: HashMap<String, Option<String>>,
    refresh: HashMap<String, RefreshGrant>,
    counter: u64,
    seed: [u8; 16],
    /// Lifetimes, labels, refresh counts and delays (see `lifecycle.rs`).
    pub(super) lifecycle: super::lifecycle::Lifecycle,
    /// The authorize endpoints show a consent page instead of approving at once.
    pub(super) consent_page: bool,
}

impl State {
    /// A state with these registrations and nothing issued.
    pub(super) fn new(clients: Vec<ClientRegistration>) -> Self {
        // Randomness for token values without a `rand` dependency: std's `RandomState` is keyed
        // from the OS's random source. Good enough for a loopback test provider; the values are
        // then stretched with SHA-256 and a counter in `random_hex`.
        let mut seed = [0u8; 16];
        for half in seed.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0x7069_636f_6175_7468);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        Self {
            clients,
            codes: HashMap::new(),
            spent_codes: HashMap::new(),
            refresh: HashMap::new(),
            counter: 0,
            seed,
            lifecycle: super::lifecycle::Lifecycle::default(),
            consent_page: false,
        }
    }

    /// The registration of `client_id`.
    pub(super) fn client(&self, client_id: &str) -> Option<&ClientRegistration> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// `len` (at most 64) fresh lowercase hex digits.
    pub(super) fn random_hex(&mut self, len: usize) -> String {
        use sha2::Digest as _;
        self.counter = self.counter.wrapping_add(1);
        let mut hasher = sha2::Sha256::new();
        hasher.update(self.seed);
        hasher.update(self.counter.to_le_bytes());
        let digest = hasher.finalize();
        let mut out: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        out.truncate(len);
        out
    }

    /// A fresh number for token parts that look numeric (Slack).
    pub(super) fn serial(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        self.counter
    }

    /// See [`super::LocalProvider::issue_code`].
    pub(super) fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: Option<&str>,
        code_challenge: Option<&str>,
        scope: Option<&str>,
    ) -> String {
        let code = self.random_hex(32);
        self.codes.insert(
            code.clone(),
            CodeGrant {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.map(str::to_owned),
                code_challenge: code_challenge.map(str::to_owned),
                scope: scope.map(str::to_owned),
            },
        );
        code
    }

    /// Spends `code`.
    pub(super) fn use_code(&mut self, code: &str) -> CodeUse {
        if let Some(grant) = self.codes.remove(code) {
            self.spent_codes.insert(code.to_owned(), None);
            return CodeUse::Fresh(grant);
        }
        match self.spent_codes.get(code) {
            Some(issued) => {
                if let Some(token) = issued.clone() {
                    self.refresh.remove(&token);
                }
                CodeUse::Reused
            }
            None => CodeUse::Unknown,
        }
    }

    /// Remembers that `refresh_token` was issued for the spent `code`.
    pub(super) fn link_code(&mut self, code: &str, refresh_token: &str) {
        if let Some(slot) = self.spent_codes.get_mut(code) {
            *slot = Some(refresh_token.to_owned());
        }
    }

    /// Stores refresh token `token`, granted to `client_id` at `provider` for `scope`.
    pub(super) fn store_refresh(
        &mut self,
        token: &str,
        provider: ProviderKind,
        client_id: &str,
        scope: &str,
    ) {
        let grant = RefreshGrant {
            provider,
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
        };
        self.refresh.insert(token.to_owned(), grant);
    }

    /// Redeems the form's `code` with its `redirect_uri` and `code_verifier` for
    /// `client` (see [`Self::redeem_code`]).
    pub(super) fn redeem_form_code(
        &mut self,
        form: &Form,
        client: &ClientRegistration,
        public: bool,
    ) -> Result<CodeGrant, CodeError> {
        self.redeem_code(
            form.get("code"),
            client,
            public,
            form.get("redirect_uri"),
            form.get("code_verifier"),
        )
    }

    /// The grant behind a live refresh token.
    pub(super) fn refresh_grant(&self, token: &str) -> Option<&RefreshGrant> {
        self.refresh.get(token)
    }

    /// Revokes a refresh token (rotation).
    pub(super) fn revoke_refresh(&mut self, token: &str) {
        self.refresh.remove(token);
    }

    /// Whether `token` is a live refresh token.
    pub(super) fn refresh_token_is_live(&self, token: &str) -> bool {
        self.refresh.contains_key(token)
    }

    /// See [`super::LocalProvider::issue_refresh_token`].
    pub(super) fn issue_refresh_token(
        &mut self,
        provider: ProviderKind,
        client_id: &str,
        scope: Option<&str>,
    ) -> String {
        let token = match provider {
            ProviderKind::Slack => format!("xoxe-1-{}", self.random_hex(40)),
            ProviderKind::Pinterest => format!("pinr_{}", self.random_hex(40)),
            ProviderKind::Rfc6749 => self.random_hex(32),
        };
        let scope = scope.unwrap_or(default_scope(provider)).to_owned();
        self.store_refresh(&token, provider, client_id, &scope);
        token
    }
}

/// The scope granted when none was asked for.
pub(super) fn default_scope(provider: ProviderKind) -> &'static str {
    match provider {
        ProviderKind::Slack => "commands,incoming-webhook",
        ProviderKind::Pinterest => "boards:read pins:read",
        ProviderKind::Rfc6749 => "read",
    }
}

/// Why a code could not be redeemed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CodeError {
    /// No code parameter.
    Missing,
    /// Never issued.
    Unknown,
    /// Already used (what it gave has been revoked).
    Reused,
    /// Issued to another client.
    WrongClient,
    /// `redirect_uri` differs from the one the code was issued with (or is not registered).
    RedirectMismatch,
    /// The code has a PKCE challenge and the verifier is missing or does not match.
    PkceMismatch,
    /// A verifier was sent for a code issued without a challenge.
    UnexpectedVerifier,
    /// A public client redeemed a code issued without a PKCE challenge.
    PkceRequired,
}

impl State {
    /// Redeems `code` for `client`: single use, same client, same `redirect_uri`, PKCE S256.
    ///
    /// The code is spent even when a later check fails, so a verifier cannot be guessed.
    pub(super) fn redeem_code(
        &mut self,
        code: Option<&str>,
        client: &ClientRegistration,
        public: bool,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<CodeGrant, CodeError> {
        let code = code.filter(|c| !c.is_empty()).ok_or(CodeError::Missing)?;
        let grant = match self.use_code(code) {
            CodeUse::Fresh(grant) => grant,
            CodeUse::Reused => return Err(CodeError::Reused),
            CodeUse::Unknown => return Err(CodeError::Unknown),
        };
        if grant.client_id != client.client_id {
            return Err(CodeError::WrongClient);
        }
        match (&grant.redirect_uri, redirect_uri) {
            (Some(issued), Some(given)) if issued == given => {}
            (Some(_), _) => return Err(CodeError::RedirectMismatch),
            (None, None) => {}
            (None, Some(given)) => {
                if !client.redirect_uris.is_empty()
                    && !client.redirect_uris.iter().any(|u| u == given)
                {
                    return Err(CodeError::RedirectMismatch);
                }
            }
        }
        match (&grant.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier))
                if super::request::pkce_s256_matches(verifier, challenge) => {}
            (Some(_), _) => return Err(CodeError::PkceMismatch),
            (None, Some(_)) => return Err(CodeError::UnexpectedVerifier),
            (None, None) if public => return Err(CodeError::PkceRequired),
            (None, None) => {}
        }
        Ok(grant)
    }
}
