//! What the person does with the app: register, check for transactions, confirm or refuse,
//! look at accounts and their certificates, delete one.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use splitid_proto::VerificationCode;
use splitid_proto::app_v1::{
    AccountStatus, AcspTransaction, CodeOrigin, Confirmation, DeviceLinkClaim,
    EXPECTED_LINKED_SESSION_SCREEN, KeyHandover, MAC_KEY_LEN, PROTOCOL_FAILURE_SCREEN,
    PendingTransaction, PendingTransactions, Proofing, ProofingChallenge, ProofingMethods, PushKey,
    PushSubscription, Refusal, RegisteredAccount, RegistrationChallenge, RegistrationProof,
    RegistrationRequest, SealedSecret, ServerKeyDocument, TransactionOutcome, Vouch, VouchSession,
    VouchSessionRequest, VouchState, vouch_message,
};
use splitid_proto::rp_v3::device_link::user_challenge;
use splitid_proto::rp_v3::interactions::{InteractionFlow, Interactions};
use splitid_sealing::{Binding, PublicServerKey, follow_rotations};
use splitkey::{
    CompositePublicKey, DeviceKeyOptions, DeviceShare, HalfSize, HashAlgorithm, KdfParams, Padding,
    PartialSignature, Pin, ServerShareHandover, SignRequest, generate_device_key,
    proof_of_possession_request,
};

use zeroize::Zeroizing;

use crate::AppError;
use crate::channel::Channel;
#[cfg(feature = "desktop")]
use crate::desktop::{FileVault, HttpTransport, SystemClock};
use crate::ports::{Clock, Method, OsRandom, Random, Storage, Transport};
use crate::vault::{StoredAccount, StoredShare};

/// Fewest digits of PIN1 and PIN2.
pub const PIN1_MIN_DIGITS: usize = 4;
pub const PIN2_MIN_DIGITS: usize = 5;

/// What a registration needs besides the PINs.
#[derive(Debug, Clone)]
pub struct Registration {
    pub server: String,
    pub proofing: Proofing,
    pub half: HalfSize,
    pub kdf: KdfParams,
    /// The interactions this app runs (RP API names); `None` for all four.
    pub supported_interactions: Option<Vec<String>>,
    /// The fingerprint of the server's channel key, given out of band (`serve` prints it):
    /// registration refuses any other key. `None`: the key the server presents (over TLS).
    pub server_key_fingerprint: Option<String>,
}

/// The app: its flows over the device's ports (see [`crate::ports`]). `App` alone is the
/// desktop's, on a home directory ([`App::open`]).
#[cfg(feature = "desktop")]
pub struct App<S = FileVault, T = HttpTransport, C = SystemClock, R = OsRandom> {
    vault: S,
    channel: Channel<T, C, R>,
}

/// The app: its flows over the device's ports (see [`crate::ports`]).
#[cfg(not(feature = "desktop"))]
pub struct App<S, T, C, R = OsRandom> {
    vault: S,
    channel: Channel<T, C, R>,
}

/// Where a registration is: each step's start is reported to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStep {
    /// Making the PIN1 key (prime search, then the PIN's key derivation).
    AuthenticationKey,
    /// Making the PIN2 key.
    SigningKey,
    /// Handing the server its shares and proving possession with both PINs.
    WithTheServer,
}

impl RegistrationStep {
    /// Its name for a page: `authenticationKey`, `signingKey`, `withTheServer`.
    pub fn name(self) -> &'static str {
        match self {
            RegistrationStep::AuthenticationKey => "authenticationKey",
            RegistrationStep::SigningKey => "signingKey",
            RegistrationStep::WithTheServer => "withTheServer",
        }
    }
}

/// A transaction together with the account it is for.
#[derive(Debug, Clone)]
pub struct Pending {
    pub account: StoredAccount,
    pub transaction: PendingTransaction,
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, AppError> {
    BASE64
        .decode(text)
        .map_err(|_| AppError::Protocol(format!("{field} is not base64")))
}

#[cfg(feature = "desktop")]
impl App {
    /// The desktop app on a home directory: `vault.json` there, HTTP, the system's clock and
    /// randomness.
    pub fn open(home: &std::path::Path) -> Self {
        Self::open_with(home, HttpTransport::default())
    }

    /// The desktop app on a home directory, with its own HTTP transport (one that trusts a
    /// private CA, say).
    pub fn open_with(home: &std::path::Path, transport: HttpTransport) -> Self {
        App::with_ports(FileVault::new(home), transport, SystemClock, OsRandom)
    }
}

impl<S: Storage, T: Transport, C: Clock, R: Random> App<S, T, C, R> {
    /// The app on the given ports.
    pub fn with_ports(vault: S, transport: T, clock: C, random: R) -> Self {
        App {
            vault,
            channel: Channel::new(transport, clock, random),
        }
    }

    /// Bytes of app API request and response bodies this app has sent and received (HTTP
    /// headers not included): what a phone's data plan pays, less the headers.
    pub fn body_bytes(&self) -> u64 {
        self.channel.body_bytes()
    }

    /// Registers this device: makes both keys (PIN1 for authentication, PIN2 for signing),
    /// hands the server its shares, proves possession, stores the new account.
    pub async fn register(
        &self,
        registration: Registration,
        pin1: &Pin,
        pin2: &Pin,
    ) -> Result<StoredAccount, AppError> {
        self.register_with_progress(registration, pin1, pin2, |_| {})
            .await
    }

