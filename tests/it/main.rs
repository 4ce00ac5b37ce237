//! Integration tests of the library and the CLI, in one test binary.

mod bench;
mod bundle;
mod catalog;
mod doctor;
mod embed;
mod imaging;
mod keywords;
mod library;
mod model_memory;
mod models;
mod reference;
mod regions;
mod scenes;
mod search;
mod server;
mod support;
mod toy_quality;
mod vectors;
