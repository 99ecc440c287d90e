//! Everything a peer can send that is malformed gets a typed error, never a panic and never a
//! "wrong PIN" that would be counted against the person.

use crate::common::{PIN, fast_key, pin_of};
use proptest::prelude::*;
use splitkey::{
    CompositePublicKey, DeviceShare, Error, HalfSize, HashAlgorithm, KdfParams, ModulusRejection,
    Padding, PartialSignature, Pin, SALT_LEN, ServerShare, ServerShareHandover, SignRequest,
    Signature,
};

const HALF: HalfSize = HalfSize::Bits2048;

fn login_request() -> SignRequest {
    let digest = HashAlgorithm::Sha256.digest(b"login");
    SignRequest::new(HALF, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest).unwrap()
}

fn is_invalid_input<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::InvalidInput(_)))
}

#[test]
fn partial_signature_out_of_range_or_wrong_length_is_invalid_input() {
    let key = fast_key(HALF);
    let request = login_request();
    let n1 = key.device.modulus().to_vec();
    // n1 + 1, carried through: n1 is odd, and its last byte is 0xff one time in 128.
    let mut above_n1 = n1.clone();
    for byte in above_n1.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    assert!(
        above_n1 > n1,
        "n1 + 1 fits in n1's length (n1 is not all ones)"
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zero", vec![0u8; HALF.bytes()]),
        ("equal to n1", n1.clone()),
        ("above n1", above_n1),
        ("all ones", vec![0xff; HALF.bytes()]),
        ("too short", vec![1u8; HALF.bytes() - 1]),
        ("too long", vec![1u8; HALF.bytes() + 1]),
        ("empty", vec![]),
    ];
    for (name, bytes) in cases {
        let result = key
            .server
            .complete(&request, &PartialSignature::from_bytes(&bytes));
        assert!(is_invalid_input(result.clone()), "{name}: {result:?}");
    }
}

#[test]
fn hash_of_wrong_length_is_refused() {
    for hash in HashAlgorithm::ALL {
        for len in [0, 1, hash.output_len() - 1, hash.output_len() + 1, 128] {
            let result = SignRequest::new(HALF, hash, Padding::Pkcs1v15, &vec![7u8; len]);
            assert!(is_invalid_input(result), "{hash:?} with {len} bytes");
        }
    }
}

#[test]
fn device_refuses_an_encoding_of_another_hash() {
    // A malicious server cannot get a different message signed: the device rebuilds the
    // request from what it shows the person and refuses a mismatching encoding before any PIN.
    let shown = HashAlgorithm::Sha256.digest(b"pay 10 EUR");
    let swapped = HashAlgorithm::Sha256.digest(b"pay 10000 EUR");
    for padding in [Padding::Pkcs1v15, Padding::Pss] {
        let real = SignRequest::new(HALF, HashAlgorithm::Sha256, padding, &swapped).unwrap();
        let received =
            SignRequest::from_parts(HALF, HashAlgorithm::Sha256, padding, &shown, real.encoded());
        assert!(is_invalid_input(received), "{padding:?}");
        let truncated = SignRequest::from_parts(
            HALF,
            HashAlgorithm::Sha256,
            padding,
            &swapped,
            &real.encoded()[1..],
        );
        assert!(is_invalid_input(truncated));
    }
}

#[test]
fn request_for_another_key_size_is_refused() {
    let key = fast_key(HALF);
    let digest = HashAlgorithm::Sha256.digest(b"x");
    let big = SignRequest::new(
        HalfSize::Bits3072,
        HashAlgorithm::Sha256,
        Padding::Pss,
        &digest,
    )
    .unwrap();
    assert!(is_invalid_input(
        key.device.partial_sign(&pin_of(PIN), &big)
    ));
    let partial = PartialSignature::from_bytes(&[1u8; 256]);
    assert!(is_invalid_input(key.server.complete(&big, &partial)));
}

