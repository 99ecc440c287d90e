//! The PKCS#11 backend (through `cryptoki`): the KEK and the CA keys are objects in an HSM
//! token, created there and never extractable, and the service only asks the token to
//! encrypt, decrypt and sign with them.
//!
//! - KEK: an AES-256 secret key, `CKA_TOKEN`, `CKA_PRIVATE`, `CKA_SENSITIVE`, not
//!   `CKA_EXTRACTABLE`, labelled `<key_label>-kek`; generated in the token on first start and
//!   found by its label afterwards. Sealing is CKM_AES_GCM in the token with a fresh 12-byte IV
//!   from the operating system and the context as AAD, laid out as the file backend does
//!   (`iv ‖ ciphertext ‖ tag`).
//! - CA keys: ECDSA P-384 key pairs generated in the token (private half sensitive, not
//!   extractable, `CKA_SIGN` only), labelled `<key_label>-<role>-ca-<id>` with a random
//!   `CKA_ID`, so a second data directory on the same token never picks up another's keys.
//!   `ca.json` records label and id. Signing hashes with SHA-384 here and has the token make
//!   the raw ECDSA signature (CKM_ECDSA), which is then DER-encoded for X.509.
//!
//! Sessions: a `cryptoki::Session` is `Send` but not `Sync`, so idle sessions wait in a small
//! pool and each operation takes one for its duration (no lock is held while the token works,
//! so concurrent logins run in parallel). The login belongs to the application, not the
//! session (PKCS#11 §5.6): one extra session is kept open for the token's lifetime to hold it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lc_rs::digest::{SHA384, digest};
use aws_lc_rs::signature::{ECDSA_P384_SHA384_ASN1, UnparsedPublicKey};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use serde::{Deserialize, Serialize};
use splitid_pki::{CaSigner, CaSignerError};
use zeroize::Zeroizing;

use super::{KeyStoreError, random};

const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEK_BYTES: u64 = 32;
/// Idle sessions kept for reuse; more are opened under load and closed when returned.
const MAX_IDLE_SESSIONS: usize = 16;
/// DER of the named curve secp384r1 (1.3.132.0.34), as CKA_EC_PARAMS wants it.
const P384_EC_PARAMS: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// An uncompressed P-384 point: 0x04 ‖ x ‖ y.
const P384_POINT_LEN: usize = 97;
/// The raw CKM_ECDSA signature over P-384: r ‖ s.
const P384_RAW_SIGNATURE_LEN: usize = 96;

/// How to reach the token. The PIN is kept in a wiped buffer and never printed.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The vendor's PKCS#11 module (a shared library), e.g. /usr/lib/softhsm/libsofthsm2.so.
    pub module: PathBuf,
    /// The token's label (CKA_LABEL of the token, as `softhsm2-util --init-token --label` set it).
    pub token_label: String,
    /// The user PIN of the token.
    pub pin: Zeroizing<String>,
    /// Prefix of the labels of this service's key objects (`<key_label>-kek`, …).
    pub key_label: String,
}

impl fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin", &"[hidden]")
            .field("key_label", &self.key_label)
            .finish()
    }
}

/// A key object in the token as `ca.json` refers to it: label and CKA_ID (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenKeyRef {
    pub label: String,
    pub id: String,
}

/// What the token says about a key object's protection (for operators' checks and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyObjectInfo {
    pub label: String,
    /// "secret" or "private".
    pub class: &'static str,
    pub token: bool,
    pub private: bool,
    pub sensitive: bool,
    pub extractable: bool,
    pub always_sensitive: bool,
    pub never_extractable: bool,
}

/// A logged-in PKCS#11 token holding the KEK.
pub struct Token {
    module: String,
    token_label: String,
    key_label: String,
    context: Pkcs11,
    slot: Slot,
    /// Holds the login for as long as the token is open (never used for operations).
    _login: Mutex<Session>,
    idle: Mutex<Vec<Session>>,
    kek: ObjectHandle,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("key_label", &self.key_label)
            .finish_non_exhaustive()
    }
}

