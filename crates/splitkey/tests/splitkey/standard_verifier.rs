//! Signatures made by the two-party protocol verify with independent, standard RSA verifiers
//! against the composite public key: aws-lc-rs for the SHA-2 hashes, the `openssl` command for
//! SHA3 (aws-lc-rs has no RSA verification with SHA3); every hash, both paddings, both key
//! sizes.

use std::process::Command;

use crate::common::{Fixture, PIN, fast_key, make_key, pin_of};
use aws_lc_rs::signature::{self, RsaParameters, RsaPublicKeyComponents};
use splitkey::{HalfSize, HashAlgorithm, KdfParams, Padding, SignRequest};

fn aws_lc_algorithm(hash: HashAlgorithm, padding: Padding) -> Option<&'static RsaParameters> {
    Some(match (padding, hash) {
        (Padding::Pkcs1v15, HashAlgorithm::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (Padding::Pkcs1v15, HashAlgorithm::Sha384) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (Padding::Pkcs1v15, HashAlgorithm::Sha512) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (Padding::Pss, HashAlgorithm::Sha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (Padding::Pss, HashAlgorithm::Sha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (Padding::Pss, HashAlgorithm::Sha512) => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

/// A DER length.
fn der_length(len: usize) -> Vec<u8> {
    match len {
        0..=0x7f => vec![len as u8],
        0x80..=0xff => vec![0x81, len as u8],
        _ => vec![0x82, (len >> 8) as u8, len as u8],
    }
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    [&[tag][..], &der_length(content.len()), content].concat()
}

/// SubjectPublicKeyInfo DER of an RSA key with e = 65537, for openssl.
fn subject_public_key_info(modulus: &[u8]) -> Vec<u8> {
    let unsigned = [&[0u8][..], modulus].concat();
    let rsa_key = der(
        0x30,
        &[der(0x02, &unsigned), der(0x02, &[1, 0, 1])].concat(),
    );
    let rsa_encryption = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let bit_string = der(0x03, &[&[0u8][..], &rsa_key].concat());
    der(0x30, &[der(0x30, &rsa_encryption), bit_string].concat())
}

/// A finished signature and how it was made, for a standard verifier.
struct Signed<'a> {
    modulus: &'a [u8],
    hash: HashAlgorithm,
    padding: Padding,
    signature: &'a [u8],
}

/// Whether `openssl dgst -verify` accepts the signature (PSS: MGF1 of the same hash, salt as
/// long as the digest, as the API says).
fn openssl_verifies(signed: &Signed, message: &[u8]) -> bool {
    let Signed {
        modulus,
        hash,
        padding,
        signature,
    } = *signed;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("key.der"), subject_public_key_info(modulus)).unwrap();
    std::fs::write(path("message"), message).unwrap();
    std::fs::write(path("signature"), signature).unwrap();
    let digest = format!("-{}", hash.api_name().to_lowercase().replace("sha-", "sha"));
    let mut command = Command::new("openssl");
    command.args(["dgst", &digest, "-keyform", "DER", "-verify"]);
    command
        .arg(path("key.der"))
        .arg("-signature")
        .arg(path("signature"));
    if padding == Padding::Pss {
        command.args([
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:digest",
        ]);
    }
    let output = command.arg(path("message")).output().expect("openssl runs");
    let verified = String::from_utf8_lossy(&output.stdout).contains("Verified OK");
    assert_eq!(verified, output.status.success(), "{output:?}");
    verified
}

/// Whether the standard verifier for this hash accepts the signature.
fn standard_verifies(signed: &Signed, message: &[u8]) -> bool {
    let Some(algorithm) = aws_lc_algorithm(signed.hash, signed.padding) else {
        return openssl_verifies(signed, message);
    };
    let standard_key = RsaPublicKeyComponents {
        n: signed.modulus,
        e: &[0x01, 0x00, 0x01][..],
    };
    standard_key
        .verify(algorithm, message, signed.signature)
        .is_ok()
}

fn sign_and_verify_every_combination(key: &Fixture, half: HalfSize) {
    let public_key = key.server.public_key();
    assert_eq!(public_key.modulus().len() * 8, half.composite_bits());
    for padding in [Padding::Pkcs1v15, Padding::Pss] {
        for hash in HashAlgorithm::ALL {
            let message = format!("document signed with {hash:?} and {padding:?}");
            let digest = hash.digest(message.as_bytes());
            let request = SignRequest::new(half, hash, padding, &digest).unwrap();
            let partial = key.device.partial_sign(&pin_of(PIN), &request).unwrap();
            let signature = key.server.complete(&request, &partial).unwrap();

            assert_eq!(signature.as_bytes().len(), half.composite_bytes());
            let signed = Signed {
                modulus: public_key.modulus(),
                hash,
                padding,
                signature: signature.as_bytes(),
            };
            let verifies = |message: &str| standard_verifies(&signed, message.as_bytes());
            assert!(
                verifies(&message),
                "standard verifier rejects {hash:?}/{padding:?}"
            );
            public_key.verify(&request, &signature).unwrap();
            assert!(
                !verifies(&format!("{message}, altered")),
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
