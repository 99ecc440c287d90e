//! One key, both backends: a key made and used by the pure-Rust backend (the browser app's),
//! recorded in `tests/fixtures/cross-backend.txt`, is rebuilt and used here by whichever
//! backend this build has — AWS-LC in the workspace's run (the service's), the pure backend in
//! the README's third run. The device's partial signature for the recorded request comes out
//! byte for byte as recorded, the server's half completes the recorded partial signature into
//! the recorded signature, a fresh PSS request signed here verifies with a standard verifier,
//! and a wrong PIN's partial signature is caught. So a phone on either backend and a server
//! on either backend work on the same keys.
//!
//! To record anew (the pure backend, so that AWS-LC is the one that checks it):
//! `SPLITKEY_RECORD_FIXTURE=1 cargo test -p splitkey --no-default-features --features pure-rust -- --ignored record`

use std::collections::HashMap;

use aws_lc_rs::signature::{self, RsaPublicKeyComponents};
use splitkey::{
    DeviceShare, Error, HalfSize, HashAlgorithm, KdfParams, Padding, PartialSignature, SALT_LEN,
    ServerShare, SignRequest,
};

use crate::common::{make_key, pin_of};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/cross-backend.txt"
);
const PIN: &str = "3947";
const HALF: HalfSize = HalfSize::Bits2048;
const MESSAGE: &[u8] = b"a transfer signed on one backend, checked on the other";

fn fields() -> HashMap<String, Vec<u8>> {
    std::fs::read_to_string(FIXTURE)
        .expect("the recorded fixture")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, value) = line.split_once(" = ").expect("name = hex");
            (name.to_owned(), hex::decode(value).expect("hex"))
        })
        .collect()
}

#[test]
fn a_key_recorded_by_the_pure_backend_works_on_this_one() {
    let f = fields();
    let kdf = KdfParams::INSECURE_FAST;
    let salt: [u8; SALT_LEN] = f["salt"].clone().try_into().unwrap();
    let device = DeviceShare::from_parts(
        HALF,
        &f["device_modulus"],
        salt,
        &f["context"],
        kdf,
        &f["sealed"],
    )
    .unwrap();
    let server = ServerShare::from_stored(
        HALF,
        &f["device_modulus"],
        &f["server_exponent"],
        &f["server_key_der"],
    )
    .unwrap();
    assert_eq!(server.public_key().modulus(), &f["composite_modulus"][..]);

    let digest = HashAlgorithm::Sha256.digest(MESSAGE);
    let request = SignRequest::from_parts(
        HALF,
        HashAlgorithm::Sha256,
        Padding::Pkcs1v15,
        &digest,
        &f["encoded"],
    )
    .unwrap();
    let partial = device.partial_sign(&pin_of(PIN), &request).unwrap();
    assert_eq!(
        partial.as_bytes(),
        &f["partial_signature"][..],
        "{} computes the device's half as the pure backend did",
        splitkey::BACKEND
    );
    let recorded = PartialSignature::from_bytes(&f["partial_signature"]);
    let signature = server.complete(&request, &recorded).unwrap();
    assert_eq!(signature.as_bytes(), &f["signature"][..]);

    let standard_key = RsaPublicKeyComponents {
        n: &f["composite_modulus"][..],
        e: &[0x01, 0x00, 0x01][..],
    };
    let digest = HashAlgorithm::Sha512.digest(MESSAGE);
    let fresh = SignRequest::new(HALF, HashAlgorithm::Sha512, Padding::Pss, &digest).unwrap();
    let partial = device.partial_sign(&pin_of(PIN), &fresh).unwrap();
    let signature = server.complete(&fresh, &partial).unwrap();
    standard_key
        .verify(
            &signature::RSA_PSS_2048_8192_SHA512,
            MESSAGE,
            signature.as_bytes(),
        )
        .expect("a standard verifier accepts it");

    let wrong = device.partial_sign(&pin_of("3948"), &request).unwrap();
    assert!(matches!(
        server.complete(&request, &wrong),
        Err(Error::WrongPin)
    ));
}

/// Writes the fixture (see the module's documentation for the command).
#[test]
#[ignore = "records the fixture; run by hand on the pure backend"]
fn record_cross_backend_fixture() {
    assert!(
        std::env::var_os("SPLITKEY_RECORD_FIXTURE").is_some(),
        "set SPLITKEY_RECORD_FIXTURE=1 to overwrite the fixture"
    );
    assert_eq!(splitkey::BACKEND, "pure-rust", "record on the pure backend");
    let key = make_key(HALF, KdfParams::INSECURE_FAST, PIN);
    let digest = HashAlgorithm::Sha256.digest(MESSAGE);
    let request =
        SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap();
    let partial = key.device.partial_sign(&pin_of(PIN), &request).unwrap();
    let signature = key.server.complete(&request, &partial).unwrap();
    let fields: [(&str, Vec<u8>); 10] = [
        ("device_modulus", key.device.modulus().to_vec()),
        ("salt", key.device.salt().to_vec()),
        ("context", key.device.context().to_vec()),
        ("sealed", key.device.sealed().to_vec()),
        (
            "server_exponent",
            key.server.server_exponent().unwrap().to_vec(),
        ),
        (
            "server_key_der",
            key.server.server_key_der().unwrap().to_vec(),
        ),
        (
            "composite_modulus",
            key.server.public_key().modulus().to_vec(),
        ),
        ("encoded", request.encoded().to_vec()),
        ("partial_signature", partial.as_bytes().to_vec()),
        ("signature", signature.as_bytes().to_vec()),
    ];
    let mut text = format!(
        "# Recorded by splitkey's {} backend (tests/splitkey/cross_backend.rs): RSA-2048 halves,\n# KdfParams::INSECURE_FAST, PIN {PIN}. Test data only: this key protects nothing.\n",
        splitkey::BACKEND
    );
    for (name, value) in fields {
        text.push_str(&format!("{name} = {}\n", hex::encode(value)));
    }
    std::fs::write(FIXTURE, text).unwrap();
}
