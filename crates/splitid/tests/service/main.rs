//! The service's tests in one binary (each test binary links the whole service): the real
//! `splitid serve` driven over HTTP as relying parties, phones and browsers would, and the service
//! as a library in process where a test must stage what HTTP cannot (races, stored records).
//! The vocabulary is the test kit's (`crates/testkit`).

mod app;
mod operations;
mod pages;
pub(crate) mod registration;
pub(crate) mod rp_api;
mod trust_services;
