//! Registering a device: identity proofing and vouching by another device.

pub(crate) mod proofing;
mod vouch_limits;
