//! Criterion benchmarks of the split-key protocol, with the backend reference it is judged by.
//!
//! For each half size (3072 and 2048 bits), in one run:
//!
//! * `keygen_device_fast_kdf`: [`generate_device_key`] with [`KdfParams::INSECURE_FAST`], i.e.
//!   RSA key generation (repeated until the modulus is "high"), the exponent split and the
//!   self-test; the Argon2id seal is negligible at that setting.
//! * `device_partial_sign_fast_kdf`: [`DeviceShare::partial_sign`] with the cheap KDF, i.e. about
//!   one constant-time exponentiation mod n1 with a (|n1|+128)-bit exponent.
//! * `device_partial_sign_recommended_kdf`: the same with [`KdfParams::RECOMMENDED`] (64 MiB
//!   Argon2id, t = 3): what a phone pays per signature.
//! * `server_completion`: [`ServerShare::complete`] for a PKCS#1 v1.5 / SHA-512 request.
//! * `server_completion_from_stored`: the same after
//!   [`ServerShare::from_stored_with_coefficient`], as the service does for every signature (it
//!   keeps no unsealed share between requests).
//! * `rp_verify_aws_lc_rs`: a relying party verifying the composite signature with aws-lc-rs
//!   (`RsaPublicKeyComponents::verify`, `RSA_PKCS1_2048_8192_SHA512`, hashing included).
//! * `reference_ct_modexp_plus_rsa_private`: THE REFERENCE for `server_completion`: the same
//!   two secret operations done directly with AWS-LC through `aws-lc-sys`, with everything
//!   (Montgomery context, `BN_CTX`, buffers) prepared outside the loop: one
//!   `BN_mod_exp_mont_consttime` with an |n1|-bit modulus and a fixed-width |n1|-bit exponent,
//!   plus one raw RSA private operation (`RSA_sign_raw`, `RSA_NO_PADDING`) of the same size.
//! * `reference_ct_modexp`, `reference_rsa_private_raw`: the two halves of the reference alone.
//! * `reference_aws_lc_rs_sign_pkcs1_sha256`: an ordinary aws-lc-rs RSA signature of the half
//!   size, for orientation.
//!
//! Times are wall-clock by default. With `SPLITKEY_BENCH_CPU_TIME=1` (Linux only) criterion
//! measures the benchmark thread's CPU time instead (`CLOCK_THREAD_CPUTIME_ID`), which stays
//! meaningful when other work shares the machine; see docs/performance.md.

use std::hint::black_box;
use std::ptr::{self, NonNull};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA512, RSA_PKCS1_SHA256, RsaPublicKeyComponents};
use aws_lc_sys as ffi;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, SamplingMode, Throughput};
use splitkey::{
    DeviceKeyOptions, DeviceShare, HalfSize, HashAlgorithm, KdfParams, Padding, PartialSignature,
    Pin, ServerShare, SignRequest, generate_device_key,
};

const MESSAGE: &[u8] = b"SplitID benchmark: log in to example.invalid";
const CONTEXT: &[u8] = b"bench key";

fn label(half: HalfSize) -> &'static str {
    match half {
        HalfSize::Bits2048 => "2048",
        HalfSize::Bits3072 => "3072",
    }
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    getrandom::fill(&mut out).expect("OS random number generator");
    out
}

fn options(half: HalfSize, kdf: KdfParams) -> DeviceKeyOptions {
    DeviceKeyOptions {
        half,
        kdf,
        ..Default::default()
    }
}

/// A registered key pair (device share + server share) and a request, checked end to end.
struct Setup {
    pin: Pin,
    device: DeviceShare,
    server: ServerShare,
    request: SignRequest,
    partial: PartialSignature,
}

