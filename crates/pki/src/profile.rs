//! The end-user certificate profile: what a request must contain and what goes into the
//! certificate for each purpose and level (Smart-ID's profile as in docs/spec/rp-api.md §4, which
//! follows ETSI EN 319 412-2/-5 and EN 319 411-1/-2).

use der::asn1::ObjectIdentifier as Oid;
use rcgen::string::PrintableString;
use rcgen::{
    CertificateParams, CrlDistributionPoint, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
};
use time::{Date, Month, OffsetDateTime, UtcOffset};

use crate::config::{PDS_LANGUAGE, PublicationUrls};
use crate::error::{PkiError, Result};
use crate::keys::{RsaSubjectKey, SerialNumber};
use crate::{ext, oids};

/// What the certified key may be used for. One key, one purpose: a SplitID account has one
/// authentication and one signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Authentication (keyUsage digitalSignature, extendedKeyUsage clientAuth).
    Authentication,
    /// Electronic signatures (keyUsage nonRepudiation alone).
    Signing,
}

/// The assurance level, as Smart-ID's `certificateLevel` (QUALIFIED / ADVANCED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Qualified: NCP+ for authentication, QCP-n-qscd with qcStatements for signing.
    Qualified,
    /// Advanced (non-qualified): NCP for either purpose.
    Advanced,
}

/// Everything the CA needs to issue one end-user certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// Given name(s) as on the identity document, e.g. `MARY ÄNN`.
    pub given_name: String,
    /// Surname, e.g. `O'CONNEŽ-ŠUSLIK TESTNUMBER`.
    pub surname: String,
    /// ETSI natural-person semantics identifier, e.g. `PNOEE-30303039914`.
    pub semantics_identifier: String,
    /// ISO 3166 country of the identity, e.g. `EE`; must match the semantics identifier.
    pub country: String,
    /// Smart-ID document number, e.g. `PNOEE-30303039914-ABCD-Q`; starts with the semantics identifier.
    pub document_number: String,
    /// Big-endian modulus n of the composite RSA key (e = 65537); 4096 or 6144 bits.
    pub rsa_modulus: Vec<u8>,
    /// Authentication or signing.
    pub purpose: Purpose,
    /// Qualified or advanced.
    pub level: Level,
    /// Start of validity (truncated to whole seconds); the certificate is valid exactly
    /// three years from it.
    pub not_before: OffsetDateTime,
    /// A serial chosen by the caller; `None` for a random one (the usual case).
    pub serial: Option<SerialNumber>,
}

/// End-user certificates are valid for three years.
pub const END_USER_VALIDITY_YEARS: i32 = 3;

/// The certificate policies for a purpose and level (docs/spec/rp-api.md §4): our own policy at that
/// level plus the ETSI policy the relying-party libraries check for.
pub fn policies_for(purpose: Purpose, level: Level) -> [Oid; 2] {
    match (level, purpose) {
        (Level::Qualified, Purpose::Authentication) => {
            [oids::SPLITID_POLICY_QUALIFIED, oids::POLICY_NCP_PLUS]
        }
        (Level::Qualified, Purpose::Signing) => {
            [oids::SPLITID_POLICY_QUALIFIED, oids::POLICY_QCP_N_QSCD]
        }
        (Level::Advanced, _) => [oids::SPLITID_POLICY_ADVANCED, oids::POLICY_NCP],
    }
}

/// Only qualified signing certificates are EU qualified certificates, so only they carry
/// qcStatements (EN 319 412-5); authentication certificates are not QCs even at the
/// qualified level.
fn carries_qc_statements(purpose: Purpose, level: Level) -> bool {
    (purpose, level) == (Purpose::Signing, Level::Qualified)
}

/// keyUsage per EN 319 412-2 §4.3.2: nonRepudiation *alone* for signing, so that no
/// authentication protocol can ever make the signing key sign a challenge.
fn key_usages(purpose: Purpose) -> Vec<KeyUsagePurpose> {
    match purpose {
        Purpose::Authentication => vec![KeyUsagePurpose::DigitalSignature],
        Purpose::Signing => vec![KeyUsagePurpose::ContentCommitment],
    }
}

fn extended_key_usages(purpose: Purpose) -> Vec<ExtendedKeyUsagePurpose> {
    match purpose {
        Purpose::Authentication => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Purpose::Signing => Vec::new(),
    }
}

impl CertificateRequest {
    /// Checks every field against what a conforming certificate can carry.
    pub fn validate(&self) -> Result<()> {
        check_person_name(&self.given_name, "given_name")?;
        check_person_name(&self.surname, "surname")?;
        if self.common_name().chars().count() > 64 {
            return Err(request_error(
                "surname",
                "SURNAME,GIVENNAME is longer than the 64 characters RFC 5280 allows in commonName",
            ));
        }
        if !is_country_code(&self.country) {
            return Err(request_error(
                "country",
                "must be two upper-case letters (ISO 3166)",
            ));
        }
        self.check_semantics_identifier()?;
        self.check_document_number()
    }

