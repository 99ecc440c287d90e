//! Identifiers of people and accounts.
//!
//! * A [`SemanticsIdentifier`] names a natural person (ETSI EN 319 412-1):
//!   `<TYPE><CC>-<identifier>`, TYPE one of `PNO` (national number), `IDC` (ID-card number),
//!   `PAS` (passport number), CC an ISO 3166-1 alpha-2 code. Latvian codes contain a hyphen
//!   themselves (`PNOLV-030303-10012`).
//! * A [`DocumentNumber`] names one account (one device registration) of a person:
//!   `<semantics identifier>-<4 characters>-<Q|NQ>`, e.g. `PNOEE-30303039914-MOCK-Q`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Longest identifier part accepted (national numbers and passport numbers are far shorter).
const MAX_IDENTIFIER_LEN: usize = 32;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct IdentifierError(&'static str);

/// The identity type in a semantics identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityType {
    /// `PNO`: personal (national) identity number.
    NationalNumber,
    /// `IDC`: national identity card number.
    IdentityCard,
    /// `PAS`: passport number.
    Passport,
}

impl IdentityType {
    fn code(self) -> &'static str {
        match self {
            Self::NationalNumber => "PNO",
            Self::IdentityCard => "IDC",
            Self::Passport => "PAS",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        match code {
            "PNO" => Some(Self::NationalNumber),
            "IDC" => Some(Self::IdentityCard),
            "PAS" => Some(Self::Passport),
            _ => None,
        }
    }
}

/// An ETSI natural-person semantics identifier such as `PNOEE-30303039914`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SemanticsIdentifier {
    kind: IdentityType,
    country: [u8; 2],
    identifier: String,
}

impl SemanticsIdentifier {
    pub fn kind(&self) -> IdentityType {
        self.kind
    }

    /// The ISO 3166-1 alpha-2 country code, upper case.
    pub fn country(&self) -> &str {
        std::str::from_utf8(&self.country).expect("ASCII letters")
    }

    /// The part after the first hyphen (the national number, card or passport number).
    pub fn identifier(&self) -> &str {
        &self.identifier
    }
}

impl FromStr for SemanticsIdentifier {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const SHAPE: &str = "a semantics identifier looks like PNOEE-30303039914: PNO, IDC or PAS, \
                             a two-letter country code, a hyphen, then the identifier";
        let (prefix, identifier) = s.split_once('-').ok_or(IdentifierError(SHAPE))?;
        if prefix.len() != 5 || !prefix.is_ascii() {
            return Err(IdentifierError(SHAPE));
        }
        let kind = IdentityType::from_code(&prefix[..3]).ok_or(IdentifierError(SHAPE))?;
        let country: [u8; 2] = prefix.as_bytes()[3..].try_into().expect("two bytes");
        if !country.iter().all(u8::is_ascii_uppercase) {
            return Err(IdentifierError(SHAPE));
        }
        check_identifier_part(identifier)?;
        Ok(SemanticsIdentifier {
            kind,
            country,
            identifier: identifier.to_owned(),
        })
    }
}

fn check_identifier_part(identifier: &str) -> Result<(), IdentifierError> {
    let valid_chars = identifier
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
    if identifier.is_empty()
        || identifier.len() > MAX_IDENTIFIER_LEN
        || !valid_chars
        || identifier.starts_with('-')
        || identifier.ends_with('-')
    {
        return Err(IdentifierError(
            "the identifier part has 1 to 32 upper-case letters, digits and inner hyphens",
        ));
    }
    Ok(())
}

impl fmt::Display for SemanticsIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}-{}",
            self.kind.code(),
            self.country(),
            self.identifier
        )
    }
}

/// The certificate level in a document number's last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountLevel {
    /// `Q`: qualified.
    Qualified,
    /// `NQ`: non-qualified (advanced).
    NonQualified,
}

impl AccountLevel {
    fn suffix(self) -> &'static str {
        match self {
            Self::Qualified => "Q",
            Self::NonQualified => "NQ",
        }
    }
}

/// A document number: one account of one person, e.g. `PNOEE-30303039914-MOCK-Q`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber {
    person: SemanticsIdentifier,
    account_code: String,
    level: AccountLevel,
}

