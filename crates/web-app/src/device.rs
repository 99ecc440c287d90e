//! What the page asks of the device core, platform-neutral: each method takes and returns
//! plain, serialisable values (the WebAssembly exports turn them into JSON).

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use splitid_app::certificate::{CertificateSummary, summary};
use splitid_app::flows::{Pending, Registration, RegistrationStep};
use splitid_app::oidc;
use splitid_app::ports::{Clock, OsRandom, Storage, Transport};
use splitid_app::vault::StoredAccount;
use splitid_app::{App, AppError};
use splitid_proto::app_v1::{
    AccountStatus, PendingTransaction, Proofing, ProofingChallenge, ProofingMethods, PushKey,
    PushSubscription, TransactionOutcome, VouchState,
};
use splitkey::{HalfSize, KdfParams, Pin};
use zeroize::Zeroizing;

/// The app on one phone, talking to one server.
pub struct Device<S: Storage, T: Transport, C: Clock> {
    app: App<S, T, C, OsRandom>,
    server: String,
    /// The transactions last found, so that the page answers one by its id.
    pending: Mutex<Vec<Pending>>,
    /// Where a device link's answered transaction returns to the e-service, by id.
    returns: Mutex<Vec<(String, String)>>,
    key_size: HalfSize,
    kdf: KdfParams,
}

/// A registration as the page asks for it: the proofing and both PINs (each entered twice
/// on the page, which only sends them when they agree).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationRequest {
    pub proofing: Proofing,
    pub pin1: Zeroizing<String>,
    pub pin2: Zeroizing<String>,
}

/// A sign-in at the identity provider, begun: where to send the person, and what the page
/// keeps (in its session storage, no secret in it) until they come back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcSignIn {
    pub url: String,
    pub pending: PendingSignIn,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSignIn {
    pub challenge_id: String,
    pub state: String,
    /// The provider's name, to show on return.
    pub provider: String,
}

/// Another phone asked to vouch for this one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VouchAsked {
    pub challenge: ProofingChallenge,
    pub verification_code: String,
}

/// An account as the page shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    pub document_number: String,
    pub server: String,
    /// `QUALIFIED` or `ADVANCED`, from the signing certificate's policies.
    pub level: &'static str,
    pub authentication_certificate: CertificateView,
    pub signing_certificate: CertificateView,
    /// Set when this account was registered by an older app, before its secrets were sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'static str>,
}

/// A certificate's validity as the page shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    #[serde(flatten)]
    pub summary: CertificateSummary,
    /// Whole days until it expires, by this device's clock (negative: expired).
    pub days_left: i64,
}

/// A transaction as the page shows it: which account, and what the server sent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    pub document_number: String,
    #[serde(flatten)]
    pub transaction: PendingTransaction,
}

const DAY: i64 = 86_400;

impl<S: Storage, T: Transport, C: Clock> Device<S, T, C> {
    /// The app on these ports, for the server at `server` (its base URL). Keys are RSA-3072
    /// halves sealed under Argon2id with the recommended cost, as on any phone.
    pub fn new(server: &str, vault: S, transport: T, clock: C) -> Self {
        Device {
            app: App::with_ports(vault, transport, clock, OsRandom),
            server: server.trim_end_matches('/').to_owned(),
            pending: Mutex::new(Vec::new()),
            returns: Mutex::new(Vec::new()),
            key_size: HalfSize::default(),
            kdf: KdfParams::default(),
        }
    }

    /// The same with other key sizes and PIN key derivation (tests).
    pub fn with_keys(mut self, key_size: HalfSize, kdf: KdfParams) -> Self {
        self.key_size = key_size;
        self.kdf = kdf;
        self
    }

    /// The accounts on this phone, with their certificates' validity at `now` (Unix seconds).
    pub async fn accounts(&self, now: u64) -> Result<Vec<AccountView>, AppError> {
        self.app
            .accounts()
            .await?
            .iter()
            .map(|account| account_view(account, now))
            .collect()
    }

    /// Registers this phone: both keys, the proofing, the new account; `progress` is told
    /// each step as it begins.
    pub async fn register(
        &self,
        request: RegistrationRequest,
        now: u64,
        progress: impl Fn(RegistrationStep),
    ) -> Result<AccountView, AppError> {
        let pin1 = Pin::new(&request.pin1)?;
        let pin2 = Pin::new(&request.pin2)?;
        let registration = Registration {
            server: self.server.clone(),
            proofing: request.proofing,
            half: self.key_size,
            kdf: self.kdf,
            supported_interactions: None,
            server_key_fingerprint: None,
        };
        let account = self
            .app
            .register_with_progress(registration, &pin1, &pin2, progress)
            .await?;
        account_view(&account, now)
    }

