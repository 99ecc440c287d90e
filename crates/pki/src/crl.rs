//! Certificate revocation lists (RFC 5280 §5): the issuing CA's CRL of end-user certificates
//! and the root CA's (empty) CRL, to which the issuing CA certificate's CRL DP points.
//!
//! rcgen writes them: version 2, AKI (the issuer's own subjectKeyIdentifier, read from its
//! certificate), CRL number, thisUpdate/nextUpdate, and per entry the revocation date and
//! reasonCode. The caller keeps the CRL number and the list of revocations (this crate has
//! no storage) and must never hand in a smaller number than it handed in before.

use rcgen::{CertificateRevocationListParams, Issuer, KeyIdMethod, RevokedCertParams};
use time::OffsetDateTime;

use crate::error::{PkiError, Result};
use crate::keys::{CaKey, SerialNumber};
use crate::profile::whole_seconds_utc;

/// The RFC 5280 §5.3.1 CRLReason values a CA may state (`unspecified` is expressed by
/// leaving the reason out, `removeFromCRL` only exists in delta CRLs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// No reason given (no reasonCode extension is written).
    Unspecified,
    /// The subject's key is (suspected to be) compromised, e.g. a cloned app.
    KeyCompromise,
    /// The subject's affiliation changed.
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// No longer needed, e.g. the person deleted the account.
    CessationOfOperation,
    /// The CA withdrew the privilege, e.g. a PIN locked for good.
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every reason, for parsing.
    pub const ALL: [RevocationReason; 6] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::PrivilegeWithdrawn,
    ];

    /// The ASN.1 name RFC 5280 gives the value (what openssl prints in words).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
        }
    }

    /// The reason with this RFC 5280 name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    pub(crate) fn to_rcgen(self) -> Option<rcgen::RevocationReason> {
        use rcgen::RevocationReason as R;
        match self {
            Self::Unspecified => None,
            Self::KeyCompromise => Some(R::KeyCompromise),
            Self::AffiliationChanged => Some(R::AffiliationChanged),
            Self::Superseded => Some(R::Superseded),
            Self::CessationOfOperation => Some(R::CessationOfOperation),
            Self::PrivilegeWithdrawn => Some(R::PrivilegeWithdrawn),
        }
    }

    pub(crate) fn to_x509(self) -> Option<x509_cert::ext::pkix::CrlReason> {
        use x509_cert::ext::pkix::CrlReason as R;
        match self {
            Self::Unspecified => None,
            Self::KeyCompromise => Some(R::KeyCompromise),
            Self::AffiliationChanged => Some(R::AffiliationChanged),
            Self::Superseded => Some(R::Superseded),
            Self::CessationOfOperation => Some(R::CessationOfOperation),
            Self::PrivilegeWithdrawn => Some(R::PrivilegeWithdrawn),
        }
    }
}

/// One revoked certificate, as the caller recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedCertificate {
    /// The certificate's serial number.
    pub serial: SerialNumber,
    /// When the CA processed the revocation.
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

/// What a CRL says besides its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlTerms {
    /// The CRL number: strictly greater than that of any CRL the same CA issued before.
    pub number: u64,
    /// Issue date.
    pub this_update: OffsetDateTime,
    /// When the next CRL will be issued at the latest (after `this_update`).
    pub next_update: OffsetDateTime,
}

/// Signs a CRL with `issuer` (whose parameters carry the name and the key identifier as in
/// its certificate, so the CRL's issuer and AKI match the certificate byte for byte).
pub(crate) fn sign_crl(
    issuer: &Issuer<'_, CaKey>,
    issuer_key_id: &[u8],
    terms: CrlTerms,
    revoked: &[RevokedCertificate],
) -> Result<Vec<u8>> {
    let this_update = whole_seconds_utc(terms.this_update)?;
    let next_update = whole_seconds_utc(terms.next_update)?;
    if next_update <= this_update {
        return Err(PkiError::Validity("nextUpdate must be after thisUpdate"));
    }
    let params = CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: rcgen::SerialNumber::from_slice(&terms.number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|entry| {
                Ok(RevokedCertParams {
                    serial_number: entry.serial.to_rcgen(),
                    revocation_time: whole_seconds_utc(entry.revoked_at)?,
                    reason_code: entry.reason.to_rcgen(),
                    invalidity_date: None,
                })
            })
            .collect::<Result<_>>()?,
        key_identifier_method: KeyIdMethod::PreSpecified(issuer_key_id.to_vec()),
    };
    Ok(params.signed_by(issuer)?.der().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_round_trip() {
        for reason in RevocationReason::ALL {
            assert_eq!(RevocationReason::from_name(reason.name()), Some(reason));
        }
        assert_eq!(RevocationReason::from_name("KeyCompromise"), None);
        assert_eq!(RevocationReason::from_name(""), None);
    }
}