    /// [`register`](Self::register), telling `progress` as each step begins (a phone shows
    /// it: the key generations take seconds).
    pub async fn register_with_progress(
        &self,
        registration: Registration,
        pin1: &Pin,
        pin2: &Pin,
        progress: impl Fn(RegistrationStep),
    ) -> Result<StoredAccount, AppError> {
        if pin1.len() < PIN1_MIN_DIGITS || pin2.len() < PIN2_MIN_DIGITS {
            return Err(AppError::Usage(
                "PIN1 needs at least 4 digits and PIN2 at least 5".into(),
            ));
        }
        let base = registration.server.trim_end_matches('/').to_owned();
        check_server_address(&base)?;
        let server_key = self
            .registration_server_key(&base, registration.server_key_fingerprint.as_deref())
            .await?;
        progress(RegistrationStep::AuthenticationKey);
        let (auth, auth_handover) = make_key(
            &registration,
            pin1,
            "authentication",
            PIN1_MIN_DIGITS,
            self.channel.random(),
        )
        .await?;
        progress(RegistrationStep::SigningKey);
        let (sign, sign_handover) = make_key(
            &registration,
            pin2,
            "signing",
            PIN2_MIN_DIGITS,
            self.channel.random(),
        )
        .await?;
        let request = RegistrationRequest {
            proofing: registration.proofing.clone(),
            authentication: handover_wire(&auth_handover, &server_key, "authentication")?,
            signing: handover_wire(&sign_handover, &server_key, "signing")?,
            supported_interactions: registration.supported_interactions.clone(),
        };
        drop((auth_handover, sign_handover));
        progress(RegistrationStep::WithTheServer);
        let challenge: RegistrationChallenge = self
            .channel
            .post(&format!("{base}/app/v1/registrations"), &request)
            .await?;
        let proving = |share, pin, composite, purpose| Proving {
            share,
            pin,
            composite,
            purpose,
            challenge: &challenge,
            server_key: &server_key,
        };
        // The channel's MAC key is ours: chosen here, sent only sealed, so that no recording of
        // the registration can forge this device's requests.
        let mut mac_key = Zeroizing::new([0u8; MAC_KEY_LEN]);
        self.channel.random().fill(&mut *mac_key)?;
        let proof = RegistrationProof {
            authentication: proving(
                &auth,
                pin1,
                &challenge.authentication.modulus,
                "authentication",
            )
            .prove()
            .await?,
            signing: proving(&sign, pin2, &challenge.signing.modulus, "signing")
                .prove()
                .await?,
            sealed_mac_key: server_key.seal(
                &*mac_key,
                &Binding::MacKey {
                    registration: &challenge.registration_id,
                },
            )?,
        };
        let url = format!(
            "{base}/app/v1/registrations/{}/complete",
            challenge.registration_id
        );
        let registered: RegisteredAccount = self.channel.post(&url, &proof).await?;
        check_certificate_key(
            "authentication",
            &registered.authentication_certificate,
            &challenge.authentication.modulus,
        )?;
        check_certificate_key(
            "signing",
            &registered.signing_certificate,
            &challenge.signing.modulus,
        )?;
        let account = StoredAccount {
            server: base,
            account_id: registered.account_id,
            document_number: registered.document_number,
            mac_key: BASE64.encode(*mac_key),
            ratchet_token: registered.ratchet_token,
            authentication: StoredShare::from_share(&auth)
                .with_composite(&challenge.authentication.modulus),
            signing: StoredShare::from_share(&sign).with_composite(&challenge.signing.modulus),
            authentication_certificate: registered.authentication_certificate,
            signing_certificate: registered.signing_certificate,
            expires_at: registered.expires_at,
            server_key: Some(server_key.to_wire()),
            in_flight: None,
            sealed_registration: true,
        };
        let _locked = self.vault.lock().await?;
        let mut vault = self.vault.load().await?;
        vault.accounts.push(account.clone());
        self.vault.save(&vault).await?;
        Ok(account)
    }

    /// The server's channel key at registration: the one whose fingerprint was given out of
    /// band, or else the one the server presents.
    async fn registration_server_key(
        &self,
        base: &str,
        fingerprint: Option<&str>,
    ) -> Result<PublicServerKey, AppError> {
        let document: ServerKeyDocument = self
            .channel
            .get_public(&format!("{base}/app/v1/server-key"))
            .await?;
        let key = PublicServerKey::from_wire(&document.current)?;
        if let Some(expected) = fingerprint
            && !expected.trim().eq_ignore_ascii_case(&key.fingerprint())
        {
            return Err(AppError::Protocol(format!(
                "the server's key has the fingerprint {}, not the one given ({}): refusing to register with it",
                key.fingerprint(),
                expected.trim()
            )));
        }
        Ok(key)
    }

    /// The key to seal `account`'s secrets to: the pinned one while the server names it
    /// (`current`, from a transaction), else the server's current key, accepted only through
    /// rotations the pinned key signed and then pinned instead. An account of an older app,
    /// which pinned nothing, pins the server's current key now.
    async fn server_key(
        &self,
        account: &StoredAccount,
        current: Option<&str>,
    ) -> Result<PublicServerKey, AppError> {
        if let (Some(pinned), Some(current)) = (&account.server_key, current)
            && pinned.key_id == current
        {
            return Ok(PublicServerKey::from_wire(pinned)?);
        }
        let base = account.server.trim_end_matches('/');
        let document: ServerKeyDocument = self
            .channel
            .get_public(&format!("{base}/app/v1/server-key"))
            .await?;
        let key = match &account.server_key {
            Some(pinned) => follow_rotations(&PublicServerKey::from_wire(pinned)?, &document)?,
            None => PublicServerKey::from_wire(&document.current)?,
        };
        if account.server_key.as_ref() != Some(&key.to_wire()) {
            let _locked = self.vault.lock().await?;
            let mut vault = self.vault.load().await?;
            let index = account_index(&vault, account)?;
            vault.accounts[index].server_key = Some(key.to_wire());
            self.vault.save(&vault).await?;
        }
        Ok(key)
    }

