//! People's pages in a real browser: the portal and the Demo Bank.

mod browser;
mod limits;
