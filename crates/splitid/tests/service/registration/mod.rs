//! Registering a device: identity proofing and vouching by another device.

mod proofing;
mod vouch_limits;
