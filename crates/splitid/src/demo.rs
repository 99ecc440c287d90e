//! The split-key demonstration: every step of a key's life, in one process, with timings.

use std::time::Instant;

use anyhow::{Context, bail};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use clap::Args;
use splitkey::{
    DeviceKeyOptions, Error, HalfSize, HashAlgorithm, KdfParams, Padding, Pin, ServerShare,
    SignRequest, generate_device_key, prove_possession, verify_proof_of_possession,
};

#[derive(Args)]
pub struct DemoArgs {
    /// The PIN chosen for the demonstration key (4 to 12 digits).
    #[arg(long, default_value = "1234")]
    pin: String,
    /// A wrong PIN to show that the server catches it.
    #[arg(long, default_value = "9999")]
    wrong_pin: String,
    /// Bits of each party's modulus (3072, or 2048 for older-style keys).
    #[arg(long, default_value_t = 3072)]
    half_bits: usize,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let half = HalfSize::from_bits(args.half_bits)?;
    let pin = Pin::new(&args.pin).context("--pin")?;
    let wrong_pin = Pin::new(&args.wrong_pin).context("--wrong-pin")?;
    if args.pin == args.wrong_pin {
        bail!("--wrong-pin must differ from --pin");
    }

    println!(
        "SplitID split-key demonstration ({}-bit halves, {}-bit composite key)\n",
        half.bits(),
        half.composite_bits()
    );

    let started = Instant::now();
    let options = DeviceKeyOptions {
        half,
        kdf: KdfParams::RECOMMENDED,
        ..Default::default()
    };
    let (device, handover) =
        generate_device_key(&pin, b"splitid demo: authentication key", options)?;
    println!(
        "1. Device: generated n1 ({} bits), split d1, sealed its share under the PIN with Argon2id \
         (no checksum: every PIN opens it to something)  [{:.0?}]",
        half.bits(),
        started.elapsed()
    );

    let started = Instant::now();
    let server = ServerShare::establish(&handover)?;
    drop(handover);
    let public_key = server.public_key();
    println!(
        "2. Server: screened n1, generated n2, formed n = n1·n2 ({} bits)  [{:.0?}]",
        public_key.modulus().len() * 8,
        started.elapsed()
    );

    let started = Instant::now();
    let challenge = b"registration challenge from the CA";
    let proof = prove_possession(&device, &pin, &server, challenge)?;
    verify_proof_of_possession(&public_key, challenge, &proof)?;
    println!(
        "3. Proof of possession: the two parties signed the CA's challenge; it verifies  [{:.0?}]",
        started.elapsed()
    );

    let message = b"Transfer 10.00 EUR to Demo Bank, reference 42";
    let digest = HashAlgorithm::Sha256.digest(message);
    let request = SignRequest::new(half, HashAlgorithm::Sha256, Padding::Pkcs1v15, &digest)?;

    let started = Instant::now();
    let partial = device.partial_sign(&pin, &request)?;
    let device_time = started.elapsed();
    let started = Instant::now();
    let signature = server.complete(&request, &partial)?;
    println!(
        "4. Signing \"{}\": device partial signature [{device_time:.0?}, mostly Argon2id], \
         server completion [{:.0?}]",
        String::from_utf8_lossy(message),
        started.elapsed()
    );

    let standard_key = RsaPublicKeyComponents {
        n: public_key.modulus(),
        e: &[0x01, 0x00, 0x01][..],
    };
    standard_key
        .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature.as_bytes())
        .map_err(|_| anyhow::anyhow!("the standard verifier rejected the signature"))?;
    println!(
        "5. A standard RSA verifier (aws-lc-rs, sha256WithRSAEncryption) accepts the signature"
    );

    let wrong_partial = device.partial_sign(&wrong_pin, &request)?;
    match server.complete(&request, &wrong_partial) {
        Err(Error::WrongPin) => println!(
            "6. With a wrong PIN the device still computes *a* partial signature (it cannot tell), \
             but the server's check catches it: wrong PIN"
        ),
        other => bail!("a wrong PIN was not caught: {other:?}"),
    }
    println!("\nDone. The PIN was never stored; the two shares were never combined.");
    Ok(())
}