#[test]
fn bad_device_moduli_are_rejected_with_the_reason() {
    let key = fast_key(HALF);
    let exponent = vec![0x55u8; HALF.bytes()];
    let mut even = key.device.modulus().to_vec();
    *even.last_mut().unwrap() &= 0xfe;
    let mut small = vec![0u8; HALF.bytes()];
    small[0] = 0x80;
    small[HALF.bytes() - 1] = 0x01;
    let cases = [
        (even, ModulusRejection::Even),
        (small, ModulusRejection::TooSmallForComposite),
    ];
    for (modulus, reason) in cases {
        let handover = ServerShareHandover::from_parts(HALF, &modulus, &exponent).unwrap();
        let result = ServerShare::establish(&handover);
        assert_eq!(result.err(), Some(Error::InvalidModulus(reason)));
    }
    let mut short = key.device.modulus().to_vec();
    short[0] = 0x01;
    let handover = ServerShareHandover::from_parts(HALF, &short, &exponent).unwrap();
    assert!(matches!(
        ServerShare::establish(&handover).err(),
        Some(Error::InvalidModulus(ModulusRejection::WrongSize {
            expected: 2048,
            ..
        }))
    ));
    assert!(is_invalid_input(ServerShareHandover::from_parts(
        HALF,
        &exponent[1..],
        &exponent
    )));
    assert!(is_invalid_input(ServerShareHandover::from_parts(
        HALF,
        key.device.modulus(),
        &[]
    )));
}

#[test]
fn sizes_below_2048_bits_are_not_accepted() {
    for bits in [0, 512, 1024, 1536, 2047, 4096] {
        assert!(is_invalid_input(HalfSize::from_bits(bits)), "{bits}");
    }
}

#[test]
fn stored_key_material_is_checked_when_loaded() {
    let key = fast_key(HALF);
    let server = &key.server;
    let n1 = server.device_modulus();
    let d1s = server.server_exponent().unwrap();
    let der = server.server_key_der().unwrap();
    let reloaded = ServerShare::from_stored(HALF, &n1, &d1s, &der).unwrap();
    assert_eq!(reloaded.public_key(), server.public_key());
    assert!(is_invalid_input(ServerShare::from_stored(
        HALF, &n1, &d1s, b"not DER"
    )));
    assert!(is_invalid_input(ServerShare::from_stored(
        HALF,
        &n1,
        &d1s,
        &der[..der.len() / 2]
    )));
    // Well-formed DER whose last integer (the CRT coefficient q⁻¹ mod p) no longer agrees with
    // the rest: the key's consistency check (AWS-LC runs it while parsing) refuses it.
    let mut inconsistent = der.to_vec();
    *inconsistent.last_mut().unwrap() ^= 1;
    assert!(is_invalid_input(ServerShare::from_stored(
        HALF,
        &n1,
        &d1s,
        &inconsistent
    )));

    let device = &key.device;
    let rebuild = |sealed: &[u8], modulus: &[u8]| {
        DeviceShare::from_parts(
            HALF,
            modulus,
            [0u8; SALT_LEN],
            b"ctx",
            KdfParams::INSECURE_FAST,
            sealed,
        )
    };
    assert!(rebuild(device.sealed(), device.modulus()).is_ok());
    assert!(is_invalid_input(rebuild(
        &device.sealed()[1..],
        device.modulus()
    )));
    assert!(is_invalid_input(rebuild(
        device.sealed(),
        &device.modulus()[1..]
    )));
    let bad_kdf = KdfParams {
        memory_kib: 0,
        iterations: 0,
        parallelism: 0,
    };
    assert!(is_invalid_input(DeviceShare::from_parts(
        HALF,
        device.modulus(),
        [0u8; SALT_LEN],
        b"ctx",
        bad_kdf,
        device.sealed()
    )));
}