/// One initialised context per module and process: C_Initialize may only be called once until
/// C_Finalize, and the service (or a test) may open the same token more than once.
fn context_for(module: &Path) -> Result<Pkcs11, String> {
    static CONTEXTS: Mutex<Vec<(PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let mut contexts = CONTEXTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, context)) = contexts.iter().find(|(path, _)| path == module) {
        return Ok(context.clone());
    }
    if !module.exists() {
        return Err("the module file does not exist (is the HSM's PKCS#11 library installed? for SoftHSM2: apt-get install softhsm2)".into());
    }
    let context = Pkcs11::new(module).map_err(|e| format!("cannot load the module: {e}"))?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(format!("C_Initialize failed: {e}")),
    }
    contexts.push((module.to_owned(), context.clone()));
    Ok(context)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves only a list of sessions behind: still usable.
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Token {
    /// Loads the module, finds the token by label, logs in, and finds the KEK (generating it
    /// in the token on first start).
    pub fn open(config: &Pkcs11Config) -> Result<Arc<Self>, KeyStoreError> {
        let module = config.module.display().to_string();
        let fail = |problem: String| KeyStoreError::Token {
            module: module.clone(),
            token: config.token_label.clone(),
            problem,
        };
        if config.key_label.is_empty() {
            return Err(fail("the key label prefix is empty".into()));
        }
        let context = context_for(&config.module).map_err(&fail)?;
        let slot = find_slot(&context, &config.token_label).map_err(&fail)?;
        let login = context
            .open_rw_session(slot)
            .map_err(|e| fail(format!("cannot open a session: {e}")))?;
        let pin = AuthPin::from(config.pin.as_str());
        match login.login(UserType::User, Some(&pin)) {
            // Another Token on the same module in this process is logged in already.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                return Err(fail("the PIN is incorrect".into()));
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(fail("the user PIN is locked".into()));
            }
            Err(e) => return Err(fail(format!("cannot log in: {e}"))),
        }
        let kek_label = format!("{}-kek", config.key_label);
        let kek = find_or_generate_kek(&login, &kek_label)
            .map_err(|e| fail(format!("key-encryption key {kek_label:?}: {e}")))?;
        tracing::info!(
            module = %module,
            token = %config.token_label,
            kek = %kek_label,
            "key store: PKCS#11 token"
        );
        Ok(Arc::new(Token {
            module,
            token_label: config.token_label.clone(),
            key_label: config.key_label.clone(),
            context,
            slot,
            _login: Mutex::new(login),
            idle: Mutex::new(Vec::new()),
            kek,
        }))
    }

    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    pub fn module(&self) -> &str {
        &self.module
    }

    fn error(&self, problem: impl fmt::Display) -> KeyStoreError {
        KeyStoreError::Token {
            module: self.module.clone(),
            token: self.token_label.clone(),
            problem: problem.to_string(),
        }
    }

    /// Runs `operation` on an idle session (or a new one). The session goes back to the pool
    /// unless the token failed in a way that may have broken it.
    fn with_session<T>(
        &self,
        operation: impl FnOnce(&Session) -> cryptoki::error::Result<T>,
    ) -> cryptoki::error::Result<T> {
        let pooled = lock(&self.idle).pop();
        let session = match pooled {
            Some(session) => session,
            None => self.context.open_ro_session(self.slot)?,
        };
        let result = operation(&session);
        let reusable = match &result {
            Ok(_) => true,
            Err(CkError::Pkcs11(rv, _)) => matches!(
                rv,
                RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange
                    | RvError::DataInvalid
                    | RvError::DataLenRange
            ),
            Err(_) => false,
        };
        if reusable {
            let mut idle = lock(&self.idle);
            if idle.len() < MAX_IDLE_SESSIONS {
                idle.push(session);
            }
        }
        result
    }

    /// `iv ‖ AES-256-GCM(secret, aad = context)` made in the token.
    pub fn seal(&self, secret: &[u8], context: &str) -> Result<Vec<u8>, KeyStoreError> {
        let mut iv = [0u8; IV_LEN];
        random(&mut iv)?;
        let mut iv_param = iv;
        let sealed = self
            .with_session(|session| {
                let params = GcmParams::new(&mut iv_param, context.as_bytes(), 128.into())?;
                session.encrypt(&Mechanism::AesGcm(params), self.kek, secret)
            })
            .map_err(|e| self.error(format!("AES-GCM encryption failed: {e}")))?;
        if sealed.len() != secret.len() + TAG_LEN {
            return Err(self.error("AES-GCM encryption returned an unexpected length"));
        }
        let mut out = iv.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) made with the same context, in the token.
    pub fn open_sealed(
        &self,
        sealed: &[u8],
        context: &str,
    ) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
        if sealed.len() < IV_LEN + TAG_LEN {
            return Err(KeyStoreError::Integrity);
        }
        let (iv, ciphertext) = sealed.split_at(IV_LEN);
        let mut iv: [u8; IV_LEN] = iv.try_into().map_err(|_| KeyStoreError::Integrity)?;
        let opened = self.with_session(|session| {
            let params = GcmParams::new(&mut iv, context.as_bytes(), 128.into())?;
            session.decrypt(&Mechanism::AesGcm(params), self.kek, ciphertext)
        });
        match opened {
            Ok(plain) => Ok(Zeroizing::new(plain)),
            // The tag did not verify: wrong context, tampered or swapped data.
            Err(CkError::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::DataInvalid
                | RvError::DataLenRange,
                _,
            )) => Err(KeyStoreError::Integrity),
            // SoftHSM2 (like some HSMs) reports a tag mismatch as a general failure. Then a
            // probe tells a sound token (the data is at fault) from a failing one.
            Err(CkError::Pkcs11(RvError::GeneralError | RvError::FunctionFailed, _))
                if self.seal(b"probe", "splitid/keystore/probe").is_ok() =>
            {
                Err(KeyStoreError::Integrity)
            }
            Err(e) => Err(self.error(format!("AES-GCM decryption failed: {e}"))),
        }
    }

    /// Generates a CA key pair (ECDSA P-384) in the token for `role` ("root", "issuing").
    pub fn generate_ca_key(self: &Arc<Self>, role: &str) -> Result<TokenCaKey, KeyStoreError> {
        let mut id = [0u8; 8];
        random(&mut id)?;
        let id_hex = hex::encode(id);
        let label = format!("{}-{role}-ca-{id_hex}", self.key_label);
        let public_template = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::EcParams(P384_EC_PARAMS.to_vec()),
            Attribute::Label(label.clone().into_bytes()),
            Attribute::Id(id.to_vec()),
        ];
        let private_template = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Derive(false),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Label(label.clone().into_bytes()),
            Attribute::Id(id.to_vec()),
        ];
        let (_, private) = self
            .with_rw_session(|session| {
                session.generate_key_pair(
                    &Mechanism::EccKeyPairGen,
                    &public_template,
                    &private_template,
                )
            })
            .map_err(|e| self.error(format!("cannot generate CA key {label:?}: {e}")))?;
        let reference = TokenKeyRef { label, id: id_hex };
        let public_point = self.public_point(&reference)?;
        tracing::info!(token = %self.token_label, key = %reference.label, "generated a CA key in the token");
        Ok(TokenCaKey {
            token: self.clone(),
            private,
            reference,
            public_point,
        })
    }

    /// A CA key generated earlier, by its label and id.
    pub fn ca_key(self: &Arc<Self>, reference: &TokenKeyRef) -> Result<TokenCaKey, KeyStoreError> {
        let id = hex::decode(&reference.id)
            .map_err(|_| self.error(format!("CA key {:?}: bad id", reference.label)))?;
        let template = [
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::Label(reference.label.clone().into_bytes()),
            Attribute::Id(id),
        ];
        let found = self
            .with_session(|session| session.find_objects(&template))
            .map_err(|e| {
                self.error(format!("cannot look for CA key {:?}: {e}", reference.label))
            })?;
        let private = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.error(format!(
                    "the CA's private key {:?} (id {}) is not in this token",
                    reference.label, reference.id
                )));
            }
            _ => {
                return Err(self.error(format!(
                    "several private keys are labelled {:?} with id {}",
                    reference.label, reference.id
                )));
            }
        };
        Ok(TokenCaKey {
            token: self.clone(),
            private,
            public_point: self.public_point(reference)?,
            reference: reference.clone(),
        })
    }

    /// The uncompressed point of the public key object with this label and id.
    fn public_point(&self, reference: &TokenKeyRef) -> Result<Vec<u8>, KeyStoreError> {
        let id = hex::decode(&reference.id)
            .map_err(|_| self.error(format!("CA key {:?}: bad id", reference.label)))?;
        let template = [
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::Label(reference.label.clone().into_bytes()),
            Attribute::Id(id),
        ];
        let what = |e: &dyn fmt::Display| {
            self.error(format!("public key of CA key {:?}: {e}", reference.label))
        };
        let point = self
            .with_session(|session| {
                let found = session.find_objects(&template)?;
                let Some(handle) = found.first() else {
                    return Ok(None);
                };
                let attributes = session.get_attributes(*handle, &[AttributeType::EcPoint])?;
                Ok(attributes.into_iter().find_map(|a| match a {
                    Attribute::EcPoint(point) => Some(point),
                    _ => None,
                }))
            })
            .map_err(|e| what(&e))?
            .ok_or_else(|| what(&"not in this token"))?;
        uncompressed_point(&point).ok_or_else(|| what(&"not an uncompressed P-384 point"))
    }

    /// Generation needs a read/write session (the pool's are read-only).
    fn with_rw_session<T>(
        &self,
        operation: impl FnOnce(&Session) -> cryptoki::error::Result<T>,
    ) -> cryptoki::error::Result<T> {
        let session = self.context.open_rw_session(self.slot)?;
        operation(&session)
    }

    /// The protection attributes of every secret or private key object labelled `label`.
    pub fn key_objects(&self, label: &str) -> Result<Vec<KeyObjectInfo>, KeyStoreError> {
        let mut objects = Vec::new();
        for (class, name) in [
            (ObjectClass::SECRET_KEY, "secret"),
            (ObjectClass::PRIVATE_KEY, "private"),
        ] {
            let template = [
                Attribute::Class(class),
                Attribute::Label(label.as_bytes().to_vec()),
            ];
            let found = self
                .with_session(|session| {
                    let mut found = Vec::new();
                    for handle in session.find_objects(&template)? {
                        found.push(session.get_attributes(
                            handle,
                            &[
                                AttributeType::Token,
                                AttributeType::Private,
                                AttributeType::Sensitive,
                                AttributeType::Extractable,
                                AttributeType::AlwaysSensitive,
                                AttributeType::NeverExtractable,
                            ],
                        )?);
                    }
                    Ok(found)
                })
                .map_err(|e| self.error(format!("cannot read key {label:?}: {e}")))?;
            for attributes in found {
                let flag = |wanted: AttributeType| {
                    attributes.iter().any(|a| {
                        a.attribute_type() == wanted
                            && matches!(
                                a,
                                Attribute::Token(true)
                                    | Attribute::Private(true)
                                    | Attribute::Sensitive(true)
                                    | Attribute::Extractable(true)
                                    | Attribute::AlwaysSensitive(true)
                                    | Attribute::NeverExtractable(true)
                            )
                    })
                };
                objects.push(KeyObjectInfo {
                    label: label.to_owned(),
                    class: name,
                    token: flag(AttributeType::Token),
                    private: flag(AttributeType::Private),
                    sensitive: flag(AttributeType::Sensitive),
                    extractable: flag(AttributeType::Extractable),
                    always_sensitive: flag(AttributeType::AlwaysSensitive),
                    never_extractable: flag(AttributeType::NeverExtractable),
                });
            }
        }
        Ok(objects)
    }

    /// The label of the KEK object.
    pub fn kek_label(&self) -> String {
        format!("{}-kek", self.key_label)
    }
}