    /// Smart-ID's commonName: `SURNAME,GIVENNAME` (no personal code: RPs read serialNumber).
    fn common_name(&self) -> String {
        format!("{},{}", self.surname, self.given_name)
    }

    /// `PNO`/`IDC`/`PAS` + country + `-` + identifier (EN 319 412-1 §5.1.3), PrintableString
    /// characters only because X.520 types serialNumber as PrintableString.
    fn check_semantics_identifier(&self) -> Result<()> {
        let id = &self.semantics_identifier;
        let field = "semantics_identifier";
        if id.len() > 64 || !id.chars().all(is_printable_string_char) {
            return Err(request_error(
                field,
                "must be at most 64 PrintableString characters",
            ));
        }
        let well_formed = ["PNO", "IDC", "PAS"].iter().any(|t| id.starts_with(t))
            && id.get(3..5).is_some_and(is_country_code)
            && id.get(5..6) == Some("-")
            && id.len() > 6;
        if !well_formed {
            return Err(request_error(
                field,
                "must look like PNOEE-30303039914 (type, country, '-', identifier)",
            ));
        }
        if id.get(3..5) != Some(self.country.as_str()) {
            return Err(request_error(
                field,
                "its country differs from the country field",
            ));
        }
        Ok(())
    }

    fn check_document_number(&self) -> Result<()> {
        let doc = &self.document_number;
        let field = "document_number";
        if doc.len() > 64 || !doc.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(request_error(
                field,
                "must be at most 64 visible ASCII characters",
            ));
        }
        let suffix = doc
            .strip_prefix(self.semantics_identifier.as_str())
            .and_then(|rest| rest.strip_prefix('-'));
        if suffix.is_none_or(str::is_empty) {
            return Err(request_error(
                field,
                "must be the semantics identifier followed by '-' and the account code",
            ));
        }
        Ok(())
    }

    /// Subject per EN 319 412-2 §4.2.4, in Smart-ID's order: C, CN, SN, GN, serialNumber.
    /// countryName and serialNumber are PrintableString as X.520 requires; names are UTF8String.
    fn subject(&self) -> Result<DistinguishedName> {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable(&self.country)?);
        dn.push(DnType::CommonName, DnValue::Utf8String(self.common_name()));
        dn.push(
            custom_dn_type(&oids::SURNAME),
            DnValue::Utf8String(self.surname.clone()),
        );
        dn.push(
            custom_dn_type(&oids::GIVEN_NAME),
            DnValue::Utf8String(self.given_name.clone()),
        );
        dn.push(
            custom_dn_type(&oids::SERIAL_NUMBER),
            printable(&self.semantics_identifier)?,
        );
        Ok(dn)
    }
}

/// The rcgen parameters of an end-user certificate; the caller signs them with the issuing CA.
pub(crate) fn end_user_params(
    request: &CertificateRequest,
    subject_key: &RsaSubjectKey,
    serial: &SerialNumber,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    urls: &PublicationUrls,
) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.serial_number = Some(serial.to_rcgen());
    params.not_before = not_before;
    params.not_after = not_after;
    params.distinguished_name = request.subject()?;
    params.is_ca = IsCa::NoCa;
    params.key_usages = key_usages(request.purpose);
    params.extended_key_usages = extended_key_usages(request.purpose);
    params.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![urls.issuing_ca_crl.clone()],
    }];
    params.use_authority_key_identifier_extension = true;
    params.custom_extensions = vec![
        ext::subject_alt_name_document_number(&request.document_number)?,
        ext::subject_key_identifier(&params.key_identifier(subject_key))?,
        ext::authority_info_access(&urls.issuing_ca_certificate, Some(&urls.ocsp))?,
        ext::certificate_policies(&policies_for(request.purpose, request.level))?,
    ];
    if carries_qc_statements(request.purpose, request.level) {
        params
            .custom_extensions
            .push(ext::qc_statements_qualified_esign(&urls.pds, PDS_LANGUAGE)?);
    }
    Ok(params)
}

/// Validity of an end-user certificate: from `not_before` (UTC, whole seconds, because
/// certificates encode no fractions) to the same instant three years later.
pub(crate) fn end_user_validity(
    not_before: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime)> {
    let not_before = whole_seconds_utc(not_before)?;
    Ok((not_before, add_years(not_before, END_USER_VALIDITY_YEARS)?))
}

/// `t` in UTC without its fraction of a second; an error (not time's panic) at the ends of
/// the representable range.
pub(crate) fn whole_seconds_utc(t: OffsetDateTime) -> Result<OffsetDateTime> {
    t.checked_to_offset(UtcOffset::UTC)
        .and_then(|t| t.replace_nanosecond(0).ok())
        .ok_or(PkiError::Validity("date outside the representable range"))
}

/// The same calendar instant `years` later; 29 February becomes 28 February in a common year,
/// so the period never exceeds the nominal length.
pub(crate) fn add_years(t: OffsetDateTime, years: i32) -> Result<OffsetDateTime> {
    let out_of_range = || PkiError::Validity("date outside the representable range");
    let year = t.year().checked_add(years).ok_or_else(out_of_range)?;
    let date = t
        .date()
        .replace_year(year)
        .or_else(|_| Date::from_calendar_date(year, Month::February, 28))
        .map_err(|_| out_of_range())?;
    Ok(t.replace_date(date))
}

