//! rhetor's end-to-end tests: the real `rhetor` binary, a temp directory per test, in one test
//! binary (ripgrep's layout). Tests on PTC-shaped data use the project's own fixture articles
//! (`tests/fixtures/ptc`) and always run; those on the real corpus, the base encoder weights or
//! Chromium skip with a message when these are missing, and fail under `CI=true`
//! (`rhetor_testkit::require`).

mod util;

mod annotate;
mod batch;
mod cli;
mod encoder;
mod fixture_labels;
mod garbage;
mod quality;
mod watch;