fn setup(half: HalfSize, kdf: KdfParams) -> Setup {
    let pin = Pin::new("4821").unwrap();
    let (device, handover) = generate_device_key(&pin, CONTEXT, options(half, kdf)).unwrap();
    let server = ServerShare::establish(&handover).unwrap();
    // The relying party's verifier hashes the message itself, so the request carries
    // SHA-512(message).
    let digest = HashAlgorithm::Sha512.digest(MESSAGE);
    let request =
        SignRequest::new(half, HashAlgorithm::Sha512, Padding::Pkcs1v15, &digest).unwrap();
    let partial = device.partial_sign(&pin, &request).unwrap();
    let signature = server.complete(&request, &partial).unwrap();
    server.public_key().verify(&request, &signature).unwrap();
    Setup {
        pin,
        device,
        server,
        request,
        partial,
    }
}

// ---------------------------------------------------------------------------------------------
// The raw AWS-LC reference. Minimal owned wrappers so that everything is freed.

struct Bn(NonNull<ffi::BIGNUM>);

impl Bn {
    fn from_be_bytes(bytes: &[u8]) -> Self {
        // SAFETY: BN_bin2bn with a null output allocates a new BIGNUM from a valid slice.
        let bn = unsafe { ffi::BN_bin2bn(bytes.as_ptr(), bytes.len(), ptr::null_mut()) };
        Bn(NonNull::new(bn).expect("BN_bin2bn"))
    }

    fn new() -> Self {
        // SAFETY: no preconditions.
        Bn(NonNull::new(unsafe { ffi::BN_new() }).expect("BN_new"))
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::BN_clear_free(self.0.as_ptr()) }
    }
}

struct BnCtx(NonNull<ffi::BN_CTX>);

impl Drop for BnCtx {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::BN_CTX_free(self.0.as_ptr()) }
    }
}

struct MontCtx(NonNull<ffi::BN_MONT_CTX>);

impl Drop for MontCtx {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::BN_MONT_CTX_free(self.0.as_ptr()) }
    }
}

struct Rsa(NonNull<ffi::RSA>);

impl Rsa {
    fn generate(bits: usize) -> Self {
        // SAFETY: no preconditions.
        let rsa = Rsa(NonNull::new(unsafe { ffi::RSA_new() }).expect("RSA_new"));
        let e = Bn::from_be_bytes(&[0x01, 0x00, 0x01]);
        // SAFETY: valid RSA and exponent; a null callback is allowed.
        let ok = unsafe {
            ffi::RSA_generate_key_ex(rsa.0.as_ptr(), bits as i32, e.0.as_ptr(), ptr::null_mut())
        };
        assert_eq!(ok, 1, "RSA_generate_key_ex");
        rsa
    }

    fn modulus_bytes(&self, len: usize) -> Vec<u8> {
        // SAFETY: valid RSA; the returned pointer is borrowed from it.
        let n = unsafe { ffi::RSA_get0_n(self.0.as_ptr()) };
        let mut out = vec![0u8; len];
        // SAFETY: `out` has room for `len` bytes.
        let ok = unsafe { ffi::BN_bn2bin_padded(out.as_mut_ptr(), len, n) };
        assert_eq!(ok, 1, "BN_bn2bin_padded");
        out
    }
}

impl Drop for Rsa {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ffi::RSA_free(self.0.as_ptr()) }
    }
}

/// One constant-time exponentiation with an |n|-bit modulus and a fixed-width |n|-bit secret
/// exponent, with the Montgomery context and scratch space prepared once.
struct CtModexp {
    n: Bn,
    mont: MontCtx,
    ctx: BnCtx,
    base: Bn,
    exponent: Bn,
    result: Bn,
}

impl CtModexp {
    fn new(half: HalfSize) -> Self {
        let key = Rsa::generate(half.bits());
        let n = Bn::from_be_bytes(&key.modulus_bytes(half.bytes()));
        // SAFETY: no preconditions.
        let ctx = BnCtx(NonNull::new(unsafe { ffi::BN_CTX_new() }).expect("BN_CTX_new"));
        // SAFETY: n is an odd, positive RSA modulus.
        let mont = unsafe { ffi::BN_MONT_CTX_new_for_modulus(n.0.as_ptr(), ctx.0.as_ptr()) };
        let mont = MontCtx(NonNull::new(mont).expect("BN_MONT_CTX_new_for_modulus"));
        // A base below n (top byte cleared) and an exponent of exactly |n| bits, stored at full
        // width as the server's share d1ˢ is.
        let mut base = random_bytes(half.bytes());
        base[0] = 0;
        let mut exponent = random_bytes(half.bytes());
        exponent[0] |= 0x80;
        CtModexp {
            n,
            mont,
            ctx,
            base: Bn::from_be_bytes(&base),
            exponent: Bn::from_be_bytes(&exponent),
            result: Bn::new(),
        }
    }