/// Personal names go in as UTF8String; commas are refused because CN joins the names with one.
fn check_person_name(name: &str, field: &'static str) -> Result<()> {
    if name.trim().is_empty() || name.trim() != name {
        return Err(request_error(
            field,
            "must be non-empty without leading or trailing spaces",
        ));
    }
    if name.chars().any(|c| c.is_control() || c == ',') {
        return Err(request_error(
            field,
            "must not contain control characters or commas",
        ));
    }
    Ok(())
}

fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// X.680 PrintableString: A-Z a-z 0-9 space ' ( ) + , - . / : = ?
fn is_printable_string_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c)
}

fn printable(s: &str) -> Result<DnValue> {
    let value = PrintableString::try_from(s)
        .map_err(|_| PkiError::Backend("PrintableString check disagreed with rcgen".into()))?;
    Ok(DnValue::PrintableString(value))
}

fn custom_dn_type(oid: &Oid) -> DnType {
    DnType::CustomDnType(oids::rcgen_arcs(oid))
}

fn request_error(field: &'static str, problem: &'static str) -> PkiError {
    PkiError::Request { field, problem }
}

/// An X.509 time as a date (whole seconds).
pub(crate) fn to_offset_date_time(t: x509_cert::time::Time) -> Result<OffsetDateTime> {
    let seconds = i64::try_from(t.to_unix_duration().as_secs())
        .map_err(|_| PkiError::Validity("date out of range"))?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| PkiError::Validity("date out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn request() -> CertificateRequest {
        CertificateRequest {
            given_name: "MARY ÄNN".into(),
            surname: "O'CONNEŽ-ŠUSLIK TESTNUMBER".into(),
            semantics_identifier: "PNOEE-30303039914".into(),
            country: "EE".into(),
            document_number: "PNOEE-30303039914-ABCD-Q".into(),
            rsa_modulus: Vec::new(),
            purpose: Purpose::Signing,
            level: Level::Qualified,
            not_before: datetime!(2026-01-01 0:00 UTC),
            serial: None,
        }
    }

    #[test]
    fn a_well_formed_request_passes() {
        assert_eq!(request().validate(), Ok(()));
    }

    #[test]
    fn malformed_fields_are_refused_with_the_field_named() {
        type Mutation = fn(&mut CertificateRequest);
        let cases: [(&str, Mutation); 9] = [
            ("given_name", |r| r.given_name = String::new()),
            ("given_name", |r| r.given_name = " MARY".into()),
            ("surname", |r| r.surname = "A,B".into()),
            ("surname", |r| r.surname = "X".repeat(60)),
            ("country", |r| r.country = "ee".into()),
            ("semantics_identifier", |r| {
                r.semantics_identifier = "XYZEE-1".into()
            }),
            ("semantics_identifier", |r| {
                r.semantics_identifier = "PNOLV-1".into()
            }),
            ("document_number", |r| {
                r.document_number = "PNOEE-30303039914".into()
            }),
            ("document_number", |r| {
                r.document_number = "PNOEE-1-ABCD-Q".into()
            }),
        ];
        for (field, mutate) in cases {
            let mut r = request();
            mutate(&mut r);
            match r.validate() {
                Err(PkiError::Request { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn validity_is_three_calendar_years_in_whole_seconds() {
        let (nb, na) = end_user_validity(datetime!(2026-03-04 05:06:07.89 +02:00)).unwrap();
        assert_eq!(nb, datetime!(2026-03-04 03:06:07 UTC));
        assert_eq!(na, datetime!(2029-03-04 03:06:07 UTC));
        let (_, na) = end_user_validity(datetime!(2028-02-29 12:00 UTC)).unwrap();
        assert_eq!(na, datetime!(2031-02-28 12:00 UTC));
    }

    #[test]
    fn dates_at_the_ends_of_the_range_are_errors_not_panics() {
        for t in [
            datetime!(-9999-01-01 00:00:00.5 +01:00),
            datetime!(9998-06-01 0:00 UTC),
            datetime!(9999-12-31 23:59:59 -01:00),
        ] {
            assert!(
                matches!(end_user_validity(t), Err(PkiError::Validity(_))),
                "{t}"
            );
        }
    }

    #[test]
    fn policies_follow_rp_api_section_4() {
        assert_eq!(
            policies_for(Purpose::Authentication, Level::Qualified)[1],
            oids::POLICY_NCP_PLUS
        );
        assert_eq!(
            policies_for(Purpose::Signing, Level::Qualified)[1],
            oids::POLICY_QCP_N_QSCD
        );
        assert_eq!(
            policies_for(Purpose::Signing, Level::Advanced)[1],
            oids::POLICY_NCP
        );
        assert!(carries_qc_statements(Purpose::Signing, Level::Qualified));
        assert!(!carries_qc_statements(
            Purpose::Authentication,
            Level::Qualified
        ));
        assert!(!carries_qc_statements(Purpose::Signing, Level::Advanced));
    }
}
