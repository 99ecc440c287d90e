//! SplitID's test kit: the vocabulary every end-to-end test speaks, in one place.
//!
//! - [`node`]: the real `splitid serve --demo` on a free port ([`Server`]), several of them on
//!   one PostgreSQL database ([`Cluster`]), the admin tool on a node's data.
//! - [`phone`]: the real `splitid app` on a home directory of its own ([`Phone`]).
//! - [`relying_party`]: an HTTP client speaking the RP API v2 ([`RelyingParty`]) and the request
//!   bodies a relying party sends.
//! - [`in_process`]: the service as a library on a temporary data directory, one request
//!   through its router, and an account registered as the app registers one.
//! - [`database`]: which database the tests run on (`SPLITID_TEST_DATABASE`) and throw-away
//!   PostgreSQL databases.
//! - [`push`]: a push-service stand-in, and the browser's side of Web Push in Python.
//! - [`proxy`]: a recording proxy between the app and the server, which can also lose answers.
//! - [`pin_test`]: the offline PIN test a stolen phone plus a recording would give, as a check.
//! - [`output`]: what a command printed, and `openssl`, the independent verifier.
//!
//! The tests `use splitid_testkit::*;`, so everything is also at the crate's root.

pub mod database;
pub mod in_process;
pub mod node;
pub mod output;
pub mod phone;
pub mod pin_test;
pub mod proxy;
pub mod push;
pub mod relying_party;

pub use database::*;
pub use node::*;
pub use output::*;
pub use phone::*;
pub use pin_test::pin_tests;
pub use proxy::{Exchange, Fault, RecordingProxy};
pub use relying_party::*;
