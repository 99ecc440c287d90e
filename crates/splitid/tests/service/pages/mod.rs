//! People's pages in a real browser: the portal, the Demo Bank and the installable app.

mod accessibility;
mod browser;
mod limits;
mod proofing;
mod web_app;
mod web_push;
