//! End-to-end sealing of the secrets a device sends, and the server's channel key.
//!
//! A phone's storage holds its key shares sealed under the PIN with no redundancy, so the
//! storage alone gives no way to test a PIN. A partial signature s1' = μ^d̃ mod n1, or the
//! server's exponent share d1ˢ, would give one: whoever holds the storage computes the value
//! for each candidate PIN and compares. Such values therefore never cross the wire readable,
//! not even inside TLS (which a logging proxy or load balancer terminates): the app seals each
//! to the server's channel key with HPKE (RFC 9180, base mode, X25519 / HKDF-SHA256 /
//! ChaCha20-Poly1305), and only the code that completes the signature opens it.
//!
//! Each ciphertext's associated data names where it belongs ([`Binding`]): the account, the
//! key's purpose and the transaction (or the registration, or the vouched-for challenge), so a
//! recorded ciphertext cannot be moved to another place.
//!
//! The channel key ([`ServerKeyPair`]) is two keys: the X25519 key the app seals to and an
//! Ed25519 key that signs its successor when the operator rotates it ([`KeyRotation`]). The
//! app pins the key it registered with and accepts a new one only through a chain of such
//! signatures from the pinned one ([`follow_rotations`]).
//!
//! No I/O here: the server keeps its pairs in its store (sealed under the key-encryption key),
//! the app in its vault.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha256};
use splitid_proto::app_v1::{
    KeyRotation, SEALING_SUITE, SealedSecret, ServerKey, ServerKeyDocument,
};
use zeroize::Zeroizing;

type Kem = X25519HkdfSha256;
type Kdf = HkdfSha256;
type Aead = ChaCha20Poly1305;

/// HPKE's `info`: the protocol and its version.
const INFO: &[u8] = b"splitid-app-v1 sealed secret";
/// Bytes of a pair's secret: the X25519 key's seed, then the Ed25519 key's.
pub const SECRET_LEN: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealingError {
    /// The sealed value does not open: tampered, moved to another binding, or sealed to
    /// another key.
    #[error("the sealed value does not open with this server's key for this use")]
    DoesNotOpen,
    /// A value that should be base64 of a key or ciphertext is not.
    #[error("{0}")]
    Malformed(String),
    /// A key document or rotation that does not verify.
    #[error("{0}")]
    Untrusted(String),
    #[error("the system's random generator failed")]
    Random,
}

/// Where a sealed secret belongs: its HPKE associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding<'a> {
    /// d1ˢ at registration, for the key `purpose` with device modulus `device_modulus`.
    ServerExponent {
        purpose: &'a str,
        device_modulus: &'a [u8],
    },
    /// The channel MAC key the app chose, at the end of `registration`.
    MacKey { registration: &'a str },
    /// A proof of possession's partial signature, for `registration`'s key `purpose`.
    Possession {
        registration: &'a str,
        purpose: &'a str,
    },
    /// A confirmation's partial signature.
    Confirmation {
        account: &'a str,
        purpose: &'a str,
        transaction: &'a str,
    },
    /// A vouching login's partial signature (always the authentication key).
    Vouch {
        account: &'a str,
        challenge: &'a str,
    },
}

impl Binding<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let lines = match self {
            Binding::ServerExponent {
                purpose,
                device_modulus,
            } => {
                let modulus = Sha256::digest(device_modulus);
                vec![
                    "server-exponent".to_owned(),
                    (*purpose).to_owned(),
                    hex::encode(modulus),
                ]
            }
            Binding::MacKey { registration } => {
                vec!["mac-key".to_owned(), (*registration).to_owned()]
            }
            Binding::Possession {
                registration,
                purpose,
            } => vec![
                "proof-of-possession".to_owned(),
                (*registration).to_owned(),
                (*purpose).to_owned(),
            ],
            Binding::Confirmation {
                account,
                purpose,
                transaction,
            } => vec![
                "confirmation".to_owned(),
                (*account).to_owned(),
                (*purpose).to_owned(),
                (*transaction).to_owned(),
            ],
            Binding::Vouch { account, challenge } => vec![
                "vouch".to_owned(),
                (*account).to_owned(),
                (*challenge).to_owned(),
            ],
        };
        format!("splitid-app-v1\n{}", lines.join("\n")).into_bytes()
    }
}

