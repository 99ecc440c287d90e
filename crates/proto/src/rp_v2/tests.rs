use serde_json::json;

use super::*;

const UUID: &str = "00000000-0000-4000-8000-000000000000";

fn sha512_hash_b64() -> String {
    BASE64.encode([7u8; 64])
}

fn valid_signing_json() -> Value {
    json!({
        "relyingPartyUUID": UUID,
        "relyingPartyName": "DEMO",
        "hash": sha512_hash_b64(),
        "hashType": "SHA512",
        "allowedInteractionsOrder": [
            {"type": "confirmationMessage", "displayText200": "Pay 10 EUR to Demo Bank?"},
            {"type": "displayTextAndPIN", "displayText60": "Pay 10 EUR"}
        ],
        "unknownTopLevelField": 1
    })
}

fn parse(value: Value, purpose: SigningPurpose) -> Result<SigningRequest, RequestError> {
    serde_json::from_value::<SigningBody>(value)
        .unwrap()
        .validate(purpose)
}

fn error_with(mut value: Value, pointer: &str, replacement: Value) -> RequestError {
    *value.pointer_mut(pointer).unwrap() = replacement;
    parse(value, SigningPurpose::Signature).unwrap_err()
}

fn error_without(mut value: Value, field: &str) -> RequestError {
    value.as_object_mut().unwrap().remove(field);
    parse(value, SigningPurpose::Signature).unwrap_err()
}

#[test]
fn a_documented_request_validates_with_defaults() {
    let request = parse(valid_signing_json(), SigningPurpose::Signature).unwrap();
    assert_eq!(request.relying_party.name, "DEMO");
    assert_eq!(request.relying_party.uuid.to_string(), UUID);
    assert_eq!(request.hash, vec![7u8; 64]);
    assert_eq!(request.hash_type, HashType::Sha512);
    assert_eq!(
        request.options.certificate_level,
        CertificateLevel::Qualified
    );
    assert_eq!(request.interactions.len(), 2);
    assert_eq!(request.interactions[0].api_name(), "confirmationMessage");
    assert_eq!(request.interactions[1].text(), "Pay 10 EUR");
    assert!(!request.options.share_device_ip_address);
    assert!(request.options.ignored_properties.is_empty());
}

#[test]
fn missing_mandatory_fields_are_named() {
    for field in [
        "relyingPartyUUID",
        "relyingPartyName",
        "hash",
        "hashType",
        "allowedInteractionsOrder",
    ] {
        let error = error_without(valid_signing_json(), field);
        assert_eq!(error.field, field);
        assert_eq!(error.problem, "is required");
    }
}

#[test]
fn hash_must_be_base64_of_the_right_length() {
    let error = error_with(valid_signing_json(), "/hash", json!("not base64!"));
    assert_eq!(error.to_string(), "hash: must be standard base64");
    let short = BASE64.encode([1u8; 32]);
    let error = error_with(valid_signing_json(), "/hash", json!(short));
    assert_eq!(
        error.to_string(),
        "hash: must be the base64 of 64 bytes for SHA512 (got 32 bytes)"
    );
    for (hash_type, len) in [("SHA256", 32), ("SHA384", 48), ("SHA512", 64)] {
        let mut value = valid_signing_json();
        value["hashType"] = json!(hash_type);
        value["hash"] = json!(BASE64.encode(vec![0u8; len]));
        assert!(
            parse(value, SigningPurpose::Authentication).is_ok(),
            "{hash_type}"
        );
    }
    let error = error_with(valid_signing_json(), "/hashType", json!("MD5"));
    assert_eq!(error.field, "hashType");
}

#[test]
fn relying_party_identity_is_checked() {
    let error = error_with(
        valid_signing_json(),
        "/relyingPartyUUID",
        json!("not-a-uuid"),
    );
    assert_eq!(error.field, "relyingPartyUUID");
    let error = error_with(
        valid_signing_json(),
        "/relyingPartyUUID",
        json!("00000000000040008000000000000000"),
    );
    assert_eq!(error.field, "relyingPartyUUID", "only the hyphenated form");
    let error = error_with(valid_signing_json(), "/relyingPartyName", json!(""));
    assert_eq!(error.to_string(), "relyingPartyName: must not be empty");
    let error = error_with(
        valid_signing_json(),
        "/relyingPartyName",
        json!("Ä".repeat(17)),
    );
    assert_eq!(
        error.to_string(),
        "relyingPartyName: must be at most 32 bytes of UTF-8"
    );
}