    /// Transactions waiting for this phone, waiting up to `wait` for one.
    pub async fn pending(&self, wait: Duration) -> Result<Vec<TransactionView>, AppError> {
        let found = self.app.pending(wait).await?;
        let views = found
            .iter()
            .map(|pending| TransactionView {
                document_number: pending.account.document_number.clone(),
                transaction: pending.transaction.clone(),
            })
            .collect();
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = found;
        Ok(views)
    }

    /// Opens an RP API v3 device link (a QR code's, a Web2App link the browser opened in the
    /// app's scope): its session becomes the transaction returned, answered like one found by
    /// [`pending`](Self::pending).
    pub async fn open_link(&self, link: &str) -> Result<TransactionView, AppError> {
        let pending = self.app.open_link(link, None).await?;
        let view = TransactionView {
            document_number: pending.account.document_number.clone(),
            transaction: pending.transaction.clone(),
        };
        let mut known = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        known.retain(|other| other.transaction.transaction_id != view.transaction.transaction_id);
        known.push(pending);
        Ok(view)
    }

    /// Where an answered device-link transaction returns to the e-service (once).
    pub fn take_return(&self, transaction_id: &str) -> Option<String> {
        let mut returns = self.returns.lock().unwrap_or_else(|e| e.into_inner());
        let at = returns.iter().position(|(id, _)| id == transaction_id)?;
        Some(returns.remove(at).1)
    }

    fn keep_return(&self, transaction_id: &str, url: Option<String>) {
        if let Some(url) = url {
            let mut returns = self.returns.lock().unwrap_or_else(|e| e.into_inner());
            returns.push((transaction_id.to_owned(), url));
        }
    }

    /// Confirms a transaction found by [`pending`](Self::pending), with the PIN it needs
    /// (none for a certificate choice) and the code chosen where the person chooses one.
    pub async fn confirm(
        &self,
        transaction_id: &str,
        pin: Option<Zeroizing<String>>,
        chosen_code: Option<String>,
    ) -> Result<TransactionOutcome, AppError> {
        let pending = self.found(transaction_id)?;
        let pin = pin.map(|pin| Pin::new(&pin)).transpose()?;
        let (outcome, returning) = self
            .app
            .confirm_returning(&pending, pin.as_ref(), chosen_code)
            .await?;
        if !matches!(outcome, TransactionOutcome::WrongPin { .. }) {
            self.keep_return(transaction_id, returning);
        }
        self.forget_unless_open(transaction_id, &outcome);
        Ok(outcome)
    }

    /// Refuses a transaction found by [`pending`](Self::pending).
    pub async fn refuse(&self, transaction_id: &str) -> Result<TransactionOutcome, AppError> {
        let pending = self.found(transaction_id)?;
        let outcome = self.app.refuse(&pending, None).await?;
        self.keep_return(transaction_id, pending.transaction.callback_url.clone());
        self.forget_unless_open(transaction_id, &outcome);
        Ok(outcome)
    }

    /// The server's view of an account: its state and PIN locks.
    pub async fn status(&self, document_number: &str) -> Result<AccountStatus, AppError> {
        let account = self
            .app
            .accounts()
            .await?
            .into_iter()
            .find(|account| account.document_number == document_number)
            .ok_or_else(|| {
                AppError::Usage(format!("no account {document_number} on this phone"))
            })?;
        self.app.status(&account).await
    }

    /// Deletes an account on the server and on this phone.
    pub async fn delete(&self, document_number: &str) -> Result<(), AppError> {
        self.app.delete(document_number).await
    }

    /// The key this browser's push subscription must be made with.
    pub async fn push_key(&self) -> Result<PushKey, AppError> {
        self.app.push_key(&self.server).await
    }

    /// Gives every account on this phone the browser's push subscription (one browser, one
    /// subscription), or with `None` takes it back; returns how many accounts were told.
    /// Every account is tried; the first failure is returned after.
    pub async fn set_push_subscription(
        &self,
        subscription: Option<&PushSubscription>,
    ) -> Result<usize, AppError> {
        let mut told = 0;
        let mut first_failure = None;
        for account in self.app.accounts().await? {
            match self.app.set_push_subscription(&account, subscription).await {
                Ok(()) => told += 1,
                Err(error) => {
                    first_failure.get_or_insert(error);
                }
            }
        }
        match first_failure {
            Some(error) => Err(error),
            None => Ok(told),
        }
    }