#[test]
fn a_stored_crt_coefficient_is_used_only_if_right() {
    let key = fast_key(HALF);
    let server = &key.server;
    let (n1, d1s, der) = (
        server.device_modulus(),
        server.server_exponent().unwrap(),
        server.server_key_der().unwrap(),
    );
    let coefficient = server.crt_coefficient().unwrap();
    let with = |c: &[u8]| ServerShare::from_stored_with_coefficient(HALF, &n1, &d1s, &der, c);

    // The right one: the rebuilt share signs exactly as the original.
    let request = login_request();
    let partial = key.device.partial_sign(&pin_of(PIN), &request).unwrap();
    let reloaded = with(&coefficient).unwrap();
    assert_eq!(
        reloaded.complete(&request, &partial).unwrap().as_bytes(),
        server.complete(&request, &partial).unwrap().as_bytes()
    );

    // Off by one, zero, n1 itself (not reduced), and one more byte: all refused.
    let mut off_by_one = coefficient.clone();
    *off_by_one.last_mut().unwrap() ^= 1;
    let zero = vec![0u8; coefficient.len()];
    let oversized = [&[1u8][..], &coefficient].concat();
    for wrong in [&off_by_one, &zero, &n1, &oversized] {
        assert!(
            matches!(with(wrong), Err(Error::InconsistentKey(_))),
            "{wrong:02x?}"
        );
    }
}

#[test]
fn pins_must_be_four_to_twelve_digits() {
    for bad in [
        "",
        "123",
        "12a4",
        "１２３４",
        "1234567890123",
        " 1234",
        "12.34",
    ] {
        assert!(
            matches!(Pin::new(bad), Err(Error::InvalidPin(_))),
            "{bad:?}"
        );
    }
    for good in ["0000", "1234", "123456789012"] {
        assert!(Pin::new(good).is_ok());
    }
    assert_eq!(
        format!("{:?}", Pin::new("1234").unwrap()),
        "Pin(<redacted>)"
    );
}

#[test]
fn signing_key_requires_the_longer_pin() {
    let options = splitkey::DeviceKeyOptions {
        half: HALF,
        kdf: KdfParams::INSECURE_FAST,
        min_pin_digits: 5,
    };
    let result = splitkey::generate_device_key(&pin_of("1234"), b"sign", options);
    assert!(matches!(result, Err(Error::InvalidPin(_))));
}

#[test]
fn signatures_of_wrong_size_or_range_do_not_verify() {
    let key = fast_key(HALF);
    let public_key = key.server.public_key();
    let request = login_request();
    for bytes in [vec![], vec![0u8; 511], vec![0xff; 512], vec![0u8; 513]] {
        assert!(
            public_key
                .verify(&request, &Signature::from_bytes(&bytes))
                .is_err()
        );
    }
    assert!(is_invalid_input(CompositePublicKey::from_modulus(
        &[0xff; 300]
    )));
    let copy = CompositePublicKey::from_modulus(public_key.modulus()).unwrap();
    assert_eq!(copy, public_key);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Arbitrary bytes from a peer never panic and are never counted as a wrong PIN unless
    /// they are a well-formed partial signature.
    #[test]
    fn arbitrary_partial_signatures_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let key = fast_key(HALF);
        let result = key.server.complete(&login_request(), &PartialSignature::from_bytes(&bytes));
        match result {
            Err(Error::WrongPin) => prop_assert_eq!(bytes.len(), HALF.bytes()),
            Err(Error::InvalidInput(_)) => {}
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    #[test]
    fn arbitrary_encodings_never_panic(
        encoded in prop::collection::vec(any::<u8>(), 0..600),
        pss in any::<bool>(),
    ) {
        let padding = if pss { Padding::Pss } else { Padding::Pkcs1v15 };
        let digest = HashAlgorithm::Sha512.digest(b"m");
        let result = SignRequest::from_parts(HALF, HashAlgorithm::Sha512, padding, &digest, &encoded);
        prop_assert!(is_invalid_input(result));
    }
}