#[test]
fn certificate_levels_depend_on_the_purpose() {
    let mut value = valid_signing_json();
    value["certificateLevel"] = json!("QSCD");
    assert!(parse(value.clone(), SigningPurpose::Signature).is_ok());
    let error = parse(value.clone(), SigningPurpose::Authentication).unwrap_err();
    assert_eq!(
        error.to_string(),
        "certificateLevel: must be one of ADVANCED, QUALIFIED"
    );
    value["certificateLevel"] = json!("qualified");
    assert!(
        parse(value, SigningPurpose::Signature).is_err(),
        "names are case-sensitive"
    );
}

#[test]
fn interactions_are_validated_one_by_one() {
    let cases = [
        (
            json!([]),
            "allowedInteractionsOrder",
            "must list at least one interaction",
        ),
        (
            json!([{"displayText60": "x"}]),
            "allowedInteractionsOrder[0].type",
            "is required",
        ),
        (
            json!([{"type": "pinOnly", "displayText60": "x"}]),
            "allowedInteractionsOrder[0].type",
            "must be one of displayTextAndPIN, verificationCodeChoice, confirmationMessage, confirmationMessageAndVerificationCodeChoice",
        ),
        (
            json!([{"type": "displayTextAndPIN"}]),
            "allowedInteractionsOrder[0].displayText60",
            "is required for displayTextAndPIN",
        ),
        (
            json!([{"type": "confirmationMessage", "displayText60": "x", "displayText200": "y"}]),
            "allowedInteractionsOrder[0].displayText60",
            "does not belong to confirmationMessage (use displayText200)",
        ),
        (
            json!([{"type": "displayTextAndPIN", "displayText60": "x".repeat(61)}]),
            "allowedInteractionsOrder[0].displayText60",
            "must be 1 to 60 characters (got 61)",
        ),
        (
            json!([{"type": "confirmationMessage", "displayText200": "x".repeat(201)}]),
            "allowedInteractionsOrder[0].displayText200",
            "must be 1 to 200 characters (got 201)",
        ),
        (
            json!([{"type": "verificationCodeChoice", "displayText60": ""}]),
            "allowedInteractionsOrder[0].displayText60",
            "must be 1 to 60 characters (got 0)",
        ),
        (
            json!([{"type": "displayTextAndPIN", "displayText60": "a"}, {"type": "displayTextAndPIN", "displayText60": "b"}]),
            "allowedInteractionsOrder[1].type",
            "displayTextAndPIN is listed twice",
        ),
    ];
    for (list, field, problem) in cases {
        let error = error_with(
            valid_signing_json(),
            "/allowedInteractionsOrder",
            list.clone(),
        );
        assert_eq!(
            (error.field.as_str(), error.problem.as_str()),
            (field, problem),
            "{list}"
        );
    }
    // Limits count characters, not bytes.
    let sixty_umlauts = "Ä".repeat(60);
    let mut value = valid_signing_json();
    value["allowedInteractionsOrder"] =
        json!([{"type": "displayTextAndPIN", "displayText60": sixty_umlauts}]);
    assert!(parse(value, SigningPurpose::Signature).is_ok());
}

#[test]
fn every_interaction_type_round_trips() {
    for kind in InteractionType::ALL {
        let interaction = kind.with_text("text".to_owned());
        let body = InteractionBody::from(&interaction);
        assert_eq!(validate_interaction(&body, "x").unwrap(), interaction);
        assert_eq!(InteractionType::from_api_name(kind.api_name()), Some(kind));
    }
}

