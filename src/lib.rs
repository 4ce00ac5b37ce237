//! Xunying finds photos by what is in them. This library owns everything that is not
//! user interface: the FG-CLIP 2 model on ONNX Runtime, decoding, the catalog, the
//! vector and keyword indexes, ingest and search. The CLI, the HTTP server and the
//! desktop shell are thin layers over it.

#![warn(missing_docs)]

pub mod api;
pub mod bench;
pub mod catalog;
pub mod config;
pub mod doctor;
pub mod imaging;
pub mod keywords;
pub mod library;
pub mod model;
pub mod models;
pub mod regions;
pub mod search;
pub mod server;
pub mod vectors;