    /// The identity proofing methods the server accepts, for the app to offer.
    pub async fn proofing_methods(&self, server: &str) -> Result<ProofingMethods, AppError> {
        let base = server.trim_end_matches('/');
        self.channel
            .get_public(&format!("{base}/app/v1/proofing-methods"))
            .await
    }

    /// A single-use identity proofing challenge from the server (the nonce for an ID token,
    /// what an eID certificate's key signs, what an existing account vouches for).
    pub async fn proofing_challenge(&self, server: &str) -> Result<ProofingChallenge, AppError> {
        let base = server.trim_end_matches('/');
        self.channel
            .post(
                &format!("{base}/app/v1/proofing-challenges"),
                &serde_json::json!({}),
            )
            .await
    }

    /// Vouches for a proofing challenge with an account on this device: a PIN1 login, judged
    /// and counted like any other. `Completed` when the PIN was right.
    pub async fn vouch(
        &self,
        document_number: &str,
        challenge: &ProofingChallenge,
        pin1: &Pin,
    ) -> Result<TransactionOutcome, AppError> {
        let account = self.account(document_number).await?;
        let share = account.authentication.to_share()?;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(vouch_message(
            &challenge.challenge_id,
            &challenge.challenge,
        ));
        let request = SignRequest::new(
            share.half_size(),
            HashAlgorithm::Sha256,
            Padding::Pkcs1v15,
            digest.as_ref(),
        )?;
        let server_key = self.server_key(&account, None).await?;
        let partial = partial_sign(share, pin1, request).await?;
        let vouch = Vouch {
            challenge_id: challenge.challenge_id.clone(),
            sealed_partial_signature: server_key.seal(
                partial.as_bytes(),
                &Binding::Vouch {
                    account: &account.account_id,
                    challenge: &challenge.challenge_id,
                },
            )?,
        };
        let path = format!("/app/v1/accounts/{}/vouch", account.account_id);
        self.ratcheted(&account, Method::Post, &path, Some(&vouch))
            .await
    }

    /// Asks the device of `document_number` (another phone) to vouch for the challenge with a
    /// PIN1 login; returns the verification code to show.
    pub async fn start_vouch_session(
        &self,
        server: &str,
        challenge: &ProofingChallenge,
        document_number: &str,
    ) -> Result<VouchSession, AppError> {
        let base = server.trim_end_matches('/');
        self.channel
            .post(
                &format!(
                    "{base}/app/v1/proofing-challenges/{}/vouch-session",
                    challenge.challenge_id
                ),
                &VouchSessionRequest {
                    document_number: document_number.to_owned(),
                },
            )
            .await
    }

    /// Whether an account vouched for the challenge, waiting up to `wait`.
    pub async fn vouch_state(
        &self,
        server: &str,
        challenge: &ProofingChallenge,
        wait: Duration,
    ) -> Result<VouchState, AppError> {
        let base = server.trim_end_matches('/');
        self.channel
            .get_public(&format!(
                "{base}/app/v1/proofing-challenges/{}?waitMs={}",
                challenge.challenge_id,
                wait.as_millis()
            ))
            .await
    }

    /// Whether an account with this document number is on this device.
    pub async fn has_account(&self, document_number: &str) -> Result<bool, AppError> {
        Ok(self.account(document_number).await.is_ok())
    }

    async fn account(&self, document_number: &str) -> Result<StoredAccount, AppError> {
        self.accounts()
            .await?
            .into_iter()
            .find(|a| a.document_number == document_number)
            .ok_or_else(|| AppError::Usage(format!("no account {document_number} on this device")))
    }

    /// The accounts on this device.
    pub async fn accounts(&self) -> Result<Vec<StoredAccount>, AppError> {
        Ok(self.vault.load().await?.accounts)
    }

    /// The server's view of an account: state, PIN locks and their end times.
    pub async fn status(&self, account: &StoredAccount) -> Result<AccountStatus, AppError> {
        self.channel
            .get(
                account,
                &format!("/app/v1/accounts/{}", account.account_id),
                "",
            )
            .await
    }

    /// The key the browser's push subscription must be made with (the service's VAPID key).
    pub async fn push_key(&self, server: &str) -> Result<PushKey, AppError> {
        check_server_address(server)?;
        let url = format!("{}/app/v1/push-key", server.trim_end_matches('/'));
        self.channel.get_public(&url).await
    }

    /// Tells the server where to notify this account's device of transactions (`None`: not
    /// any more).
    pub async fn set_push_subscription(
        &self,
        account: &StoredAccount,
        subscription: Option<&PushSubscription>,
    ) -> Result<(), AppError> {
        let path = format!("/app/v1/accounts/{}/push-subscription", account.account_id);
        let method = match subscription {
            Some(_) => Method::Put,
            None => Method::Delete,
        };
        self.channel
            .put_or_delete(account, method, &path, subscription)
            .await
    }

