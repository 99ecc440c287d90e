//! Signatures made by the two-party protocol verify with an independent, standard RSA verifier
//! (aws-lc-rs) against the composite public key: every hash, both paddings, both key sizes.

use crate::common::{Fixture, PIN, fast_key, make_key, pin_of};
use aws_lc_rs::signature::{self, RsaParameters, RsaPublicKeyComponents};
use splitkey::{HalfSize, HashAlgorithm, KdfParams, Padding, SignRequest};

fn standard_algorithm(hash: HashAlgorithm, padding: Padding) -> &'static RsaParameters {
    match (padding, hash) {
        (Padding::Pkcs1v15, HashAlgorithm::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (Padding::Pkcs1v15, HashAlgorithm::Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (Padding::Pkcs1v15, HashAlgorithm::Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (Padding::Pss, HashAlgorithm::Sha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (Padding::Pss, HashAlgorithm::Sha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (Padding::Pss, HashAlgorithm::Sha512) => &signature::RSA_PSS_2048_8192_SHA512,
    }
}

fn sign_and_verify_every_combination(key: &Fixture, half: HalfSize) {
    let public_key = key.server.public_key();
    assert_eq!(public_key.modulus().len() * 8, half.composite_bits());
    let standard_key = RsaPublicKeyComponents {
        n: public_key.modulus(),
        e: &[0x01, 0x00, 0x01][..],
    };
    for padding in [Padding::Pkcs1v15, Padding::Pss] {
        for hash in HashAlgorithm::ALL {
            let message = format!("document signed with {hash:?} and {padding:?}");
            let digest = hash.digest(message.as_bytes());
            let request = SignRequest::new(half, hash, padding, &digest).unwrap();
            let partial = key.device.partial_sign(&pin_of(PIN), &request).unwrap();
            let signature = key.server.complete(&request, &partial).unwrap();

            assert_eq!(signature.as_bytes().len(), half.composite_bytes());
            standard_key
                .verify(
                    standard_algorithm(hash, padding),
                    message.as_bytes(),
                    signature.as_bytes(),
                )
                .unwrap_or_else(|_| panic!("standard verifier rejects {hash:?}/{padding:?}"));
            public_key.verify(&request, &signature).unwrap();

            let other = format!("{message}, altered");
            assert!(
                standard_key
                    .verify(
                        standard_algorithm(hash, padding),
                        other.as_bytes(),
                        signature.as_bytes()
                    )
                    .is_err(),
                "a signature must not verify for another message"
            );
        }
    }
}

#[test]
fn two_party_signatures_verify_with_aws_lc_at_2048_bit_halves() {
    sign_and_verify_every_combination(fast_key(HalfSize::Bits2048), HalfSize::Bits2048);
}

#[test]
fn two_party_signatures_verify_with_aws_lc_at_3072_bit_halves() {
    // The default size, with the real Argon2id cost.
    let key = make_key(HalfSize::Bits3072, KdfParams::RECOMMENDED, PIN);
    sign_and_verify_every_combination(&key, HalfSize::Bits3072);
}

#[test]
fn pss_signatures_are_randomised_but_all_verify() {
    let half = HalfSize::Bits2048;
    let key = fast_key(half);
    let digest = HashAlgorithm::Sha256.digest(b"same document");
    let sign = || {
        let request = SignRequest::new(half, HashAlgorithm::Sha256, Padding::Pss, &digest).unwrap();
        let partial = key.device.partial_sign(&pin_of(PIN), &request).unwrap();
        key.server.complete(&request, &partial).unwrap()
    };
    let (first, second) = (sign(), sign());
    assert_ne!(first, second, "fresh salt each time");
}
