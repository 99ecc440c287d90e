//! The offline attack on a stolen phone, as a check: with the phone's vault and a recording of
//! what crossed the wire, is there a value that tells a right PIN from a wrong one without
//! asking the server?
//!
//! The sealed device share has no redundancy, so the vault alone gives no such test. A
//! recording could: a partial signature s1' = μ^d̃ mod n1 (compare it with μ^d̃(PIN) for each
//! candidate PIN), or the server's exponent share d1ˢ (then (μ^(d̃(PIN)+d1ˢ))^e ≡ μ mod n1 holds
//! for the right PIN only). The check knows the true PINs, so it asks each captured value the
//! question the attacker would ask at the right PIN: a match is a PIN test.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use num_bigint::BigUint;
use serde_json::Value;
use splitid_app::vault::{StoredShare, Vault};
use splitkey::{
    CompositePublicKey, DeviceShare, HashAlgorithm, Padding, Pin, SignRequest,
    proof_of_possession_request,
};

use crate::proxy::Exchange;

/// A key on the phone and the PIN that opens it.
struct KeyUnderTest {
    label: String,
    share: DeviceShare,
    pin: Pin,
}

/// Every value in the recording that serves as a PIN test for a key of `vault`, described
/// (empty when there is none). `pins` gives each account's PIN1 and PIN2 by document number.
pub fn pin_tests(
    vault: &Vault,
    pins: &[(&str, &str, &str)],
    exchanges: &[Exchange],
) -> Vec<String> {
    let keys = keys_under_test(vault, pins);
    let bodies: Vec<Value> = exchanges
        .iter()
        .flat_map(|e| [&e.request_body, &e.response_body])
        .filter_map(|body| serde_json::from_str(body).ok())
        .collect();
    let mut candidates = Vec::new();
    for body in &bodies {
        collect_byte_strings(body, &mut candidates);
    }
    let mut findings = Vec::new();
    for key in &keys {
        for request in sign_requests(&bodies, key.share.half_size()) {
            let Ok(partial) = key.share.partial_sign(&key.pin, &request) else {
                continue;
            };
            if candidates.iter().any(|c| c == partial.as_bytes()) {
                findings.push(format!("{}: a partial signature in clear", key.label));
            }
        }
        if let Some(found) = server_exponent_among(key, &candidates) {
            findings.push(format!(
                "{}: the server's share in clear ({found} bytes)",
                key.label
            ));
        }
    }
    findings.dedup();
    findings
}

fn keys_under_test(vault: &Vault, pins: &[(&str, &str, &str)]) -> Vec<KeyUnderTest> {
    let mut keys = Vec::new();
    for account in &vault.accounts {
        let (_, pin1, pin2) = pins
            .iter()
            .find(|(document, _, _)| *document == account.document_number)
            .unwrap_or_else(|| panic!("no PINs given for {}", account.document_number));
        for (purpose, stored, pin) in [
            ("PIN1", &account.authentication, pin1),
            ("PIN2", &account.signing, pin2),
        ] {
            keys.push(KeyUnderTest {
                label: format!("{} {purpose}", account.document_number),
                share: share(stored),
                pin: Pin::new(pin).unwrap(),
            });
        }
    }
    keys
}

fn share(stored: &StoredShare) -> DeviceShare {
    stored.to_share().expect("the vault's share reads")
}

/// Every string in the JSON that is base64 of at least 32 bytes.
fn collect_byte_strings(value: &Value, out: &mut Vec<Vec<u8>>) {
    match value {
        Value::String(text) => {
            if let Ok(bytes) = BASE64.decode(text)
                && bytes.len() >= 32
            {
                out.push(bytes);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_byte_strings(v, out)),
        Value::Object(fields) => fields.values().for_each(|v| collect_byte_strings(v, out)),
        _ => {}
    }
}

/// What the phone signed, as the recording shows it: the transactions it was sent and the
/// proofs of possession its registration asked for.
fn sign_requests(bodies: &[Value], half: splitkey::HalfSize) -> Vec<SignRequest> {
    let mut requests = Vec::new();
    for body in bodies {
        visit_objects(body, &mut |object| {
            if let Some(request) = transaction_request(object, half) {
                requests.push(request);
            }
            if let Some(challenge) = object.get("challenge").and_then(Value::as_str) {
                for purpose in ["authentication", "signing"] {
                    let modulus = object[purpose]["modulus"].as_str();
                    if let Some(request) = modulus.and_then(|m| possession_request(m, challenge))
                        && request.half_size().ok() == Some(half)
                    {
                        requests.push(request);
                    }
                }
            }
        });
    }
    requests
}

fn visit_objects(value: &Value, visit: &mut impl FnMut(&serde_json::Map<String, Value>)) {
    match value {
        Value::Object(fields) => {
            visit(fields);
            fields.values().for_each(|v| visit_objects(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| visit_objects(v, visit)),
        _ => {}
    }
}

fn transaction_request(
    object: &serde_json::Map<String, Value>,
    half: splitkey::HalfSize,
) -> Option<SignRequest> {
    object.get("transactionId")?;
    let hash = BASE64.decode(object.get("hash")?.as_str()?).ok()?;
    let algorithm = match object.get("hashType")?.as_str()? {
        "SHA256" => HashAlgorithm::Sha256,
        "SHA384" => HashAlgorithm::Sha384,
        _ => HashAlgorithm::Sha512,
    };
    let padding = match object.get("padding").and_then(Value::as_str) {
        Some("pss") => Padding::Pss,
        _ => Padding::Pkcs1v15,
    };
    match object.get("encodedMessage").and_then(Value::as_str) {
        Some(encoded) => {
            let encoded = BASE64.decode(encoded).ok()?;
            SignRequest::from_parts(half, algorithm, padding, &hash, &encoded).ok()
        }
        None => SignRequest::new(half, algorithm, padding, &hash).ok(),
    }
}

fn possession_request(modulus: &str, challenge: &str) -> Option<SignRequest> {
    let key = CompositePublicKey::from_modulus(&BASE64.decode(modulus).ok()?).ok()?;
    proof_of_possession_request(&key, &BASE64.decode(challenge).ok()?).ok()
}

/// Whether a candidate completes the key's partial signature of a message of the attacker's
/// choosing: (s1' · μ^X)^e ≡ μ (mod n1) holds only for X = d1ˢ (with the right PIN).
fn server_exponent_among(key: &KeyUnderTest, candidates: &[Vec<u8>]) -> Option<usize> {
    let digest = HashAlgorithm::Sha256.digest(b"the attacker's own message");
    let request = SignRequest::new(
        key.share.half_size(),
        HashAlgorithm::Sha256,
        Padding::Pkcs1v15,
        &digest,
    )
    .ok()?;
    let partial = key.share.partial_sign(&key.pin, &request).ok()?;
    let n1 = BigUint::from_bytes_be(key.share.modulus());
    let mu = BigUint::from_bytes_be(request.encoded()) % &n1;
    let s1_partial = BigUint::from_bytes_be(partial.as_bytes());
    let e = BigUint::from(splitkey::PUBLIC_EXPONENT);
    candidates.iter().find_map(|candidate| {
        let x = BigUint::from_bytes_be(candidate);
        let s1 = (&s1_partial * mu.modpow(&x, &n1)) % &n1;
        (s1.modpow(&e, &n1) == mu).then_some(candidate.len())
    })
}