#[test]
fn request_properties_and_nonce() {
    let mut value = valid_signing_json();
    value["requestProperties"] =
        json!({"shareMdClientIpAddress": true, "futureFlag": 1, "other": "x"});
    value["nonce"] = json!("abc");
    let request = parse(value.clone(), SigningPurpose::Signature).unwrap();
    assert!(request.options.share_device_ip_address);
    assert_eq!(
        request.options.ignored_properties,
        vec!["futureFlag".to_owned(), "other".to_owned()]
    );
    assert_eq!(request.options.nonce.as_deref(), Some("abc"));

    value["requestProperties"] = json!({"shareMdClientIpAddress": "yes"});
    let error = parse(value.clone(), SigningPurpose::Signature).unwrap_err();
    assert_eq!(
        error.to_string(),
        "requestProperties.shareMdClientIpAddress: must be true or false"
    );

    value["requestProperties"] = json!({});
    value["nonce"] = json!("n".repeat(31));
    assert_eq!(
        parse(value.clone(), SigningPurpose::Signature)
            .unwrap_err()
            .field,
        "nonce"
    );
    value["nonce"] = json!("");
    assert_eq!(
        parse(value, SigningPurpose::Signature).unwrap_err().field,
        "nonce"
    );
}

#[test]
fn wrong_json_types_fail_to_deserialise() {
    for bad in [
        json!({"hash": 5}),
        json!({"allowedInteractionsOrder": "displayTextAndPIN"}),
        json!({"requestProperties": []}),
        json!({"capabilities": [1, 2]}),
        json!("body"),
    ] {
        assert!(
            serde_json::from_value::<SigningBody>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn certificate_choice_accepts_every_level() {
    let body: CertificateChoiceBody = serde_json::from_value(json!({
        "relyingPartyUUID": UUID, "relyingPartyName": "DEMO", "certificateLevel": "QSCD"
    }))
    .unwrap();
    let request = body.validate().unwrap();
    assert_eq!(request.options.certificate_level, CertificateLevel::Qscd);
    let mut body = body;
    body.common.relying_party_name = None;
    assert_eq!(body.validate().unwrap_err().field, "relyingPartyName");
}

#[test]
fn session_status_serialises_as_documented() {
    assert_eq!(
        serde_json::to_value(SessionStatus::running()).unwrap(),
        json!({"state": "RUNNING"})
    );
    let complete = SessionStatus {
        state: SessionState::Complete,
        result: Some(SessionResult {
            end_result: EndResult::Ok,
            document_number: Some("PNOEE-30303039914-MOCK-Q".to_owned()),
        }),
        signature: Some(SessionSignature {
            value: "c2ln".to_owned(),
            algorithm: HashType::Sha512.signature_algorithm().to_owned(),
        }),
        cert: Some(SessionCertificate {
            value: "Y2VydA==".to_owned(),
            certificate_level: CertificateLevel::Qualified,
        }),
        interaction_flow_used: Some("displayTextAndPIN".to_owned()),
        ignored_properties: Some(vec![]),
        device_ip_address: None,
    };
    assert_eq!(
        serde_json::to_value(&complete).unwrap(),
        json!({
            "state": "COMPLETE",
            "result": {"endResult": "OK", "documentNumber": "PNOEE-30303039914-MOCK-Q"},
            "signature": {"value": "c2ln", "algorithm": "sha512WithRSAEncryption"},
            "cert": {"value": "Y2VydA==", "certificateLevel": "QUALIFIED"},
            "interactionFlowUsed": "displayTextAndPIN",
            "ignoredProperties": []
        })
    );
}

#[test]
fn end_results_use_the_v2_names() {
    let names: Vec<String> = EndResult::ALL.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        names,
        [
            "OK",
            "USER_REFUSED",
            "TIMEOUT",
            "DOCUMENT_UNUSABLE",
            "WRONG_VC",
            "REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP",
            "USER_REFUSED_CERT_CHOICE",
            "USER_REFUSED_DISPLAYTEXTANDPIN",
            "USER_REFUSED_VC_CHOICE",
            "USER_REFUSED_CONFIRMATIONMESSAGE",
            "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE",
        ]
    );
    assert_eq!(
        InteractionType::ConfirmationMessageAndVerificationCodeChoice.refusal(),
        EndResult::UserRefusedConfirmationmessageWithVcChoice
    );
}
