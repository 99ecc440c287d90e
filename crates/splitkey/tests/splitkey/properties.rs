//! Property tests: for random hashes, paddings and PINs, the right PIN always yields a valid
//! signature and every wrong PIN is caught by the server.

use crate::common::{PIN, fast_key, make_key, pin_of};
use proptest::prelude::*;
use splitkey::{Error, HalfSize, HashAlgorithm, KdfParams, Padding, SignRequest};

fn any_hash() -> impl Strategy<Value = HashAlgorithm> {
    prop::sample::select(HashAlgorithm::ALL.to_vec())
}

fn any_padding() -> impl Strategy<Value = Padding> {
    prop::sample::select(vec![Padding::Pkcs1v15, Padding::Pss])
}

fn any_pin() -> impl Strategy<Value = String> {
    "[0-9]{4,12}"
}

/// A hash request of the right length for its algorithm, from arbitrary bytes.
fn request(half: HalfSize, hash: HashAlgorithm, padding: Padding, seed: &[u8]) -> SignRequest {
    let digest: Vec<u8> = seed
        .iter()
        .cycle()
        .take(hash.output_len())
        .copied()
        .collect();
    SignRequest::new(half, hash, padding, &digest).unwrap()
}

/// The right PIN signs (and the signature verifies); the wrong one is refused as a wrong PIN.
fn check_right_and_wrong_pin(
    half: HalfSize,
    request: &SignRequest,
    wrong: &str,
) -> Result<(), TestCaseError> {
    let key = fast_key(half);
    let partial = key.device.partial_sign(&pin_of(PIN), request).unwrap();
    let signature = key.server.complete(request, &partial).unwrap();
    prop_assert!(key.server.public_key().verify(request, &signature).is_ok());
    let wrong_partial = key.device.partial_sign(&pin_of(wrong), request).unwrap();
    prop_assert_eq!(
        key.server.complete(request, &wrong_partial),
        Err(Error::WrongPin)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn right_pin_signs_and_wrong_pin_is_caught(
        hash in any_hash(),
        padding in any_padding(),
        seed in prop::collection::vec(any::<u8>(), 1..64),
        wrong in any_pin(),
    ) {
        prop_assume!(wrong != PIN);
        let half = HalfSize::Bits2048;
        check_right_and_wrong_pin(half, &request(half, hash, padding, &seed), &wrong)?;
    }
}

proptest! {
    // Each case generates a fresh key pair (about a second), so fewer cases.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn any_chosen_pin_works_and_a_one_digit_change_fails(
        pin in any_pin(),
        position in any::<prop::sample::Index>(),
        hash in any_hash(),
        seed in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let half = HalfSize::Bits2048;
        let key = make_key(half, KdfParams::INSECURE_FAST, &pin);
        let request = request(half, hash, Padding::Pkcs1v15, &seed);
        let partial = key.device.partial_sign(&pin_of(&pin), &request).unwrap();
        prop_assert!(key.server.complete(&request, &partial).is_ok());

        let mut digits = pin.into_bytes();
        let i = position.index(digits.len());
        digits[i] = b'0' + (digits[i] - b'0' + 1) % 10;
        let near_miss = String::from_utf8(digits).unwrap();
        let partial = key.device.partial_sign(&pin_of(&near_miss), &request).unwrap();
        prop_assert_eq!(key.server.complete(&request, &partial), Err(Error::WrongPin));
    }

    #[test]
    fn right_and_wrong_pins_at_3072_bit_halves(
        hash in any_hash(),
        padding in any_padding(),
        seed in prop::collection::vec(any::<u8>(), 1..64),
        wrong in any_pin(),
    ) {
        prop_assume!(wrong != PIN);
        let half = HalfSize::Bits3072;
        check_right_and_wrong_pin(half, &request(half, hash, padding, &seed), &wrong)?;
    }
}
