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

/// What a device checks before it trusts the composite key the server formed: n is n1·n2 for
/// its own n1. Another key's composite (the server certifying a key the device has no part
/// in) and a device modulus of another size are refused.
#[test]
fn a_device_recognises_a_composite_key_made_of_its_own_modulus_only() {
    let key = fast_key(HalfSize::Bits2048);
    let composite = key.server.public_key();
    composite.check_made_of(key.device.modulus()).unwrap();

    let other =
        crate::common::make_key(HalfSize::Bits2048, splitkey::KdfParams::INSECURE_FAST, PIN);
    assert!(
        other
            .server
            .public_key()
            .check_made_of(key.device.modulus())
            .is_err(),
        "another key's composite"
    );
    assert!(
        composite
            .check_made_of(fast_key(HalfSize::Bits3072).device.modulus())
            .is_err(),
        "a device modulus of another size"
    );
}