impl DocumentNumber {
    /// A document number from its parts; `account_code` is 4 upper-case letters or digits.
    pub fn new(
        person: SemanticsIdentifier,
        account_code: &str,
        level: AccountLevel,
    ) -> Result<Self, IdentifierError> {
        check_account_code(account_code)?;
        Ok(DocumentNumber {
            person,
            account_code: account_code.to_owned(),
            level,
        })
    }

    /// The person the account belongs to.
    pub fn person(&self) -> &SemanticsIdentifier {
        &self.person
    }

    pub fn account_code(&self) -> &str {
        &self.account_code
    }

    pub fn level(&self) -> AccountLevel {
        self.level
    }
}

fn check_account_code(code: &str) -> Result<(), IdentifierError> {
    if code.len() == 4
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(IdentifierError(
            "the account code in a document number is 4 upper-case letters or digits",
        ))
    }
}

impl FromStr for DocumentNumber {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const SHAPE: &str = "a document number looks like PNOEE-30303039914-ABCD-Q";
        let (rest, level) = s.rsplit_once('-').ok_or(IdentifierError(SHAPE))?;
        let level = match level {
            "Q" => AccountLevel::Qualified,
            "NQ" => AccountLevel::NonQualified,
            _ => return Err(IdentifierError(SHAPE)),
        };
        let (person, account_code) = rest.rsplit_once('-').ok_or(IdentifierError(SHAPE))?;
        DocumentNumber::new(person.parse()?, account_code, level)
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}",
            self.person,
            self.account_code,
            self.level.suffix()
        )
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_serde!(SemanticsIdentifier);
string_serde!(DocumentNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_semantics_identifiers() {
        for text in [
            "PNOEE-30303039914",
            "IDCCZ-1234567890",
            "PASKZ-987654321012",
            "PNOLV-030303-10012",
        ] {
            let id: SemanticsIdentifier = text.parse().unwrap();
            assert_eq!(id.to_string(), text);
        }
        let lv: SemanticsIdentifier = "PNOLV-030303-10012".parse().unwrap();
        assert_eq!(lv.country(), "LV");
        assert_eq!(lv.identifier(), "030303-10012");
        assert_eq!(lv.kind(), IdentityType::NationalNumber);
    }

    #[test]
    fn refuses_malformed_semantics_identifiers() {
        for text in [
            "",
            "PNOEE",
            "PNOEE-",
            "XYZEE-123",
            "PNOee-123",
            "PNOE-123",
            "PNOEEE-123",
            "PNOEE-12 34",
            "PNOEE--123",
            "PNOEE-123-",
            "PNOEE-1234567890123456789012345678901234",
            "PNOÄE-123",
            "pnoee-123",
        ] {
            assert!(text.parse::<SemanticsIdentifier>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn parses_and_prints_document_numbers() {
        for text in [
            "PNOEE-30303039914-MOCK-Q",
            "PNOEE-30001010004-K2GN-NQ",
            "PNOLV-050405-10009-DEM0-Q",
        ] {
            let doc: DocumentNumber = text.parse().unwrap();
            assert_eq!(doc.to_string(), text);
        }
        let lv: DocumentNumber = "PNOLV-050405-10009-DEM0-Q".parse().unwrap();
        assert_eq!(lv.person().to_string(), "PNOLV-050405-10009");
        assert_eq!(lv.account_code(), "DEM0");
        assert_eq!(lv.level(), AccountLevel::Qualified);
        for bad in [
            "PNOEE-30303039914",
            "PNOEE-30303039914-MOCK",
            "PNOEE-30303039914-MOC-Q",
            "PNOEE-30303039914-MOCK-X",
            "MOCK-Q",
        ] {
            assert!(bad.parse::<DocumentNumber>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serde_uses_the_text_form() {
        let doc: DocumentNumber = serde_json::from_str("\"PNOEE-30303039914-MOCK-Q\"").unwrap();
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            "\"PNOEE-30303039914-MOCK-Q\""
        );
        assert!(serde_json::from_str::<DocumentNumber>("\"nonsense\"").is_err());
    }
}
