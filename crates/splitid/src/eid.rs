//! The registrant's existing eID certificate and its key, from PEM files (`register --proof
//! eid-cert`): stands in for an ID card or Mobile-ID, which sign the proofing challenge with
//! their authentication key.

use std::path::Path;

use anyhow::{Context, bail};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use splitid_proto::app_v1::eid_signature_algorithm as alg;

enum Key {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair, &'static str),
}

pub struct Signer {
    chain: Vec<Vec<u8>>,
    key: Key,
}

impl Signer {
    /// The certificate file (the eID certificate first, then intermediates) and its PKCS#8
    /// private key (RSA, ECDSA P-256 or P-384).
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read(cert).with_context(|| format!("cannot read {}", cert.display()))?;
        let chain = CertificateDer::pem_slice_iter(&text)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{} is not a PEM certificate file", cert.display()))?;
        if chain.is_empty() {
            bail!("{} holds no PEM certificate", cert.display());
        }
        let pkcs8 = PrivatePkcs8KeyDer::from_pem_file(key)
            .with_context(|| format!("{} is not a PEM PKCS#8 private key", key.display()))?;
        let der = pkcs8.secret_pkcs8_der();
        let key = if let Ok(rsa) = RsaKeyPair::from_pkcs8(der) {
            Key::Rsa(rsa)
        } else if let Ok(ec) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der)
        {
            Key::Ecdsa(ec, alg::ECDSA_P256_SHA256)
        } else if let Ok(ec) =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, der)
        {
            Key::Ecdsa(ec, alg::ECDSA_P384_SHA384)
        } else {
            bail!("{}: not an RSA, ECDSA P-256 or P-384 key", key.display());
        };
        Ok(Signer { chain, key })
    }

    /// Signs; returns the algorithm's wire name and the base64 signature.
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<(&'static str, String)> {
        let rng = SystemRandom::new();
        match &self.key {
            Key::Rsa(key) => {
                let mut signature = vec![0u8; key.public_modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
                Ok((alg::RSA_PKCS1_SHA256, BASE64.encode(signature)))
            }
            Key::Ecdsa(key, name) => {
                let signature = key
                    .sign(&rng, message)
                    .map_err(|_| anyhow::anyhow!("ECDSA signing failed"))?;
                Ok((name, BASE64.encode(signature.as_ref())))
            }
        }
    }

    pub fn chain_base64(&self) -> Vec<String> {
        self.chain.iter().map(|c| BASE64.encode(c)).collect()
    }
}
