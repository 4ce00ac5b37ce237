//! Model management: the bundles installed under `<data dir>/models/`, which one is
//! active (the `models/active` file), installing from a folder, an archive, a URL or a
//! variant name, verifying, activating and removing. Installs are atomic and downloads
//! resume. Running a bundle is `crate::model`'s job; re-embedding photos after the
//! embedding space changes is the catalog's, which [`Activation::space_changed`] signals.

mod archive;
mod download;
mod error;
mod index;
mod install;
mod store;
mod verify;

pub use error::{ModelsError, UnsafeEntryKind};
pub use index::IndexEntry;
pub use install::{install, InstallEvent, InstallOptions, InstallSource, Installed, KNOWN_VARIANTS, MODEL_INDEX_ENV};
pub use store::{
    activate, active_name, bundle_name, list, remove, validate_name, Activation, InstalledBundle, Removal, ACTIVE_FILE,
    VERIFIED_MARKER,
};
pub use verify::{verify, verify_folder, Verification};
