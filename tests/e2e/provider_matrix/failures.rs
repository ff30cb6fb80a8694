//! Provider errors: in each provider's real error shape, before the first byte (reaching the
//! client, or failed over to the spare) and as an error event mid-stream.

use switchyard_e2e::matrix;
use switchyard_e2e::providers::{text_events, Client, Kind, Wire};

use crate::common::bin;

/// 400 and 401 reach the client in its error shape; 429, 500 and "overloaded" fail over to the
/// spare (all asserted in [`matrix::errors`]).
pub async fn errors(kind: Kind) {
    matrix::errors(bin(), kind).await;
}

/// A provider error event after the first text: each client gets the text, then one error
/// event of the type the provider's error maps to.
pub async fn stream_error(kind: Kind) {
    for (client, a) in matrix::stream_error(bin(), kind).await {
        let want: &[&str] = match (client, kind.wire()) {
            (Client::OpenAi, Wire::OpenAi) => &["role+text:", "text:Hel", "error:server_error"],
            (Client::OpenAi, _) => &["role+text:", "text:Hel", "error:overloaded_error"],
            (Client::Anthropic, Wire::OpenAi) => &[
                "message_start",
                "content_block_start:text",
                "content_block_delta:text_delta:Hel",
                "error:api_error",
            ],
            // Same dialect: Anthropic's ping passes through.
            (Client::Anthropic, Wire::Anthropic) => &[
                "message_start",
                "content_block_start:text",
                "ping",
                "content_block_delta:text_delta:Hel",
                "error:overloaded_error",
            ],
            (Client::Anthropic, Wire::Gemini) => &[
                "message_start",
                "content_block_start:text",
                "content_block_delta:text_delta:Hel",
                "error:overloaded_error",
            ],
        };
        assert_eq!(a.events, want, "{client:?}");
    }
}

/// The provider fails a stream request before any byte and the OpenAI spare answers: each
/// client gets the spare's stream in its own format, as if the first attempt had not been.
pub async fn stream_failover(kind: Kind) {
    for (client, a) in matrix::stream_failover(bin(), kind).await {
        assert_eq!(a.events, text_events(client, &["Sp", "are"]), "{client:?}");
    }
}
