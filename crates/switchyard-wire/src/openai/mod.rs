//! OpenAI chat-completions specifics that the passthrough paths need without building a full
//! JSON tree: usage extraction and cheap detection of the few chunks worth parsing.

pub(crate) mod scan;
pub(crate) mod stream;
pub(crate) mod usage;