/// The public half of a channel key, as the app pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicServerKey {
    encryption: [u8; 32],
    signing: [u8; 32],
}

impl PublicServerKey {
    /// SHA-256 over a label and both public keys, hex: what `serve` prints and
    /// `register --server-key` accepts.
    pub fn fingerprint(&self) -> String {
        let mut context = Sha256::new();
        context.update(b"splitid-server-key-v1\n");
        context.update(self.encryption);
        context.update(self.signing);
        hex::encode(context.finalize())
    }

    /// The first 16 bytes of the fingerprint: how a sealed value names its key.
    pub fn key_id(&self) -> String {
        self.fingerprint()[..32].to_owned()
    }

    pub fn to_wire(&self) -> ServerKey {
        ServerKey {
            key_id: self.key_id(),
            suite: SEALING_SUITE.to_owned(),
            encryption_key: BASE64.encode(self.encryption),
            signing_key: BASE64.encode(self.signing),
        }
    }

    /// Reads a key from the wire; its id must be the one its parts give.
    pub fn from_wire(key: &ServerKey) -> Result<Self, SealingError> {
        if key.suite != SEALING_SUITE {
            return Err(SealingError::Untrusted(format!(
                "the server's key is for the suite {:?}, this app speaks {SEALING_SUITE}",
                key.suite
            )));
        }
        let part = |name: &str, text: &str| -> Result<[u8; 32], SealingError> {
            BASE64
                .decode(text)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or_else(|| SealingError::Malformed(format!("{name}: not base64 of 32 bytes")))
        };
        let public = PublicServerKey {
            encryption: part("encryptionKey", &key.encryption_key)?,
            signing: part("signingKey", &key.signing_key)?,
        };
        if public.key_id() != key.key_id {
            return Err(SealingError::Untrusted(
                "the server key's id is not the one its parts give".into(),
            ));
        }
        Ok(public)
    }

    /// Seals `secret` to this key for `binding`.
    pub fn seal(&self, secret: &[u8], binding: &Binding<'_>) -> Result<SealedSecret, SealingError> {
        let recipient =
            <Kem as hpke::Kem>::PublicKey::from_bytes(&self.encryption).map_err(|_| {
                SealingError::Malformed("the server's encryption key is unusable".into())
            })?;
        let (enc, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
            &OpModeS::Base,
            &recipient,
            INFO,
            secret,
            &binding.associated_data(),
        )
        .map_err(|_| SealingError::Random)?;
        Ok(SealedSecret {
            key_id: self.key_id(),
            enc: BASE64.encode(enc.to_bytes()),
            ciphertext: BASE64.encode(ciphertext),
        })
    }

    /// Checks that `rotation` is this key's signature over its successor; the successor.
    pub fn verify_rotation(&self, rotation: &KeyRotation) -> Result<PublicServerKey, SealingError> {
        if rotation.from != self.key_id() {
            return Err(SealingError::Untrusted(
                "the rotation is from another key".into(),
            ));
        }
        let next = PublicServerKey::from_wire(&rotation.to)?;
        let signature = BASE64
            .decode(&rotation.signature)
            .map_err(|_| SealingError::Malformed("signature: not base64".into()))?;
        let untrusted =
            || SealingError::Untrusted("the rotation's signature does not verify".into());
        let signature =
            ed25519_dalek::Signature::from_slice(&signature).map_err(|_| untrusted())?;
        VerifyingKey::from_bytes(&self.signing)
            .and_then(|key| key.verify_strict(&rotation_message(self, &next), &signature))
            .map_err(|_| untrusted())?;
        Ok(next)
    }
}

/// What a key signs when it hands over to its successor.
pub fn rotation_message(from: &PublicServerKey, to: &PublicServerKey) -> Vec<u8> {
    format!(
        "splitid-server-key-rotation-v1\n{}\n{}",
        from.fingerprint(),
        to.fingerprint()
    )
    .into_bytes()
}

