//! Search: text and image queries against the library, fused per photo from whole-photo,
//! region and keyword matches, with filters.

pub mod fusion;
