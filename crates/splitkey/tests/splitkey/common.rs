//! Shared fixtures: one key pair per size, generated once per test binary.

#![allow(dead_code)]

use std::sync::OnceLock;

use splitkey::{
    DeviceKeyOptions, DeviceShare, HalfSize, KdfParams, Pin, ServerShare, generate_device_key,
};

pub const PIN: &str = "2580";

pub struct Fixture {
    pub device: DeviceShare,
    pub server: ServerShare,
}

/// A key with the cheap KDF setting, for tests that open the share many times.
pub fn fast_key(half: HalfSize) -> &'static Fixture {
    static KEYS_2048: OnceLock<Fixture> = OnceLock::new();
    static KEYS_3072: OnceLock<Fixture> = OnceLock::new();
    let cell = match half {
        HalfSize::Bits2048 => &KEYS_2048,
        HalfSize::Bits3072 => &KEYS_3072,
    };
    cell.get_or_init(|| make_key(half, KdfParams::INSECURE_FAST, PIN))
}

pub fn make_key(half: HalfSize, kdf: KdfParams, pin: &str) -> Fixture {
    let options = DeviceKeyOptions {
        half,
        kdf,
        ..Default::default()
    };
    let (device, handover) =
        generate_device_key(&pin_of(pin), b"test key", options).expect("device key generation");
    let server = ServerShare::establish(&handover).expect("server accepts the device key");
    Fixture { device, server }
}

pub fn pin_of(digits: &str) -> Pin {
    Pin::new(digits).expect("valid test PIN")
}
