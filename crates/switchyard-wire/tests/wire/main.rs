//! switchyard-wire's integration tests: translation through the public API only, against
//! recorded provider transcripts (`tests/fixtures/`), golden files and botocore's service
//! model. All of them live in this one test binary, so cargo links it once; a new area is a
//! module here, not a new file under `tests/` (each of those is another binary to link).
//!
//! Run one area with a name filter: `cargo test -p switchyard-wire --test wire gemini_stream::`.

// Test code: a failed assertion with the data that broke it is the point.
#![allow(clippy::unwrap_used, clippy::panic)]

mod botocore;
mod common;

mod anthropic;
mod bedrock;
mod bedrock_cache;
mod gemini_paths;
mod gemini_request;
mod gemini_response;
mod gemini_stream;
mod golden;
mod openai_passthrough;