    /// Transactions waiting on any account of this device, waiting up to `wait` for one.
    pub async fn pending(&self, wait: Duration) -> Result<Vec<Pending>, AppError> {
        let query = format!("?waitMs={}", wait.as_millis());
        let mut polls: FuturesUnordered<_> = self
            .accounts()
            .await?
            .into_iter()
            .map(|account| self.pending_on(account, &query))
            .collect();
        // The first account with transactions ends the wait for the others: their long polls
        // are dropped (cancelled), and answers that are already in are kept.
        while let Some(result) = polls.next().await {
            let mut found = result?;
            if !found.is_empty() {
                while let Some(Some(Ok(more))) = polls.next().now_or_never() {
                    found.extend(more);
                }
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    async fn pending_on(
        &self,
        account: StoredAccount,
        query: &str,
    ) -> Result<Vec<Pending>, AppError> {
        let path = format!("/app/v1/accounts/{}/transactions", account.account_id);
        let list: PendingTransactions = self.channel.get(&account, &path, query).await?;
        Ok(list
            .transactions
            .into_iter()
            .map(|transaction| Pending {
                account: account.clone(),
                transaction,
            })
            .collect())
    }

    /// Stays connected to the push channel of every account on this device and hands each
    /// transaction to `on_transaction` the moment it arrives, until that returns false.
    /// (The desktop's: the browser app hears of transactions by Web Push and by polling.)
    #[cfg(feature = "desktop")]
    pub async fn listen(
        &self,
        mut on_transaction: impl FnMut(Pending) -> bool,
    ) -> Result<(), AppError> {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<(StoredAccount, String)>(16);
        let mut tasks = tokio::task::JoinSet::new();
        for account in self.accounts().await? {
            let channel = self.channel.clone();
            let sender = sender.clone();
            tasks.spawn(async move {
                let (events, mut incoming) = tokio::sync::mpsc::channel(16);
                let path = format!("/app/v1/accounts/{}/events", account.account_id);
                // The server ends a stream after a while: connect again (a new, freshly
                // authenticated request) for as long as someone listens.
                let follow = async {
                    loop {
                        channel
                            .follow_events(&account, &path, events.clone())
                            .await?;
                        if events.is_closed() {
                            return Ok::<(), AppError>(());
                        }
                    }
                };
                let forward = async {
                    while let Some(data) = incoming.recv().await {
                        if sender.send((account.clone(), data)).await.is_err() {
                            break;
                        }
                    }
                };
                tokio::select! {
                    result = follow => result,
                    () = forward => Ok(()),
                }
            });
        }
        drop(sender);
        if tasks.is_empty() {
            return Err(AppError::Usage("no accounts on this device".into()));
        }
        while let Some((account, data)) = receiver.recv().await {
            let transaction: PendingTransaction =
                serde_json::from_str(&data).map_err(|e| AppError::Protocol(e.to_string()))?;
            if !on_transaction(Pending {
                account,
                transaction,
            }) {
                break;
            }
        }
        tasks.abort_all();
        Ok(())
    }

    /// Presents a device link (RP API v3: a scanned QR code, a Web2App or App2App link) to
    /// the server of the account it is meant for: the session it opens becomes that
    /// account's transaction, returned to be confirmed or refused. `document_number` picks
    /// the account when this device has several at that server.
    pub async fn open_link(
        &self,
        link: &str,
        document_number: Option<&str>,
    ) -> Result<Pending, AppError> {
        let link = link.trim();
        let base = link.split('?').next().unwrap_or_default();
        let server = base.strip_suffix("/device-link").ok_or_else(|| {
            AppError::Usage("this is not a SplitID device link (…/device-link?…)".into())
        })?;
        let at_server: Vec<StoredAccount> = self
            .accounts()
            .await?
            .into_iter()
            .filter(|account| account.server.trim_end_matches('/') == server)
            .filter(|account| document_number.is_none_or(|doc| account.document_number == doc))
            .collect();
        let account = match &at_server[..] {
            [only] => only.clone(),
            [] => {
                return Err(AppError::Usage(format!(
                    "no account on this device at {server}, which the link is for"
                )));
            }
            _ => {
                return Err(AppError::Usage(format!(
                    "this device has several accounts at {server}: choose one"
                )));
            }
        };
        let path = format!("/app/v1/accounts/{}/device-links", account.account_id);
        let claim = DeviceLinkClaim {
            link: link.to_owned(),
        };
        let transaction = self.channel.post_signed(&account, &path, &claim).await?;
        Ok(Pending {
            account,
            transaction,
        })
    }

    /// After a device link's certificate choice (`choice`, confirmed): waits up to `wait` for
    /// the signature linked to it, which goes to the same account, and returns it. Any other
    /// transaction of that account arriving meanwhile is refused with the screen
    /// [`EXPECTED_LINKED_SESSION_SCREEN`] (its relying party gets EXPECTED_LINKED_SESSION).
    /// `None` when no linked signature came.
    pub async fn await_linked(
        &self,
        choice: &Pending,
        wait: Duration,
    ) -> Result<Option<Pending>, AppError> {
        let clock = self.channel.clock();
        let deadline = clock.unix_seconds() + wait.as_secs();
        loop {
            let left = deadline.saturating_sub(clock.unix_seconds());
            let query = format!("?waitMs={}", left * 1000);
            for pending in self.pending_on(choice.account.clone(), &query).await? {
                if pending.transaction.linked_to.as_ref()
                    == Some(&choice.transaction.transaction_id)
                {
                    return Ok(Some(pending));
                }
                let screen = Some(EXPECTED_LINKED_SESSION_SCREEN.to_owned());
                self.refuse(&pending, screen).await?;
            }
            if left == 0 {
                return Ok(None);
            }
        }
    }

    /// Confirms a transaction. For signing transactions the PIN opens the key share and the
    /// device checks, before using it, that what it signs encodes the hash shown. The server
    /// completes the signature and verifies it against the composite key (a wrong PIN's does
    /// not verify), so the answer carries only the end result.
    pub async fn confirm(
        &self,
        pending: &Pending,
        pin: Option<&Pin>,
        chosen_code: Option<String>,
    ) -> Result<TransactionOutcome, AppError> {
        let (outcome, _) = self.confirm_returning(pending, pin, chosen_code).await?;
        Ok(outcome)
    }

    /// [`confirm`](Self::confirm), with where a device link's flow returns: the transaction's
    /// `callbackUrl`, and for an ACSP_V2 login its `userChallengeVerifier` appended (the
    /// relying party checks it against the signed `userChallenge`).
    pub async fn confirm_returning(
        &self,
        pending: &Pending,
        pin: Option<&Pin>,
        chosen_code: Option<String>,
    ) -> Result<(TransactionOutcome, Option<String>), AppError> {
        let transaction = &pending.transaction;
        let mut confirmation = Confirmation {
            sealed_partial_signature: None,
            chosen_code,
            encoded_message: None,
            user_challenge: None,
        };
        let mut verifier = None;
        if let Some(key_use) = transaction.key {
            let stored = match key_use {
                splitid_proto::app_v1::KeyUse::Authentication => &pending.account.authentication,
                splitid_proto::app_v1::KeyUse::Signing => &pending.account.signing,
            };
            let share = stored.to_share()?;
            let checked = checked_request(transaction, share.half_size(), self.channel.random());
            if let Err(AppError::Protocol(why)) = &checked {
                // A transaction that does not add up is not left waiting for the timeout:
                // the relying party hears PROTOCOL_FAILURE now. Whether that refusal arrives
                // or not, the app signs nothing.
                let screen = Some(PROTOCOL_FAILURE_SCREEN.to_owned());
                let _ = self.refuse(pending, screen).await;
                return Err(AppError::Protocol(why.clone()));
            }
            let Checked {
                request,
                user_challenge_verifier,
            } = checked?;
            let pin = pin.ok_or_else(|| AppError::Usage("this transaction needs a PIN".into()))?;
            if request.padding() == Padding::Pss {
                confirmation.encoded_message = Some(BASE64.encode(request.encoded()));
            }
            confirmation.user_challenge = user_challenge_verifier.as_deref().map(user_challenge);
            verifier = user_challenge_verifier;
            let server_key = self
                .server_key(&pending.account, transaction.server_key_id.as_deref())
                .await?;
            let partial = partial_sign(share, pin, request.clone()).await?;
            confirmation.sealed_partial_signature = Some(server_key.seal(
                partial.as_bytes(),
                &Binding::Confirmation {
                    account: &pending.account.account_id,
                    purpose: key_purpose(key_use),
                    transaction: &transaction.transaction_id,
                },
            )?);
        }
        let path = format!(
            "/app/v1/accounts/{}/transactions/{}/confirm",
            pending.account.account_id, transaction.transaction_id
        );
        let outcome = self
            .ratcheted(&pending.account, Method::Post, &path, Some(&confirmation))
            .await?;
        let callback = transaction
            .callback_url
            .as_ref()
            .map(|url| match &verifier {
                Some(verifier) => format!("{url}&userChallengeVerifier={}", verifier.as_str()),
                None => url.clone(),
            });
        Ok((outcome, callback))
    }

    /// Refuses a transaction on the given screen (an interaction name or
    /// `certificateChoice`), or plainly.
    pub async fn refuse(
        &self,
        pending: &Pending,
        screen: Option<String>,
    ) -> Result<TransactionOutcome, AppError> {
        let path = format!(
            "/app/v1/accounts/{}/transactions/{}/refuse",
            pending.account.account_id, pending.transaction.transaction_id
        );
        self.ratcheted(
            &pending.account,
            Method::Post,
            &path,
            Some(&Refusal { screen }),
        )
        .await
    }

    /// The account's authentication and signing certificates (DER), as the server issued
    /// them at registration.
    pub async fn certificates(
        &self,
        document_number: &str,
    ) -> Result<(Vec<u8>, Vec<u8>), AppError> {
        let account = self.account(document_number).await?;
        let decode = |what: &str, text: &str| {
            BASE64
                .decode(text)
                .map_err(|_| AppError::Vault(format!("the {what} certificate is not base64")))
        };
        Ok((
            decode("authentication", &account.authentication_certificate)?,
            decode("signing", &account.signing_certificate)?,
        ))
    }

    /// Deletes an account on the server and from this device.
    pub async fn delete(&self, document_number: &str) -> Result<(), AppError> {
        let account = self.account(document_number).await?;
        let path = format!("/app/v1/accounts/{}", account.account_id);
        let _: serde_json::Value = self
            .ratcheted(&account, Method::Delete, &path, None::<&()>)
            .await?;
        let _locked = self.vault.lock().await?;
        let mut vault = self.vault.load().await?;
        vault
            .accounts
            .retain(|a| a.account_id != account.account_id);
        self.vault.save(&vault).await
    }

    /// A ratcheted call with the vault's current token. The request is saved in the vault
    /// before it is sent, and the next token (clearing the request) as soon as the answer is
    /// in. A request still in flight from before — its answer lost, or the app stopped while
    /// waiting — is sent again first, byte for byte.
    async fn ratcheted<Q: serde::de::DeserializeOwned>(
        &self,
        account: &StoredAccount,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<Q, AppError> {
        let _locked = self.vault.lock().await?;
        let mut vault = self.vault.load().await?;
        let index = account_index(&vault, account)?;
        if self.finish_in_flight(&mut vault, index).await? {
            return Err(AppError::Usage(format!(
                "the account {} was deleted (the answer to its deletion had been lost)",
                account.document_number
            )));
        }
        let request = self
            .channel
            .ratcheted_request(&vault.accounts[index], method, path, body)?;
        vault.accounts[index].in_flight = Some(request.clone());
        self.vault.save(&vault).await?;
        let answer = self.channel.send_in_flight(&request).await?;
        self.settle(&mut vault, index, answer).await
    }

    /// Sends the request still in flight on each account of this device, if any: what a
    /// restarted app does first, so that the server's record and the vault agree again.
    pub async fn resume(&self) -> Result<usize, AppError> {
        let _locked = self.vault.lock().await?;
        let mut vault = self.vault.load().await?;
        let mut resumed = 0;
        let mut index = 0;
        while index < vault.accounts.len() {
            resumed += usize::from(vault.accounts[index].in_flight.is_some());
            if !self.finish_in_flight(&mut vault, index).await? {
                index += 1;
            }
        }
        Ok(resumed)
    }

    /// Sends the account's request still in flight, if any, and takes its answer. True when
    /// it was the account's deletion and it went through: the account is then gone from the
    /// vault too.
    async fn finish_in_flight(
        &self,
        vault: &mut crate::vault::Vault,
        index: usize,
    ) -> Result<bool, AppError> {
        let Some(earlier) = vault.accounts[index].in_flight.clone() else {
            return Ok(false);
        };
        let answer = self.channel.send_in_flight(&earlier).await?;
        match self.settle::<serde_json::Value>(vault, index, answer).await {
            Ok(_) if earlier.method == Method::Delete.as_str() => {
                vault.accounts.remove(index);
                self.vault.save(vault).await?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(error) => ignore_refusal(error).map(|()| false),
        }
    }

    /// Takes the answer to the account's request in flight: an OK answer moves the ratchet
    /// on; a refusal (4xx) means the server did not carry it out (it answers a request it did
    /// carry out from its record), so the request is dropped. Either way the vault is saved.
    /// A server fault (5xx) leaves the request in flight, to be sent again.
    async fn settle<Q: serde::de::DeserializeOwned>(
        &self,
        vault: &mut crate::vault::Vault,
        index: usize,
        answer: crate::ports::Response,
    ) -> Result<Q, AppError> {
        if answer.status >= 500 {
            return Err(crate::channel::read::<Q>(answer)
                .err()
                .unwrap_or_else(|| AppError::Protocol("a server fault".into())));
        }
        let account = &mut vault.accounts[index];
        account.in_flight = None;
        let result = crate::channel::read::<crate::channel::Ratcheted<Q>>(answer).map(|answer| {
            account.ratchet_token = answer.next_ratchet_token;
            answer.result
        });
        self.vault.save(vault).await?;
        result
    }
}

/// Refuses a server address the app must not talk to: anything but `https://`, except plain
/// `http://` to this machine (the demo on loopback), where no network can see the traffic.
pub fn check_server_address(url: &str) -> Result<(), AppError> {
    let refuse = || {
        AppError::Usage(format!(
            "refusing {url}: this app talks to a SplitID server over https only (plain http only to this machine, for the demo)"
        ))
    };
    if url.starts_with("https://") {
        return Ok(());
    }
    let rest = url.strip_prefix("http://").ok_or_else(refuse)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback { Ok(()) } else { Err(refuse()) }
}

/// An earlier request's refusal is not this request's failure: the server did not carry it
/// out, and nothing is left to do about it.
fn ignore_refusal(error: AppError) -> Result<(), AppError> {
    match error {
        AppError::Server { status, .. } if status < 500 => Ok(()),
        other => Err(other),
    }
}

fn account_index(vault: &crate::vault::Vault, account: &StoredAccount) -> Result<usize, AppError> {
    vault
        .accounts
        .iter()
        .position(|a| a.account_id == account.account_id)
        .ok_or_else(|| {
            AppError::Usage(format!(
                "no account {} on this device",
                account.document_number
            ))
        })
}

/// Runs CPU-heavy work (key generation, a partial signature) where it stalls nothing else:
/// on tokio's blocking pool on the desktop.
#[cfg(feature = "desktop")]
async fn offload<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Protocol(e.to_string()))
}

/// Runs CPU-heavy work in place: the browser runs the whole core in its own Web Worker, so
/// nothing else waits for it.
#[cfg(not(feature = "desktop"))]
async fn offload<T>(work: impl FnOnce() -> T) -> Result<T, AppError> {
    Ok(work())
}

async fn make_key(
    registration: &Registration,
    pin: &Pin,
    purpose: &str,
    min_pin_digits: usize,
    random: &impl Random,
) -> Result<(DeviceShare, ServerShareHandover), AppError> {
    let mut key_id = [0u8; 16];
    random.fill(&mut key_id)?;
    let context = format!("splitid/v1/{purpose}/{}", BASE64.encode(key_id)).into_bytes();
    let options = DeviceKeyOptions {
        half: registration.half,
        kdf: registration.kdf,
        min_pin_digits,
    };
    let pin = pin.clone();
    offload(move || generate_device_key(&pin, &context, options))
        .await?
        .map_err(AppError::from)
}

fn handover_wire(
    handover: &ServerShareHandover,
    server_key: &PublicServerKey,
    purpose: &str,
) -> Result<KeyHandover, AppError> {
    Ok(KeyHandover {
        half_bits: handover.half_size().bits(),
        device_modulus: BASE64.encode(handover.device_modulus()),
        sealed_server_exponent: server_key.seal(
            handover.server_exponent(),
            &Binding::ServerExponent {
                purpose,
                device_modulus: handover.device_modulus(),
            },
        )?,
    })
}

/// One key's proof of possession at registration.
struct Proving<'a> {
    share: &'a DeviceShare,
    pin: &'a Pin,
    /// The composite modulus the server formed (base64).
    composite: &'a str,
    purpose: &'a str,
    challenge: &'a RegistrationChallenge,
    server_key: &'a PublicServerKey,
}

impl Proving<'_> {
    /// Checks the composite key the server formed — n1·n2 with our n1 and an n2 of the right
    /// size — then signs the challenge with it and seals the partial signature.
    async fn prove(self) -> Result<SealedSecret, AppError> {
        let key = CompositePublicKey::from_modulus(&b64("composite modulus", self.composite)?)?;
        if key.half_size() != self.share.half_size() {
            return Err(AppError::Protocol(
                "the composite key has the wrong size".into(),
            ));
        }
        key.check_made_of(self.share.modulus()).map_err(|e| {
            AppError::Protocol(format!(
                "the server's {} key is not made of this device's key: {e}",
                self.purpose
            ))
        })?;
        let challenge = b64("challenge", &self.challenge.challenge)?;
        let request = proof_of_possession_request(&key, &challenge)?;
        let partial = partial_sign(self.share.clone(), self.pin, request).await?;
        Ok(self.server_key.seal(
            partial.as_bytes(),
            &Binding::Possession {
                registration: &self.challenge.registration_id,
                purpose: self.purpose,
            },
        )?)
    }
}

/// Refuses a certificate that does not carry exactly the composite key the device checked.
fn check_certificate_key(
    purpose: &str,
    certificate: &str,
    composite: &str,
) -> Result<(), AppError> {
    let certificate = b64("certificate", certificate)?;
    let composite = b64("composite modulus", composite)?;
    let (modulus, exponent) = crate::certificate::rsa_public_key(&certificate)
        .map_err(|e| AppError::Protocol(format!("the {purpose} certificate is unreadable: {e}")))?;
    let strip = |bytes: &[u8]| {
        bytes
            .iter()
            .skip_while(|b| **b == 0)
            .copied()
            .collect::<Vec<_>>()
    };
    if strip(&modulus) != strip(&composite) || exponent != u64::from(splitkey::PUBLIC_EXPONENT) {
        return Err(AppError::Protocol(format!(
            "the {purpose} certificate does not carry this device's composite key"
        )));
    }
    Ok(())
}

fn key_purpose(key_use: splitid_proto::app_v1::KeyUse) -> &'static str {
    match key_use {
        splitid_proto::app_v1::KeyUse::Authentication => "authentication",
        splitid_proto::app_v1::KeyUse::Signing => "signing",
    }
}

/// A partial signature, computed off the async runtime ([`offload`]): the PIN's key
/// derivation (Argon2id, 64 MiB by default) and the exponentiation take from milliseconds to
/// most of a second, and would stall every other request of the app meanwhile (and of the
/// load tool's many simulated devices, which share one runtime).
async fn partial_sign(
    share: DeviceShare,
    pin: &Pin,
    request: SignRequest,
) -> Result<PartialSignature, AppError> {
    let pin = pin.clone();
    offload(move || share.partial_sign(&pin, &request))
        .await?
        .map_err(AppError::from)
}

/// What the phone signs, and for ACSP_V2 the secret its `userChallenge` commits to (a
/// Web2App or App2App callback reveals it to the relying party).
struct Checked {
    request: SignRequest,
    user_challenge_verifier: Option<String>,
}

/// The hash names of the app API: RP API v2's for SHA-2, FIPS 202's for SHA3.
fn hash_algorithm(name: Option<&str>) -> Option<HashAlgorithm> {
    match name? {
        "SHA256" => Some(HashAlgorithm::Sha256),
        "SHA384" => Some(HashAlgorithm::Sha384),
        "SHA512" => Some(HashAlgorithm::Sha512),
        other => HashAlgorithm::ALL
            .into_iter()
            .find(|hash| hash.api_name() == other),
    }
}

/// Builds what the phone signs from what it shows, and refuses unless the verification code
/// shown is the one computed from it: from the hash (RP API v2) or from ACSP_V2's
/// rpChallenge (v3), unless the service drew the code (v3's signatures) or there is none (v3's
/// device links, started at the e-service's own screen). An ACSP_V2 payload must list the
/// interaction and text shown among the relying party's interactions.
fn checked_request(
    transaction: &PendingTransaction,
    half: HalfSize,
    random: &impl Random,
) -> Result<Checked, AppError> {
    let missing = |field: &str| AppError::Protocol(format!("transaction without {field}"));
    let algorithm = hash_algorithm(transaction.hash_type.as_deref())
        .ok_or_else(|| missing("a known hash type"))?;
    let padding = match transaction.padding.as_deref() {
        Some("pss") => Padding::Pss,
        _ => Padding::Pkcs1v15,
    };
    let (digest, code_source, user_challenge_verifier) = match &transaction.acsp {
        None => {
            let hash = b64(
                "hash",
                transaction.hash.as_deref().ok_or_else(|| missing("hash"))?,
            )?;
            (hash.clone(), hash, None)
        }
        Some(acsp) => {
            check_acsp_interaction(transaction, acsp)?;
            let mut secret = Zeroizing::new([0u8; 32]);
            random.fill(&mut *secret)?;
            let verifier = BASE64URL.encode(*secret);
            let payload = acsp_payload(transaction, acsp, &user_challenge(&verifier))?;
            let challenge = b64("rpChallenge", &acsp.rp_challenge)?;
            (algorithm.digest(&payload), challenge, Some(verifier))
        }
    };
    check_verification_code(transaction, &code_source)?;
    Ok(Checked {
        request: SignRequest::new(half, algorithm, padding, &digest)?,
        user_challenge_verifier,
    })
}

/// The code the e-service shows must be the one shown here, or (for code choice) one of those
/// offered.
fn check_verification_code(
    transaction: &PendingTransaction,
    source: &[u8],
) -> Result<(), AppError> {
    let code = match transaction.code_origin {
        Some(CodeOrigin::Service) => return Ok(()),
        Some(CodeOrigin::Hash | CodeOrigin::RpChallenge) | None => {
            VerificationCode::from_hash(source).to_string()
        }
    };
    let code_matches = match (
        &transaction.verification_code,
        &transaction.code_choices[..],
    ) {
        (None, []) => true,
        (shown, []) => shown.as_deref() == Some(code.as_str()),
        (_, choices) => choices.contains(&code),
    };
    if code_matches {
        Ok(())
    } else {
        Err(AppError::Protocol(
            "the verification code does not match what is signed".into(),
        ))
    }
}

/// The interaction shown must be one the relying party listed, with the same text: the
/// payload signs the relying party's list, so a service that showed something else would
/// have the person confirm what they did not see.
fn check_acsp_interaction(
    transaction: &PendingTransaction,
    acsp: &AcspTransaction,
) -> Result<(), AppError> {
    let listed = Interactions::decode(&acsp.interactions, InteractionFlow::Notification)
        .map_err(|e| AppError::Protocol(format!("the transaction's interactions: {e}")))?;
    let shown = listed.list.iter().any(|interaction| {
        Some(interaction.api_name()) == transaction.interaction.as_deref()
            && Some(interaction.text()) == transaction.text.as_deref()
    });
    if shown {
        Ok(())
    } else {
        Err(AppError::Protocol(
            "the interaction shown is not one the e-service asked for".into(),
        ))
    }
}

/// The ACSP_V2 payload of this transaction with the phone's challenge.
fn acsp_payload(
    transaction: &PendingTransaction,
    acsp: &AcspTransaction,
    user_challenge: &str,
) -> Result<Vec<u8>, AppError> {
    let interaction = transaction
        .interaction
        .as_deref()
        .ok_or_else(|| AppError::Protocol("transaction without interaction".into()))?;
    acsp.payload(&transaction.relying_party_name, interaction, user_challenge)
        .ok_or_else(|| AppError::Protocol(format!("unknown flow type {:?}", acsp.flow_type)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use splitid_proto::app_v1::TransactionKind;

    const INTERACTIONS: &str =
        "W3sidHlwZSI6ImRpc3BsYXlUZXh0QW5kUElOIiwiZGlzcGxheVRleHQ2MCI6IkxvZyBpbiJ9XQ==";
    const CHALLENGE: &str =
        "GYS+yoah6emAcVDNIajwSs6UB/M95XrDxMzXBUkwQJ9YFDipXXzGpPc7raWcuc2+TEoRc7WvIZ/7dU/iRXenYg==";

    /// An ACSP_V2 login as the service describes it: `[displayTextAndPIN "Log in"]`, the code
    /// of SK's example rpChallenge (7180).
    fn acsp_login() -> PendingTransaction {
        PendingTransaction {
            transaction_id: "t".into(),
            kind: TransactionKind::Authentication,
            relying_party_name: "DEMO".into(),
            interaction: Some("displayTextAndPIN".into()),
            text: Some("Log in".into()),
            verification_code: Some("7180".into()),
            code_choices: Vec::new(),
            key: Some(splitid_proto::app_v1::KeyUse::Authentication),
            hash_type: Some("SHA3-512".into()),
            hash: None,
            padding: Some("pss".into()),
            code_origin: Some(CodeOrigin::RpChallenge),
            acsp: Some(AcspTransaction {
                scheme_name: "smart-id-demo".into(),
                server_random: "MTlop6EXCrQ6FOErcKjxUhbV".into(),
                rp_challenge: CHALLENGE.into(),
                interactions: INTERACTIONS.into(),
                initial_callback_url: None,
                flow_type: "Notification".into(),
            }),
            expires_at: "2026-12-04T00:00:00Z".into(),
            callback_url: None,
            linked_to: None,
            server_key_id: None,
        }
    }

    fn check(transaction: &PendingTransaction) -> Result<Checked, AppError> {
        checked_request(transaction, HalfSize::Bits2048, &OsRandom)
    }

    #[test]
    fn an_acsp_login_signs_its_payload_with_a_fresh_challenge() {
        let transaction = acsp_login();
        let first = check(&transaction).unwrap();
        let verifier = first.user_challenge_verifier.clone().unwrap();
        let payload = acsp_payload(
            &transaction,
            transaction.acsp.as_ref().unwrap(),
            &user_challenge(&verifier),
        )
        .unwrap();
        assert_eq!(
            first.request.digest(),
            HashAlgorithm::Sha3_512.digest(&payload)
        );
        assert_eq!(first.request.padding(), Padding::Pss);
        let second = check(&transaction).unwrap();
        assert_ne!(second.user_challenge_verifier, Some(verifier));
    }

    #[test]
    fn what_the_phone_would_show_wrongly_is_refused() {
        let mut other_text = acsp_login();
        other_text.text = Some("Pay 1000 EUR".into());
        let mut other_code = acsp_login();
        other_code.verification_code = Some("0000".into());
        let mut other_interaction = acsp_login();
        other_interaction.interaction = Some("confirmationMessage".into());
        for (transaction, expected) in [
            (other_text, "not one the e-service asked for"),
            (other_code, "verification code does not match"),
            (other_interaction, "not one the e-service asked for"),
        ] {
            let error = check(&transaction).err().expect("refused").to_string();
            assert!(error.contains(expected), "{error}");
        }
        // A code the service drew cannot be checked, and is not.
        let mut drawn = acsp_login();
        drawn.verification_code = Some("0000".into());
        drawn.code_origin = Some(CodeOrigin::Service);
        assert!(check(&drawn).is_ok());
    }
}
