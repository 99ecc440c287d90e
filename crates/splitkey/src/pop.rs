//! Proof of possession at registration: the new composite key signs a challenge from the CA
//! through the two-party protocol, proving that both shares combine to a working key and that
//! the person knows the PIN they just chose.
//!
//! The challenge is hashed under a domain-separation label, so a proof can never be replayed
//! as a login or a document signature, nor the other way round.

use crate::{
    CompositePublicKey, DeviceShare, Error, HashAlgorithm, Padding, Pin, ServerShare, SignRequest,
    Signature,
};

const DOMAIN: &[u8] = b"SplitID proof of possession v1\0";

/// The request the device signs (with its PIN) and the server completes for `challenge`.
pub fn proof_of_possession_request(
    public_key: &CompositePublicKey,
    challenge: &[u8],
) -> Result<SignRequest, Error> {
    let digest = pop_digest(challenge);
    SignRequest::new(
        public_key.half_size(),
        HashAlgorithm::Sha512,
        Padding::Pkcs1v15,
        &digest,
    )
}

/// The CA's check: `signature` is a standard RSA signature by `public_key` over the challenge.
pub fn verify_proof_of_possession(
    public_key: &CompositePublicKey,
    challenge: &[u8],
    signature: &Signature,
) -> Result<(), Error> {
    let request = proof_of_possession_request(public_key, challenge)?;
    public_key.verify(&request, signature)
}

/// Runs the whole proof in one place, for a device and server in the same process (tests,
/// demonstrations, and a registration service co-located with its key store).
pub fn prove_possession(
    device: &DeviceShare,
    pin: &Pin,
    server: &ServerShare,
    challenge: &[u8],
) -> Result<Signature, Error> {
    let request = proof_of_possession_request(&server.public_key(), challenge)?;
    let partial = device.partial_sign(pin, &request)?;
    server.complete(&request, &partial)
}

fn pop_digest(challenge: &[u8]) -> Vec<u8> {
    let mut input = DOMAIN.to_vec();
    input.extend_from_slice(challenge);
    HashAlgorithm::Sha512.digest(&input)
}
