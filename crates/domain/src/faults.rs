//! Crash points for the tests that prove a crash at the worst moment loses nothing and
//! leaves nothing half done. Compiled in only with the `test-support` feature (never in a
//! production build): the process aborts at the point named by `SPLITID_TEST_CRASH_AT`.

/// Aborts the process here if the tests asked for a crash at the point `point` names.
#[cfg(feature = "test-support")]
pub fn crash_point(point: impl FnOnce() -> String) {
    let Ok(asked) = std::env::var("SPLITID_TEST_CRASH_AT") else {
        return;
    };
    let point = point();
    if asked == point {
        eprintln!("crash point {point}: aborting as the test asked");
        std::process::abort();
    }
}

#[cfg(not(feature = "test-support"))]
#[inline(always)]
pub fn crash_point(_point: impl FnOnce() -> String) {}
