//! Switchyard's YAML config: raw serde types, validation into a checked [`Config`], and the
//! compiled-in model catalog. Parses from `&str`; reading and watching files is the server's job.

mod model;
pub use model::*;
