//! Tools: a `get_weather` call, whole and streamed, and the round trip's second leg (the call
//! and its result sent back), in each provider's own tool format.

use serde_json::{json, Value};
use switchyard_e2e::matrix;
use switchyard_e2e::providers::{Client, Kind, Wire};

use crate::common::bin;

/// The tool offer reaches the upstream in its format in all three requests, the replayed call
/// and result carry the upstream's call id, and each client gets its exact streamed events.
pub async fn tools(kind: Kind) {
    for (client, [call, streamed, result], a) in matrix::tools(bin(), kind).await {
        for r in [&call, &streamed, &result] {
            assert_offered(kind, client, &r.json());
        }
        assert_replayed(kind, &result.json());
        assert_eq!(a.events, streamed_events(kind, client), "{client:?}");
    }
}

/// `get_weather`'s parameters, as both clients send them.
fn city_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]})
}

/// The tool and the automatic choice in the upstream's format.
fn assert_offered(kind: Kind, client: Client, b: &Value) {
    match kind.wire() {
        Wire::OpenAi => {
            let tool = json!({"type": "function", "function": {"name": "get_weather", "description": "Current weather", "parameters": city_schema()}});
            assert_eq!(b["tools"], json!([tool]));
            assert_eq!(b["tool_choice"], "auto");
        }
        Wire::Anthropic => {
            let tool = json!({"name": "get_weather", "description": "Current weather", "input_schema": city_schema()});
            assert_eq!(b["tools"], json!([tool]));
            // OpenAI's "auto" is Anthropic's default, so it is left out.
            let choice = (client == Client::Anthropic).then(|| json!({"type": "auto"}));
            assert_eq!(b.get("tool_choice").cloned(), choice);
        }
        Wire::Gemini => {
            let decl = json!([{"functionDeclarations": [{"name": "get_weather", "description": "Current weather",
                "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "description": "City name"}}, "required": ["city"]}}]}]);
            assert_eq!(b["tools"], decl);
            assert_eq!(
                b["toolConfig"],
                json!({"functionCallingConfig": {"mode": "AUTO"}})
            );
        }
    }
}

/// The second leg's turns: the call the upstream made, under the id it gave, and its result.
fn assert_replayed(kind: Kind, b: &Value) {
    match kind.wire() {
        // The call id the upstream made is what both clients send back.
        Wire::OpenAi => {
            let id = "call_abc123";
            assert_eq!(
                b["messages"],
                json!([
                    {"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                    {"role": "tool", "tool_call_id": id, "content": "18°C and sunny"}
                ])
            );
        }
        Wire::Anthropic => {
            let turns = &b["messages"];
            assert_eq!(
                turns[1],
                json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"city": "Paris"}}]})
            );
            assert_eq!(
                turns[2],
                json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "18°C and sunny"}]})
            );
        }
        // Gemini has no call ids: the gateway made one up, the client sent it back, and the
        // result is paired by name. A replayed call carries Google's documented skip signature.
        Wire::Gemini => {
            let contents = &b["contents"];
            assert_eq!(
                contents[1],
                json!({"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "skip_thought_signature_validator"}]})
            );
            assert_eq!(
                contents[2],
                json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "18°C and sunny"}}}]})
            );
        }
    }
}

/// The events of the streamed call. Gemini sends the arguments whole, the others in two
/// pieces; an OpenAI upstream's first chunk (role and call) passes through as one.
fn streamed_events(kind: Kind, client: Client) -> Vec<String> {
    let args: &[&str] = match kind.wire() {
        Wire::Gemini => &[r#"{"city":"Paris"}"#],
        Wire::OpenAi | Wire::Anthropic => &[r#"{"city":"#, r#""Paris"}"#],
    };
    let (head, delta, tail): (&[&str], &str, &[&str]) = match (client, kind.wire()) {
        (Client::OpenAi, Wire::OpenAi) => (
            &["role+tool:get_weather"],
            "args:",
            &["finish:tool_calls", "[DONE]"],
        ),
        (Client::OpenAi, _) => (
            &["role+text:", "tool:get_weather"],
            "args:",
            &["finish:tool_calls", "[DONE]"],
        ),
        (Client::Anthropic, _) => (
            &["message_start", "content_block_start:tool_use"],
            "content_block_delta:input_json_delta:",
            &[
                "content_block_stop",
                "message_delta:tool_use",
                "message_stop",
            ],
        ),
    };
    let mut events: Vec<String> = head.iter().map(|e| e.to_string()).collect();
    events.extend(args.iter().map(|a| format!("{delta}{a}")));
    events.extend(tail.iter().map(|e| e.to_string()));
    events
}
