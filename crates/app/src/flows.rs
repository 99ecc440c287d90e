//! What the person does with the app: register, check for transactions, confirm or refuse,
//! look at accounts and their certificates, delete one.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use splitid_proto::VerificationCode;
use splitid_proto::app_v1::{
    AccountStatus, Confirmation, KeyHandover, PendingTransaction, PendingTransactions, Proofing,
    ProofingChallenge, Refusal, RegisteredAccount, RegistrationChallenge, RegistrationProof,
    RegistrationRequest, TransactionOutcome, Vouch, VouchSession, VouchSessionRequest, VouchState,
    vouch_message,
};
use splitkey::{
    CompositePublicKey, DeviceKeyOptions, DeviceShare, HalfSize, HashAlgorithm, KdfParams, Padding,
    PartialSignature, Pin, ServerShareHandover, SignRequest, Signature, generate_device_key,
    proof_of_possession_request,
};

use crate::AppError;
use crate::channel::Channel;
use crate::ports::{
    Clock, FileVault, HttpTransport, Method, OsRandom, Random, Storage, SystemClock, Transport,
};
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
}

/// The app: its flows over the device's ports (see [`crate::ports`]). `App` alone is the
/// desktop's, on a home directory ([`App::open`]).
pub struct App<S = FileVault, T = HttpTransport, C = SystemClock, R = OsRandom> {
    vault: S,
    channel: Channel<T, C, R>,
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

impl App {
    /// The desktop app on a home directory: `vault.json` there, HTTP, the system's clock and
    /// randomness.
    pub fn open(home: &Path) -> Self {
        App::with_ports(
            FileVault::new(home),
            HttpTransport::default(),
            SystemClock,
            OsRandom,
        )
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
        if pin1.len() < PIN1_MIN_DIGITS || pin2.len() < PIN2_MIN_DIGITS {
            return Err(AppError::Usage(
                "PIN1 needs at least 4 digits and PIN2 at least 5".into(),
            ));
        }
        let (auth, auth_handover) = make_key(
            &registration,
            pin1,
            "authentication",
            PIN1_MIN_DIGITS,
            self.channel.random(),
        )
        .await?;
        let (sign, sign_handover) = make_key(
            &registration,
            pin2,
            "signing",
            PIN2_MIN_DIGITS,
            self.channel.random(),
        )
        .await?;
        let base = registration.server.trim_end_matches('/').to_owned();
        let request = RegistrationRequest {
            proofing: registration.proofing.clone(),
            authentication: handover_wire(&auth_handover),
            signing: handover_wire(&sign_handover),
            supported_interactions: registration.supported_interactions.clone(),
        };
        drop((auth_handover, sign_handover));
        let challenge: RegistrationChallenge = self
            .channel
            .post(&format!("{base}/app/v1/registrations"), &request)
            .await?;
        let proof = RegistrationProof {
            authentication: prove(
                &auth,
                pin1,
                &challenge.authentication.modulus,
                &challenge.challenge,
            )
            .await?,
            signing: prove(
                &sign,
                pin2,
                &challenge.signing.modulus,
                &challenge.challenge,
            )
            .await?,
        };
        let url = format!(
            "{base}/app/v1/registrations/{}/complete",
            challenge.registration_id
        );
        let registered: RegisteredAccount = self.channel.post(&url, &proof).await?;
        let account = StoredAccount {
            server: base,
            account_id: registered.account_id,
            document_number: registered.document_number,
            mac_key: registered.mac_key,
            ratchet_token: registered.ratchet_token,
            authentication: StoredShare::from_share(&auth)
                .with_composite(&challenge.authentication.modulus),
            signing: StoredShare::from_share(&sign).with_composite(&challenge.signing.modulus),
            authentication_certificate: registered.authentication_certificate,
            signing_certificate: registered.signing_certificate,
            expires_at: registered.expires_at,
        };
        let _locked = self.vault.lock()?;
        let mut vault = self.vault.load()?;
        vault.accounts.push(account.clone());
        self.vault.save(&vault)?;
        Ok(account)
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
        let account = self.account(document_number)?;
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
        let partial = partial_sign(share, pin1, request).await?;
        let vouch = Vouch {
            challenge_id: challenge.challenge_id.clone(),
            partial_signature: BASE64.encode(partial.as_bytes()),
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
    pub fn has_account(&self, document_number: &str) -> Result<bool, AppError> {
        Ok(self.account(document_number).is_ok())
    }

    fn account(&self, document_number: &str) -> Result<StoredAccount, AppError> {
        self.accounts()?
            .into_iter()
            .find(|a| a.document_number == document_number)
            .ok_or_else(|| AppError::Usage(format!("no account {document_number} on this device")))
    }

    /// The accounts on this device.
    pub fn accounts(&self) -> Result<Vec<StoredAccount>, AppError> {
        Ok(self.vault.load()?.accounts)
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

    /// Transactions waiting on any account of this device, waiting up to `wait` for one.
    pub async fn pending(&self, wait: Duration) -> Result<Vec<Pending>, AppError> {
        let mut tasks = tokio::task::JoinSet::new();
        for account in self.accounts()? {
            let channel = self.channel.clone();
            let query = format!("?waitMs={}", wait.as_millis());
            tasks.spawn(async move {
                let path = format!("/app/v1/accounts/{}/transactions", account.account_id);
                let result: Result<PendingTransactions, AppError> =
                    channel.get(&account, &path, &query).await;
                result.map(|list| {
                    list.transactions
                        .into_iter()
                        .map(|transaction| Pending {
                            account: account.clone(),
                            transaction,
                        })
                        .collect::<Vec<_>>()
                })
            });
        }
        let mut found = Vec::new();
        // The first account with transactions ends the wait for the others; their long polls
        // are cancelled (and answers that were already in are kept).
        while let Some(joined) = tasks.join_next().await {
            let pending = match joined {
                Ok(result) => result?,
                Err(cancelled) if cancelled.is_cancelled() => continue,
                Err(failed) => return Err(AppError::Protocol(failed.to_string())),
            };
            if !pending.is_empty() {
                found.extend(pending);
                tasks.abort_all();
            }
        }
        Ok(found)
    }

    /// Stays connected to the push channel of every account on this device and hands each
    /// transaction to `on_transaction` the moment it arrives, until that returns false.
    pub async fn listen(
        &self,
        mut on_transaction: impl FnMut(Pending) -> bool,
    ) -> Result<(), AppError> {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<(StoredAccount, String)>(16);
        let mut tasks = tokio::task::JoinSet::new();
        for account in self.accounts()? {
            let channel = self.channel.clone();
            let sender = sender.clone();
            tasks.spawn(async move {
                let (events, mut incoming) = tokio::sync::mpsc::channel(16);
                let path = format!("/app/v1/accounts/{}/events", account.account_id);
                let follow = channel.follow_events(&account, &path, events);
                let forward = async {
                    while let Some(data) = incoming.recv().await {
                        if sender.send((account.clone(), data)).await.is_err() {
                            break;
                        }
                    }
                };
                let (result, ()) = tokio::join!(follow, forward);
                result
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

    /// Confirms a transaction. For signing transactions the PIN opens the key share and the
    /// device checks, before using it, that what it signs encodes the hash shown; afterwards
    /// it checks the finished signature.
    pub async fn confirm(
        &self,
        pending: &Pending,
        pin: Option<&Pin>,
        chosen_code: Option<String>,
    ) -> Result<TransactionOutcome, AppError> {
        let transaction = &pending.transaction;
        let mut confirmation = Confirmation {
            partial_signature: None,
            chosen_code,
        };
        let mut to_verify = None;
        if let Some(key_use) = transaction.key {
            let stored = match key_use {
                splitid_proto::app_v1::KeyUse::Authentication => &pending.account.authentication,
                splitid_proto::app_v1::KeyUse::Signing => &pending.account.signing,
            };
            let share = stored.to_share()?;
            let request = checked_request(transaction, share.half_size())?;
            let pin = pin.ok_or_else(|| AppError::Usage("this transaction needs a PIN".into()))?;
            let partial = partial_sign(share, pin, request.clone()).await?;
            confirmation.partial_signature = Some(BASE64.encode(partial.as_bytes()));
            to_verify = Some((request, stored.composite_modulus.clone()));
        }
        let path = format!(
            "/app/v1/accounts/{}/transactions/{}/confirm",
            pending.account.account_id, transaction.transaction_id
        );
        let outcome: TransactionOutcome = self
            .ratcheted(&pending.account, Method::Post, &path, Some(&confirmation))
            .await?;
        if let (
            TransactionOutcome::Completed {
                signature: Some(signature),
                ..
            },
            Some((request, modulus)),
        ) = (&outcome, to_verify)
        {
            let key = CompositePublicKey::from_modulus(&b64("composite modulus", &modulus)?)?;
            key.verify(
                &request,
                &Signature::from_bytes(&b64("signature", signature)?),
            )
            .map_err(|_| AppError::Protocol("the server's signature does not verify".into()))?;
        }
        Ok(outcome)
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
    pub fn certificates(&self, document_number: &str) -> Result<(Vec<u8>, Vec<u8>), AppError> {
        let account = self.account(document_number)?;
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
        let account = self.account(document_number)?;
        let path = format!("/app/v1/accounts/{}", account.account_id);
        let _: serde_json::Value = self
            .ratcheted(&account, Method::Delete, &path, None::<&()>)
            .await?;
        let _locked = self.vault.lock()?;
        let mut vault = self.vault.load()?;
        vault
            .accounts
            .retain(|a| a.account_id != account.account_id);
        self.vault.save(&vault)
    }

    /// A ratcheted call with the vault's current token, saving the next token at once.
    async fn ratcheted<Q: serde::de::DeserializeOwned>(
        &self,
        account: &StoredAccount,
        method: Method,
        path: &str,
        body: Option<&impl serde::Serialize>,
    ) -> Result<Q, AppError> {
        let _locked = self.vault.lock()?;
        let mut vault = self.vault.load()?;
        let stored = vault
            .accounts
            .iter_mut()
            .find(|a| a.account_id == account.account_id)
            .ok_or_else(|| {
                AppError::Usage(format!(
                    "no account {} on this device",
                    account.document_number
                ))
            })?;
        let result = self.channel.ratcheted(stored, method, path, body).await?;
        self.vault.save(&vault)?;
        Ok(result)
    }
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
    tokio::task::spawn_blocking(move || generate_device_key(&pin, &context, options))
        .await
        .map_err(|e| AppError::Protocol(e.to_string()))?
        .map_err(AppError::from)
}

fn handover_wire(handover: &ServerShareHandover) -> KeyHandover {
    KeyHandover {
        half_bits: handover.half_size().bits(),
        device_modulus: BASE64.encode(handover.device_modulus()),
        server_exponent: BASE64.encode(handover.server_exponent()),
    }
}

async fn prove(
    share: &DeviceShare,
    pin: &Pin,
    composite: &str,
    challenge: &str,
) -> Result<String, AppError> {
    let key = CompositePublicKey::from_modulus(&b64("composite modulus", composite)?)?;
    if key.half_size() != share.half_size() {
        return Err(AppError::Protocol(
            "the composite key has the wrong size".into(),
        ));
    }
    let request = proof_of_possession_request(&key, &b64("challenge", challenge)?)?;
    let partial = partial_sign(share.clone(), pin, request).await?;
    Ok(BASE64.encode(partial.as_bytes()))
}

/// A partial signature, computed off the async runtime: the PIN's key derivation (Argon2id,
/// 64 MiB by default) and the exponentiation take from milliseconds to most of a second, and
/// would stall every other request of the app meanwhile (and of the load tool's many
/// simulated devices, which share one runtime).
async fn partial_sign(
    share: DeviceShare,
    pin: &Pin,
    request: SignRequest,
) -> Result<PartialSignature, AppError> {
    let pin = pin.clone();
    tokio::task::spawn_blocking(move || share.partial_sign(&pin, &request))
        .await
        .map_err(|e| AppError::Protocol(e.to_string()))?
        .map_err(AppError::from)
}

/// Rebuilds what the server asks to sign and refuses it unless it encodes the hash the app
/// shows, and unless the verification code shown is the one computed from that hash.
fn checked_request(
    transaction: &PendingTransaction,
    half: HalfSize,
) -> Result<SignRequest, AppError> {
    let missing = |field: &str| AppError::Protocol(format!("transaction without {field}"));
    let hash = b64(
        "hash",
        transaction.hash.as_deref().ok_or_else(|| missing("hash"))?,
    )?;
    let algorithm = match transaction.hash_type.as_deref() {
        Some("SHA256") => HashAlgorithm::Sha256,
        Some("SHA384") => HashAlgorithm::Sha384,
        Some("SHA512") => HashAlgorithm::Sha512,
        _ => return Err(missing("a known hash type")),
    };
    let padding = match transaction.padding.as_deref() {
        Some("pss") => Padding::Pss,
        _ => Padding::Pkcs1v15,
    };
    // The code the e-service shows is computed from the hash: it must be the one shown here,
    // or (for code choice) one of those offered.
    let code = VerificationCode::from_hash(&hash).to_string();
    let code_matches = if transaction.code_choices.is_empty() {
        transaction.verification_code.as_deref() == Some(code.as_str())
    } else {
        transaction.code_choices.contains(&code)
    };
    if !code_matches {
        return Err(AppError::Protocol(
            "the verification code does not match the hash".into(),
        ));
    }
    match (padding, transaction.encoded_message.as_deref()) {
        // Deterministic padding: encode the hash shown here, trusting nothing else.
        (Padding::Pkcs1v15, None) => Ok(SignRequest::new(half, algorithm, padding, &hash)?),
        (_, Some(encoded)) => {
            let encoded = b64("encodedMessage", encoded)?;
            SignRequest::from_parts(half, algorithm, padding, &hash, &encoded).map_err(|_| {
                AppError::Protocol(
                    "the message to sign does not encode the hash shown; refusing to use the PIN"
                        .into(),
                )
            })
        }
        (Padding::Pss, None) => Err(missing("encodedMessage")),
    }
}
