//! The provider matrix through the real binary, for OpenAI-SDK and Anthropic-SDK clients: each
//! feature scenario of [`switchyard_e2e::matrix`] is a table with a row (a test) per provider
//! type. The scenario checks what each client got and the usage records; the functions in this
//! module's files check what differs by provider: the exact upstream request, as each
//! provider's API reference gives it, and the exact events each client got.
//!
//! - `openai`, `openai_compatible`, `azure` speak OpenAI chat completions: same-dialect requests
//!   pass through with only `model` (and `stream_options.include_usage`) rewritten, Anthropic
//!   requests arrive translated. Azure is reached at the deployment URL with `api-version` and
//!   `api-key` (never `Authorization`); an OpenAI-compatible server keeps its base path and
//!   gets the older `max_tokens`.
//! - `anthropic`: the Messages API, `POST /v1/messages`, `x-api-key`, `anthropic-version`, a
//!   required `max_tokens`, `system` apart from `messages`, `tool_use`/`tool_result` blocks.
//! - `gemini`: `/v1beta/models/M:generateContent` (`:streamGenerateContent?alt=sse`),
//!   `x-goog-api-key`, camelCase `contents`/`systemInstruction`/`generationConfig`, no model
//!   or stream flag in the body.
//!
//! Bedrock and Vertex have mocks of their own (request signing, token grants): see
//! `providers_bedrock` and `providers_vertex`.

mod answers;
mod failures;
mod output;
mod tool_use;

use answers::{stream, text};
use failures::{errors, stream_error, stream_failover};
use output::{images, json_mode, json_schema, stop_and_max_tokens};
use switchyard_e2e::providers::Kind;
use tool_use::tools;

rows!(text, stream, tools, errors => {
    openai: (Kind::OpenAi),
    openai_compatible: (Kind::Compatible),
    azure: (Kind::Azure),
    anthropic: (Kind::Anthropic),
    gemini: (Kind::Gemini),
});

rows!(json_schema, json_mode, images, stop_and_max_tokens, stream_error, stream_failover => {
    openai: (Kind::OpenAi),
    azure: (Kind::Azure),
    anthropic: (Kind::Anthropic),
    gemini: (Kind::Gemini),
});
