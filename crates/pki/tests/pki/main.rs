//! The CA library's tests: certificates, CRLs and OCSP answers, checked with openssl and standard parsers.

mod ca;
mod common;
mod revocation;
