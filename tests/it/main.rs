//! Integration tests of the library and the CLI, in one test binary.

mod bundle;
mod doctor;
mod reference;
mod scenes;
mod toy_quality;
mod support;