/// Finds the token whose label is `label` among the slots with an initialised token.
fn find_slot(context: &Pkcs11, label: &str) -> Result<Slot, String> {
    let slots = context
        .get_slots_with_initialized_token()
        .map_err(|e| format!("cannot list the slots: {e}"))?;
    let mut seen = Vec::new();
    let mut matching = Vec::new();
    for slot in slots {
        let info = context
            .get_token_info(slot)
            .map_err(|e| format!("cannot read the token in slot {slot}: {e}"))?;
        let found = info.label().trim_end().to_owned();
        if found == label {
            matching.push(slot);
        }
        seen.push(found);
    }
    match matching.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(format!(
            "no initialised token has this label (tokens found: {})",
            if seen.is_empty() {
                "none".to_owned()
            } else {
                seen.iter()
                    .map(|l| format!("{l:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )),
        _ => Err("several tokens have this label".into()),
    }
}

fn find_or_generate_kek(session: &Session, label: &str) -> Result<ObjectHandle, String> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    match session
        .find_objects(&template)
        .map_err(|e| e.to_string())?
        .as_slice()
    {
        [kek] => return Ok(*kek),
        [] => {}
        // Picking one could seal with a KEK that another process does not use; the operator
        // must keep the one the data was sealed with.
        several => {
            return Err(format!(
                "{} keys have this label; exactly one is expected",
                several.len()
            ));
        }
    }
    // Sensitive and not extractable: the value can never be read or wrapped out of the token
    // (and PKCS#11 allows neither flag to be turned back). Usable only to encrypt and decrypt.
    session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::ValueLen(KEK_BYTES.into()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Wrap(false),
                Attribute::Unwrap(false),
                Attribute::Sign(false),
                Attribute::Verify(false),
                Attribute::Derive(false),
                Attribute::Label(label.as_bytes().to_vec()),
            ],
        )
        .map_err(|e| format!("cannot generate it in the token: {e}"))
}

/// CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40); some modules give the
/// bare point. Either way, returns the 97-octet uncompressed point.
fn uncompressed_point(value: &[u8]) -> Option<Vec<u8>> {
    let point = match value {
        [0x04, len, point @ ..]
            if usize::from(*len) == P384_POINT_LEN && point.len() == P384_POINT_LEN =>
        {
            point
        }
        point if point.len() == P384_POINT_LEN => point,
        _ => return None,
    };
    (point[0] == 0x04).then(|| point.to_vec())
}

/// A CA key in the token: the pki crate asks it for signatures.
pub struct TokenCaKey {
    token: Arc<Token>,
    private: ObjectHandle,
    reference: TokenKeyRef,
    public_point: Vec<u8>,
}

impl TokenCaKey {
    /// How `ca.json` refers to this key.
    pub fn reference(&self) -> &TokenKeyRef {
        &self.reference
    }
}

impl CaSigner for TokenCaKey {
    fn public_key(&self) -> &[u8] {
        &self.public_point
    }

    /// SHA-384 here, CKM_ECDSA in the token, then r ‖ s as a DER ECDSA-Sig-Value. The result is
    /// checked against the public key before it is used: a token that signs with another key
    /// (or garbles the signature) must not produce certificates nobody can verify.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CaSignerError> {
        let fail = |problem: String| {
            tracing::error!(
                module = %self.token.module,
                token = %self.token.token_label,
                key = %self.reference.label,
                %problem,
                "CA signature in the token failed"
            );
            CaSignerError(problem)
        };
        let hash = digest(&SHA384, message);
        let raw = self
            .token
            .with_session(|session| session.sign(&Mechanism::Ecdsa, self.private, hash.as_ref()))
            .map_err(|e| fail(format!("C_Sign: {e}")))?;
        if raw.len() != P384_RAW_SIGNATURE_LEN {
            return Err(fail(format!(
                "the token returned a {}-octet signature, not {P384_RAW_SIGNATURE_LEN}",
                raw.len()
            )));
        }
        let (r, s) = raw.split_at(P384_RAW_SIGNATURE_LEN / 2);
        let signature = ecdsa_sig_value(r, s);
        UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, &self.public_point)
            .verify(message, &signature)
            .map_err(|_| {
                fail("the token's signature does not verify with the key's public key".into())
            })?;
        Ok(signature)
    }
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3) from the
/// big-endian r and s of a P-384 signature (≤ 49 octets each, so every length is short-form).
fn ecdsa_sig_value(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, value: &[u8]) {
        let first = value
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(value.len() - 1);
        let value = &value[first..];
        let pad = value[0] & 0x80 != 0;
        out.push(0x02);
        out.push((value.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(value);
    }
    let mut body = Vec::with_capacity(P384_RAW_SIGNATURE_LEN + 6);
    integer(&mut body, r);
    integer(&mut body, s);
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_values_are_minimal_der_integers() {
        let mut r = [0u8; 48];
        r[47] = 1;
        let s = [0xffu8; 48];
        let der = ecdsa_sig_value(&r, &s);
        assert_eq!(&der[..5], &[0x30, 3 + 51, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 49, 0x00]);
        assert_eq!(der.len(), 2 + 3 + 51);
        let zero = ecdsa_sig_value(&[0u8; 48], &[0u8; 48]);
        assert_eq!(zero, vec![0x30, 6, 0x02, 1, 0, 0x02, 1, 0]);
    }

    #[test]
    fn ec_points_are_read_wrapped_or_bare() {
        let mut point = vec![0x04];
        point.extend_from_slice(&[7u8; 96]);
        let mut wrapped = vec![0x04, 97];
        wrapped.extend_from_slice(&point);
        assert_eq!(uncompressed_point(&wrapped), Some(point.clone()));
        assert_eq!(uncompressed_point(&point), Some(point.clone()));
        assert_eq!(uncompressed_point(&point[..50]), None);
    }

    #[test]
    fn the_pin_is_not_printed() {
        let config = Pkcs11Config {
            module: "/nonexistent.so".into(),
            token_label: "t".into(),
            pin: Zeroizing::new("secret-pin-4321".into()),
            key_label: "splitid".into(),
        };
        assert!(!format!("{config:?}").contains("4321"));
        let error = Token::open(&config).unwrap_err().to_string();
        assert!(error.contains("/nonexistent.so") && error.contains("does not exist"));
        assert!(!error.contains("4321"));
    }
}