/// The document's current key, if the pinned key leads to it through signed rotations (or is
/// it). Anything else — a key the pinned one never vouched for — is refused.
pub fn follow_rotations(
    pinned: &PublicServerKey,
    document: &ServerKeyDocument,
) -> Result<PublicServerKey, SealingError> {
    let current = PublicServerKey::from_wire(&document.current)?;
    let mut key = pinned.clone();
    // Each step must move on, so a loop in the chain cannot hold the app.
    for _ in 0..=document.rotations.len() {
        if key == current {
            return Ok(key);
        }
        let id = key.key_id();
        let rotation = document
            .rotations
            .iter()
            .find(|r| r.from == id)
            .ok_or_else(|| {
                SealingError::Untrusted(
                    "the server's key is not the one this app registered with, and no rotation signed by that key leads to it"
                        .into(),
                )
            })?;
        key = key.verify_rotation(rotation)?;
    }
    Err(SealingError::Untrusted(
        "the rotation chain does not end at the current key".into(),
    ))
}

/// A channel key pair (server side). Its secret is 64 bytes ([`secret`](Self::secret)), kept
/// sealed under the key-encryption key.
pub struct ServerKeyPair {
    secret: Zeroizing<[u8; SECRET_LEN]>,
    decryption: <Kem as hpke::Kem>::PrivateKey,
    signing: SigningKey,
    public: PublicServerKey,
}

impl std::fmt::Debug for ServerKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKeyPair")
            .field("key_id", &self.public.key_id())
            .finish_non_exhaustive()
    }
}

impl ServerKeyPair {
    /// A new pair from the operating system's randomness.
    pub fn generate() -> Result<Self, SealingError> {
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        getrandom::fill(&mut *secret).map_err(|_| SealingError::Random)?;
        Self::from_secret(&*secret)
    }

    /// The pair a stored secret makes.
    pub fn from_secret(secret: &[u8]) -> Result<Self, SealingError> {
        let secret: Zeroizing<[u8; SECRET_LEN]> =
            Zeroizing::new(secret.try_into().map_err(|_| {
                SealingError::Malformed("a channel key's secret is 64 bytes".into())
            })?);
        let (decryption, encryption) = Kem::derive_keypair(&secret[..32]);
        let seed: &[u8; 32] = secret[32..]
            .try_into()
            .map_err(|_| SealingError::Malformed("an Ed25519 seed is 32 bytes".into()))?;
        let signing = SigningKey::from_bytes(seed);
        let signing_public = signing.verifying_key().to_bytes();
        let encryption: [u8; 32] = encryption
            .to_bytes()
            .as_slice()
            .try_into()
            .map_err(|_| SealingError::Malformed("X25519 public key size".into()))?;
        Ok(ServerKeyPair {
            secret,
            decryption,
            signing,
            public: PublicServerKey {
                encryption,
                signing: signing_public,
            },
        })
    }

    /// The 64 secret bytes, to be sealed for storage.
    pub fn secret(&self) -> &[u8] {
        &*self.secret
    }

    pub fn public(&self) -> &PublicServerKey {
        &self.public
    }

    /// Opens a value sealed to this key for `binding`.
    pub fn open(
        &self,
        sealed: &SealedSecret,
        binding: &Binding<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, SealingError> {
        let malformed = |field: &str| SealingError::Malformed(format!("{field}: not base64"));
        let enc = BASE64.decode(&sealed.enc).map_err(|_| malformed("enc"))?;
        let ciphertext = BASE64
            .decode(&sealed.ciphertext)
            .map_err(|_| malformed("ciphertext"))?;
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc)
            .map_err(|_| SealingError::Malformed("enc: not an X25519 public key".into()))?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Base,
            &self.decryption,
            &enc,
            INFO,
            &ciphertext,
            &binding.associated_data(),
        )
        .map(Zeroizing::new)
        .map_err(|_| SealingError::DoesNotOpen)
    }

    /// This key's signature handing over to `next`.
    pub fn rotate_to(&self, next: &PublicServerKey) -> KeyRotation {
        let signature = self.signing.sign(&rotation_message(&self.public, next));
        KeyRotation {
            from: self.public.key_id(),
            to: next.to_wire(),
            signature: BASE64.encode(signature.to_bytes()),
        }
    }
}

#[cfg(test)]
mod tests;