    fn run(&mut self) {
        // SAFETY: valid BIGNUMs; base < n; the Montgomery context belongs to n.
        let ok = unsafe {
            ffi::BN_mod_exp_mont_consttime(
                self.result.0.as_ptr(),
                black_box(self.base.0.as_ptr()),
                self.exponent.0.as_ptr(),
                self.n.0.as_ptr(),
                self.ctx.0.as_ptr(),
                self.mont.0.as_ptr(),
            )
        };
        assert_eq!(ok, 1, "BN_mod_exp_mont_consttime");
    }
}

/// One raw RSA private operation (CRT, blinding, result check) of the half size, as the
/// server's own half is computed.
struct RsaPrivate {
    key: Rsa,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl RsaPrivate {
    fn new(half: HalfSize) -> Self {
        let key = Rsa::generate(half.bits());
        let mut input = random_bytes(half.bytes());
        input[0] = 0;
        RsaPrivate {
            key,
            input,
            output: vec![0u8; half.bytes()],
        }
    }

    fn run(&mut self) {
        let mut out_len = 0usize;
        // SAFETY: valid RSA; `input` is RSA_size bytes and below n; `output` has room.
        let ok = unsafe {
            ffi::RSA_sign_raw(
                self.key.0.as_ptr(),
                &mut out_len,
                self.output.as_mut_ptr(),
                self.output.len(),
                black_box(self.input.as_ptr()),
                self.input.len(),
                ffi::RSA_NO_PADDING,
            )
        };
        assert_eq!(ok, 1, "RSA_sign_raw");
        black_box(&self.output);
    }
}

// ---------------------------------------------------------------------------------------------

/// The slow benchmarks: key generation and the full Argon2id cost on the device.
fn bench_slow<M: Measurement>(c: &mut Criterion<M>, half: HalfSize) {
    let mut group = c.benchmark_group(format!("{}/{}", splitkey::BACKEND, label(half)));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(match half {
            HalfSize::Bits3072 => 40,
            HalfSize::Bits2048 => 15,
        }))
        .throughput(Throughput::Elements(1));

    let pin = Pin::new("4821").unwrap();
    group.bench_function("keygen_device_fast_kdf", |b| {
        b.iter(|| {
            generate_device_key(
                black_box(&pin),
                CONTEXT,
                options(half, KdfParams::INSECURE_FAST),
            )
            .unwrap()
        })
    });

    let recommended = setup(half, KdfParams::RECOMMENDED);
    assert_eq!(recommended.device.kdf(), KdfParams::RECOMMENDED);
    group
        .measurement_time(Duration::from_secs(15))
        .bench_function("device_partial_sign_recommended_kdf", |b| {
            b.iter(|| {
                recommended
                    .device
                    .partial_sign(black_box(&recommended.pin), &recommended.request)
                    .unwrap()
            })
        });
    group.finish();
}