    /// The proofing methods the server accepts, for the page to offer.
    pub async fn proofing_methods(&self) -> Result<ProofingMethods, AppError> {
        self.app.proofing_methods(&self.server).await
    }

    /// Begins signing in at the server's OpenID Connect provider: a proofing challenge and
    /// where to send the person, who comes back to `redirect_uri` (the app's own address).
    pub async fn begin_oidc_sign_in(&self, redirect_uri: &str) -> Result<OidcSignIn, AppError> {
        let provider = self.proofing_methods().await?.oidc.ok_or_else(|| {
            AppError::Usage("this server accepts no identity provider's sign-in".into())
        })?;
        let challenge = self.app.proofing_challenge(&self.server).await?;
        let state = oidc::new_state(&OsRandom)?;
        let url = oidc::authorization_url(&provider, redirect_uri, &challenge, &state)?;
        Ok(OidcSignIn {
            url,
            pending: PendingSignIn {
                challenge_id: challenge.challenge_id,
                state,
                provider: provider.name,
            },
        })
    }

    /// The proof the provider's answer (the fragment of the address it sent the person back
    /// to) gives, for the sign-in `pending` describes.
    pub fn finish_oidc_sign_in(
        &self,
        fragment: &str,
        pending: &PendingSignIn,
    ) -> Result<Proofing, AppError> {
        let id_token = oidc::id_token_from_redirect(fragment, &pending.state)?;
        Ok(Proofing::Oidc {
            challenge_id: pending.challenge_id.clone(),
            id_token,
        })
    }

    /// Asks the phone with the account `document_number` to vouch for this one (a PIN1 login
    /// there): the challenge to wait on, and the code both screens show.
    pub async fn ask_other_device(&self, document_number: &str) -> Result<VouchAsked, AppError> {
        let challenge = self.app.proofing_challenge(&self.server).await?;
        let session = self
            .app
            .start_vouch_session(&self.server, &challenge, document_number.trim())
            .await?;
        Ok(VouchAsked {
            challenge,
            verification_code: session.verification_code,
        })
    }

    /// Whether the other phone vouched, waiting up to `wait`.
    pub async fn vouch_state(
        &self,
        challenge: &ProofingChallenge,
        wait: Duration,
    ) -> Result<VouchState, AppError> {
        self.app.vouch_state(&self.server, challenge, wait).await
    }

    /// Sends any request left in flight (a lost answer, a closed tab): what the page does
    /// first when it opens.
    pub async fn resume(&self) -> Result<usize, AppError> {
        self.app.resume().await
    }

    fn found(&self, transaction_id: &str) -> Result<Pending, AppError> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|pending| pending.transaction.transaction_id == transaction_id)
            .cloned()
            .ok_or_else(|| {
                AppError::Usage("this transaction is no longer waiting: check again".into())
            })
    }

    /// A wrong PIN leaves the transaction open (to try again); anything else ends it.
    fn forget_unless_open(&self, transaction_id: &str, outcome: &TransactionOutcome) {
        if !matches!(outcome, TransactionOutcome::WrongPin { .. }) {
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|pending| pending.transaction.transaction_id != transaction_id);
        }
    }
}

fn account_view(account: &StoredAccount, now: u64) -> Result<AccountView, AppError> {
    let certificate = |what: &str, text: &str| -> Result<CertificateView, AppError> {
        let der = BASE64
            .decode(text)
            .map_err(|_| AppError::Vault(format!("the {what} certificate is not base64")))?;
        let summary =
            summary(&der).map_err(|e| AppError::Vault(format!("{what} certificate: {e}")))?;
        let days_left = (summary.not_after as i64 - now as i64).div_euclid(DAY);
        Ok(CertificateView { summary, days_left })
    };
    let signing = certificate("signing", &account.signing_certificate)?;
    Ok(AccountView {
        document_number: account.document_number.clone(),
        server: account.server.clone(),
        level: signing.summary.level,
        authentication_certificate: certificate(
            "authentication",
            &account.authentication_certificate,
        )?,
        signing_certificate: signing,
        warning: account.registration_warning(),
    })
}
