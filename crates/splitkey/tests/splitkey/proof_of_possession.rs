//! Registration proof of possession: the composite key signs the CA's challenge through the
//! two-party protocol, and the CA checks it with the public key alone.

use crate::common::{PIN, fast_key, pin_of};
use splitkey::{
    Error, HalfSize, HashAlgorithm, Padding, SignRequest, proof_of_possession_request,
    prove_possession, verify_proof_of_possession,
};

#[test]
fn proof_verifies_for_its_challenge_only() {
    let key = fast_key(HalfSize::Bits2048);
    let public_key = key.server.public_key();
    let proof = prove_possession(&key.device, &pin_of(PIN), &key.server, b"challenge-1").unwrap();
    verify_proof_of_possession(&public_key, b"challenge-1", &proof).unwrap();
    assert!(verify_proof_of_possession(&public_key, b"challenge-2", &proof).is_err());
}

#[test]
fn proof_needs_the_right_pin() {
    let key = fast_key(HalfSize::Bits2048);
    let result = prove_possession(&key.device, &pin_of("0000"), &key.server, b"challenge");
    assert_eq!(result.unwrap_err(), Error::WrongPin);
}

#[test]
fn proof_is_domain_separated_from_ordinary_signatures() {
    // Signing the raw SHA-512 of the challenge (as a login would) is not a proof.
    let half = HalfSize::Bits2048;
    let key = fast_key(half);
    let challenge = b"challenge";
    let digest = HashAlgorithm::Sha512.digest(challenge);
    let request =
        SignRequest::new(half, HashAlgorithm::Sha512, Padding::Pkcs1v15, &digest).unwrap();
    let partial = key.device.partial_sign(&pin_of(PIN), &request).unwrap();
    let login_signature = key.server.complete(&request, &partial).unwrap();
    let public_key = key.server.public_key();
    assert!(verify_proof_of_possession(&public_key, challenge, &login_signature).is_err());
    let pop_request = proof_of_possession_request(&public_key, challenge).unwrap();
    assert_ne!(pop_request.digest(), digest.as_slice());
}
