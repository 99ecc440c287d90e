//! Who a certificate names: the subject's semantics identifier, names and country, the date
//! of birth where the national identity code encodes one, and what the key may be used for.
//!
//! Read leniently enough for both SplitID's and SK's Smart-ID certificates (same ETSI
//! profile); trust comes from [`crate::validate`], not from here.

use der::asn1::{Any, ObjectIdentifier as Oid};
use der::{Decode, Tag, Tagged};
use time::{Date, Month};
use x509_cert::Certificate;
use x509_cert::ext::pkix::KeyUsage;
use x509_cert::name::Name;

use crate::error::{RpError, RpResult};

const COUNTRY_NAME: Oid = Oid::new_unwrap("2.5.4.6");
const SURNAME: Oid = Oid::new_unwrap("2.5.4.4");
const GIVEN_NAME: Oid = Oid::new_unwrap("2.5.4.42");
const SERIAL_NUMBER: Oid = Oid::new_unwrap("2.5.4.5");
const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");

/// The person a validated certificate names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// ETSI semantics identifier, e.g. `PNOEE-30303039914`.
    pub semantics_identifier: String,
    /// The national identity code (the part after `PNOxx-`), e.g. `30303039914`.
    pub identity_code: String,
    pub given_name: String,
    pub surname: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// From the identity code, where it encodes one (Estonia, Lithuania, Latvia's old codes).
    pub date_of_birth: Option<Date>,
}

/// What a certificate's key may do (keyUsage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    /// digitalSignature: an authentication certificate.
    Authentication,
    /// nonRepudiation: a signing certificate.
    Signing,
}

fn invalid(what: impl Into<String>) -> RpError {
    RpError::InvalidResponse(format!("certificate: {}", what.into()))
}

pub(crate) fn parse_certificate(der: &[u8]) -> RpResult<Certificate> {
    Certificate::from_der(der).map_err(|e| invalid(format!("not DER X.509: {e}")))
}

/// The subject's identity.
pub(crate) fn identity_of(cert: &Certificate) -> RpResult<Identity> {
    let subject = &cert.tbs_certificate.subject;
    let semantics_identifier = attribute(subject, SERIAL_NUMBER, "serialNumber")?;
    let identity_code = semantics_identifier
        .split_once('-')
        .map(|(_, code)| code.to_owned())
        .ok_or_else(|| invalid("serialNumber is not a semantics identifier (PNOxx-…)"))?;
    let country = attribute(subject, COUNTRY_NAME, "countryName")?;
    Ok(Identity {
        date_of_birth: date_of_birth(&country, &identity_code),
        semantics_identifier,
        identity_code,
        given_name: attribute(subject, GIVEN_NAME, "givenName")?,
        surname: attribute(subject, SURNAME, "surname")?,
        country,
    })
}

/// Whether the key is for authentication or for signing, from keyUsage.
pub(crate) fn key_role(cert: &Certificate) -> RpResult<KeyRole> {
    let extension = cert
        .tbs_certificate
        .extensions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|e| e.extn_id == KEY_USAGE)
        .ok_or_else(|| invalid("no keyUsage"))?;
    let usage = KeyUsage::from_der(extension.extn_value.as_bytes())
        .map_err(|_| invalid("malformed keyUsage"))?;
    if usage.non_repudiation() {
        Ok(KeyRole::Signing)
    } else if usage.digital_signature() {
        Ok(KeyRole::Authentication)
    } else {
        Err(invalid(
            "keyUsage allows neither authentication nor signing",
        ))
    }
}

fn attribute(name: &Name, oid: Oid, label: &str) -> RpResult<String> {
    let mut values = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == oid);
    let (Some(first), None) = (values.next(), values.next()) else {
        return Err(invalid(format!("subject must have exactly one {label}")));
    };
    directory_string(&first.value)
        .ok_or_else(|| invalid(format!("{label} is not a directory string")))
}

fn directory_string(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString => String::from_utf8(value.value().to_vec()).ok(),
        _ => None,
    }
}

/// The date of birth an identity code encodes:
/// - Estonia and Lithuania, `GYYMMDDSSSC`: G gives the century (1–2: 1800s, 3–4: 1900s,
///   5–6: 2000s);
/// - Latvia's old codes, `DDMMYY-CNNNN`: C gives the century (0: 1800s, 1: 1900s, 2: 2000s);
///   codes since 2017 start with 32 and encode nothing.
pub fn date_of_birth(country: &str, code: &str) -> Option<Date> {
    let digits: Vec<u32> = code
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_digit(10))
        .collect::<Option<_>>()?;
    let two = |i: usize| digits[i] * 10 + digits[i + 1];
    match country {
        "EE" | "LT" if digits.len() == 11 => {
            let century = match digits[0] {
                1 | 2 => 1800,
                3 | 4 => 1900,
                5 | 6 => 2000,
                _ => return None,
            };
            make_date(century + two(1), two(3), two(5))
        }
        "LV" if digits.len() == 11 && code.as_bytes().get(6) == Some(&b'-') => {
            if two(0) == 32 {
                return None;
            }
            let century = match digits[6] {
                0 => 1800,
                1 => 1900,
                2 => 2000,
                _ => return None,
            };
            make_date(century + two(4), two(2), two(0))
        }
        _ => None,
    }
}

fn make_date(year: u32, month: u32, day: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_of_birth_come_from_estonian_lithuanian_and_old_latvian_codes() {
        assert_eq!(
            date_of_birth("EE", "30303039914"),
            Some(date!(1903 - 03 - 03))
        );
        assert_eq!(
            date_of_birth("EE", "40504040001"),
            Some(date!(1905 - 04 - 04))
        );
        assert_eq!(
            date_of_birth("LT", "50001029996"),
            Some(date!(2000 - 01 - 02))
        );
        assert_eq!(
            date_of_birth("EE", "19912319999"),
            Some(date!(1899 - 12 - 31))
        );
        assert_eq!(
            date_of_birth("LV", "050405-10009"),
            Some(date!(1905 - 04 - 05))
        );
        assert_eq!(
            date_of_birth("LV", "311299-20001"),
            Some(date!(2099 - 12 - 31))
        );
    }

    #[test]
    fn codes_that_encode_no_date_give_none() {
        assert_eq!(
            date_of_birth("LV", "320000-10003"),
            None,
            "new Latvian code"
        );
        assert_eq!(
            date_of_birth("EE", "70303039914"),
            None,
            "unknown century digit"
        );
        assert_eq!(date_of_birth("EE", "30313039914"), None, "month 13");
        assert_eq!(date_of_birth("EE", "30302309914"), None, "30 February");
        assert_eq!(date_of_birth("EE", "3030303991"), None, "too short");
        assert_eq!(
            date_of_birth("BE", "04040400287"),
            None,
            "Belgium: not derived"
        );
        assert_eq!(date_of_birth("EE", "3030303991X"), None, "not digits");
    }
}