/// Signing, verification and the references.
fn bench_fast<M: Measurement>(c: &mut Criterion<M>, half: HalfSize) {
    let fast = setup(half, KdfParams::INSECURE_FAST);
    let mut modexp = CtModexp::new(half);
    let mut private = RsaPrivate::new(half);
    let key_pair = KeyPair::generate(match half {
        HalfSize::Bits2048 => KeySize::Rsa2048,
        HalfSize::Bits3072 => KeySize::Rsa3072,
    })
    .unwrap();
    let rng = SystemRandom::new();
    let mut reference_signature = vec![0u8; key_pair.public_modulus_len()];

    let signature = fast.server.complete(&fast.request, &fast.partial).unwrap();
    let public_key = fast.server.public_key();
    let exponent = public_key.exponent().to_be_bytes();
    let first_nonzero = exponent.iter().position(|&b| b != 0).unwrap();
    let rp_key = RsaPublicKeyComponents {
        n: public_key.modulus(),
        e: &exponent[first_nonzero..],
    };
    rp_key
        .verify(&RSA_PKCS1_2048_8192_SHA512, MESSAGE, signature.as_bytes())
        .expect("the composite signature verifies with aws-lc-rs");

    let mut group = c.benchmark_group(format!("{}/{}", splitkey::BACKEND, label(half)));
    group
        .sample_size(50)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(1));

    group.bench_function("device_partial_sign_fast_kdf", |b| {
        b.iter(|| {
            fast.device
                .partial_sign(black_box(&fast.pin), &fast.request)
                .unwrap()
        })
    });
    group.bench_function("server_completion", |b| {
        b.iter(|| {
            fast.server
                .complete(&fast.request, black_box(&fast.partial))
                .unwrap()
        })
    });
    // What the service pays per signature: it keeps no unsealed share in memory, so every
    // completion starts from the stored parts (after the AES-GCM unsealing, not included).
    let stored = (
        fast.server.device_modulus(),
        fast.server.server_exponent().unwrap(),
        fast.server.server_key_der().unwrap(),
        fast.server.crt_coefficient().unwrap(),
    );
    group.bench_function("server_completion_from_stored", |b| {
        b.iter(|| {
            ServerShare::from_stored_with_coefficient(
                half, &stored.0, &stored.1, &stored.2, &stored.3,
            )
            .unwrap()
            .complete(&fast.request, black_box(&fast.partial))
            .unwrap()
        })
    });
    group.bench_function("reference_ct_modexp_plus_rsa_private", |b| {
        b.iter(|| {
            modexp.run();
            private.run();
        })
    });
    group.bench_function("reference_ct_modexp", |b| b.iter(|| modexp.run()));
    group.bench_function("reference_rsa_private_raw", |b| b.iter(|| private.run()));
    group.bench_function("reference_aws_lc_rs_sign_pkcs1_sha256", |b| {
        b.iter(|| {
            key_pair
                .sign(
                    &RSA_PKCS1_SHA256,
                    &rng,
                    black_box(MESSAGE),
                    &mut reference_signature,
                )
                .unwrap()
        })
    });
    group.bench_function("rp_verify_aws_lc_rs", |b| {
        b.iter(|| {
            rp_key
                .verify(
                    &RSA_PKCS1_2048_8192_SHA512,
                    black_box(MESSAGE),
                    signature.as_bytes(),
                )
                .unwrap()
        })
    });
    group.finish();
}

fn benches<M: Measurement>(c: &mut Criterion<M>) {
    for half in [HalfSize::Bits3072, HalfSize::Bits2048] {
        bench_fast(c, half);
        bench_slow(c, half);
    }
}

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`), reported like wall
/// time. The benchmarks are single-threaded (AWS-LC and Argon2 with one lane spawn no threads),
/// so this is the work the benchmark did, whatever else runs on the machine.
#[cfg(target_os = "linux")]
struct ThreadCpuTime(WallTime);

#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec (64-bit Linux layout).
    let ok = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(ok, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(target_os = "linux")]
impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time() - start
    }
    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

fn main() {
    let cpu_time = std::env::var_os("SPLITKEY_BENCH_CPU_TIME").is_some_and(|v| v != "0");
    #[cfg(target_os = "linux")]
    if cpu_time {
        let mut c = Criterion::default()
            .with_measurement(ThreadCpuTime(WallTime))
            .configure_from_args();
        benches(&mut c);
        c.final_summary();
        return;
    }
    if cpu_time {
        eprintln!("SPLITKEY_BENCH_CPU_TIME is only supported on Linux; measuring wall time");
    }
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
