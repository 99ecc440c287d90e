use proptest::prelude::*;

use super::*;

fn confirmation<'a>(account: &'a str, transaction: &'a str) -> Binding<'a> {
    Binding::Confirmation {
        account,
        purpose: "authentication",
        transaction,
    }
}

#[test]
fn a_sealed_secret_opens_only_with_its_key_and_binding() {
    let pair = ServerKeyPair::generate().unwrap();
    let other = ServerKeyPair::generate().unwrap();
    let binding = confirmation("account-1", "transaction-1");
    let sealed = pair.public().seal(b"partial signature", &binding).unwrap();
    assert_eq!(sealed.key_id, pair.public().key_id());
    assert_eq!(
        &*pair.open(&sealed, &binding).unwrap(),
        b"partial signature"
    );
    assert_eq!(
        other.open(&sealed, &binding),
        Err(SealingError::DoesNotOpen)
    );
    for moved in [
        confirmation("account-2", "transaction-1"),
        confirmation("account-1", "transaction-2"),
        Binding::Confirmation {
            account: "account-1",
            purpose: "signing",
            transaction: "transaction-1",
        },
        Binding::Vouch {
            account: "account-1",
            challenge: "transaction-1",
        },
        Binding::MacKey {
            registration: "transaction-1",
        },
        Binding::Possession {
            registration: "transaction-1",
            purpose: "authentication",
        },
    ] {
        assert_eq!(
            pair.open(&sealed, &moved),
            Err(SealingError::DoesNotOpen),
            "{moved:?}"
        );
    }
}

#[test]
fn the_server_exponent_is_bound_to_its_device_modulus() {
    let pair = ServerKeyPair::generate().unwrap();
    let sealed = pair
        .public()
        .seal(
            b"d1s",
            &Binding::ServerExponent {
                purpose: "signing",
                device_modulus: b"n1",
            },
        )
        .unwrap();
    let elsewhere = Binding::ServerExponent {
        purpose: "signing",
        device_modulus: b"another n1",
    };
    assert_eq!(
        pair.open(&sealed, &elsewhere),
        Err(SealingError::DoesNotOpen)
    );
}

#[test]
fn a_pair_is_the_same_after_storage() {
    let pair = ServerKeyPair::generate().unwrap();
    let again = ServerKeyPair::from_secret(pair.secret()).unwrap();
    assert_eq!(again.public(), pair.public());
    let binding = confirmation("a", "t");
    let sealed = pair.public().seal(b"x", &binding).unwrap();
    assert_eq!(&*again.open(&sealed, &binding).unwrap(), b"x");
    assert!(ServerKeyPair::from_secret(&[0u8; 63]).is_err());
}

#[test]
fn the_wire_form_names_its_parts_and_refuses_a_wrong_id() {
    let pair = ServerKeyPair::generate().unwrap();
    let wire = pair.public().to_wire();
    assert_eq!(PublicServerKey::from_wire(&wire).unwrap(), *pair.public());
    let mut forged = wire.clone();
    forged.encryption_key = ServerKeyPair::generate()
        .unwrap()
        .public()
        .to_wire()
        .encryption_key;
    assert!(matches!(
        PublicServerKey::from_wire(&forged),
        Err(SealingError::Untrusted(_))
    ));
    let mut other_suite = wire;
    other_suite.suite = "DHKEM(P-256)".into();
    assert!(PublicServerKey::from_wire(&other_suite).is_err());
}

#[test]
fn an_app_follows_signed_rotations_and_refuses_any_other_key() {
    let first = ServerKeyPair::generate().unwrap();
    let second = ServerKeyPair::generate().unwrap();
    let third = ServerKeyPair::generate().unwrap();
    let document = ServerKeyDocument {
        current: third.public().to_wire(),
        rotations: vec![
            first.rotate_to(second.public()),
            second.rotate_to(third.public()),
        ],
    };
    for pinned in [&first, &second, &third] {
        assert_eq!(
            follow_rotations(pinned.public(), &document).unwrap(),
            *third.public()
        );
    }
    // A key nobody pinned vouched for: a server (or a man in the middle) swapping keys.
    let stranger = ServerKeyPair::generate().unwrap();
    let swapped = ServerKeyDocument {
        current: stranger.public().to_wire(),
        rotations: document.rotations.clone(),
    };
    assert!(matches!(
        follow_rotations(first.public(), &swapped),
        Err(SealingError::Untrusted(_))
    ));
    // A rotation "signed" by the wrong key.
    let mut forged = first.rotate_to(second.public());
    forged.to = stranger.public().to_wire();
    let forged_document = ServerKeyDocument {
        current: stranger.public().to_wire(),
        rotations: vec![forged],
    };
    assert!(follow_rotations(first.public(), &forged_document).is_err());
}

#[test]
fn a_tampered_ciphertext_does_not_open() {
    let pair = ServerKeyPair::generate().unwrap();
    let binding = confirmation("a", "t");
    let mut sealed = pair.public().seal(&[7u8; 256], &binding).unwrap();
    let mut bytes = BASE64.decode(&sealed.ciphertext).unwrap();
    bytes[10] ^= 1;
    sealed.ciphertext = BASE64.encode(bytes);
    assert_eq!(pair.open(&sealed, &binding), Err(SealingError::DoesNotOpen));
    sealed.enc = "not base64!".into();
    assert!(matches!(
        pair.open(&sealed, &binding),
        Err(SealingError::Malformed(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Whatever the secret and the binding, it opens to itself, and the ciphertext is the
    /// secret's length plus the 16-byte tag (nothing else leaks through the size).
    #[test]
    fn sealing_round_trips(secret in proptest::collection::vec(any::<u8>(), 0..600),
                           account in "[a-z0-9-]{1,36}", transaction in "[a-z0-9-]{1,36}") {
        let pair = ServerKeyPair::generate().unwrap();
        let binding = confirmation(&account, &transaction);
        let sealed = pair.public().seal(&secret, &binding).unwrap();
        prop_assert_eq!(BASE64.decode(&sealed.ciphertext).unwrap().len(), secret.len() + 16);
        prop_assert_eq!(&*pair.open(&sealed, &binding).unwrap(), &secret[..]);
    }
}

/// The signing half is standard Ed25519 (RFC 8032 §7.1, test 1): keys stored before the
/// switch from AWS-LC to ed25519-dalek give the same public key and the same signatures.
#[test]
fn the_signing_key_is_rfc_8032_ed25519() {
    let mut secret = [0u8; SECRET_LEN];
    secret[32..].copy_from_slice(
        &hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap(),
    );
    let pair = ServerKeyPair::from_secret(&secret).unwrap();
    assert_eq!(
        hex::encode(pair.public().signing),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    assert_eq!(
        hex::encode(pair.signing.sign(b"").to_bytes()),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
}
