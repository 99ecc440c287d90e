//! A relying party's sessions through the RP API v2 and v3: start, poll, results, refusals, bad input.

mod certificate_choice;
mod demo_phone;
mod login_and_signing;
mod malformed_requests;
mod no_suitable_account;
mod openapi;
mod refusals_and_codes;
mod rp_sdk;
mod timeout_and_restart;
pub(crate) mod transaction_bytes;
pub(crate) mod v3_device_link;
pub(crate) mod v3_notification;
