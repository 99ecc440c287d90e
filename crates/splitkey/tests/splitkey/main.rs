//! The split-key scheme's tests in one binary: properties, a standard RSA verifier, malformed input, proofs of possession.

mod common;
mod cross_backend;
mod malformed_input;
mod proof_of_possession;
mod properties;
mod standard_verifier;
