//! The canonical stream vocabulary between a decoder (upstream format) and an encoder (client
//! format). It mirrors what an OpenAI chunk can say, so any upstream can feed any client and a
//! new provider needs only a decoder.

use crate::error::UpstreamError;
use crate::Usage;

/// Why generation stopped, in the union of the dialects' terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finish {
    /// Natural end of turn.
    Stop,
    /// A client stop sequence matched.
    StopSequence,
    /// The output cap was reached.
    Length,
    /// The model is waiting for tool results.
    ToolCalls,
    /// The provider refused or filtered the output.
    ContentFilter,
}

impl Finish {
    /// OpenAI `finish_reason`.
    pub(crate) fn openai(self) -> &'static str {
        match self {
            Finish::Stop | Finish::StopSequence => "stop",
            Finish::Length => "length",
            Finish::ToolCalls => "tool_calls",
            Finish::ContentFilter => "content_filter",
        }
    }

    /// From OpenAI's `finish_reason`; unknown values (compatible servers invent some) read as a
    /// natural stop.
    pub(crate) fn from_openai(reason: &str) -> Finish {
        match reason {
            "length" => Finish::Length,
            "tool_calls" | "function_call" => Finish::ToolCalls,
            "content_filter" => Finish::ContentFilter,
            _ => Finish::Stop,
        }
    }

    /// Anthropic `stop_reason`.
    pub(crate) fn anthropic(self) -> &'static str {
        match self {
            Finish::Stop => "end_turn",
            Finish::StopSequence => "stop_sequence",
            Finish::Length => "max_tokens",
            Finish::ToolCalls => "tool_use",
            Finish::ContentFilter => "refusal",
        }
    }

    /// From Anthropic's `stop_reason`. `pause_turn` (a server tool paused) ends this response
    /// like a normal turn; `model_context_window_exceeded` is a length stop.
    pub(crate) fn from_anthropic(reason: &str) -> Finish {
        match reason {
            "stop_sequence" => Finish::StopSequence,
            "max_tokens" | "model_context_window_exceeded" => Finish::Length,
            "tool_use" => Finish::ToolCalls,
            "refusal" => Finish::ContentFilter,
            _ => Finish::Stop,
        }
    }
}

/// One step of a streamed response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Canon<'a> {
    /// The response began; ids and model as the upstream named them.
    Start { id: &'a str, model: &'a str },
    /// Visible output text.
    Text(&'a str),
    /// Reasoning ("thinking") text.
    Reasoning(&'a str),
    /// The signature that ends the current reasoning block (Claude's, via Bedrock): Anthropic
    /// clients must send it back with the block, so it is kept for them; others ignore it.
    ReasoningSignature(&'a str),
    /// A tool call begins; `index` counts tool calls from 0 in this response.
    ToolStart {
        index: u32,
        id: &'a str,
        name: &'a str,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolArgs { index: u32, fragment: &'a str },
    /// Generation stopped.
    Finish(Finish),
    /// Usage so far, in OpenAI's terms (cumulative: the last one wins).
    Usage(Usage),
    /// The upstream's terminal event.
    Done,
    /// The upstream reported an error inside the stream.
    Error(&'a UpstreamError),
}
