//! What the translations into native conversation APIs (Gemini's `contents`, Bedrock
//! Converse's `messages`) share when they read an OpenAI `messages` list: a message's `role`
//! and a tool message's `tool_call_id`, refused with the same errors, and turns appended with
//! consecutive same-role turns merged (both APIs want turns to alternate, and parallel tool
//! results must share one turn).

use serde_json::{json, Value};

use crate::TranslateError;

fn invalid(param: String, message: String) -> TranslateError {
    TranslateError::InvalidRequest {
        param: Some(param),
        message,
    }
}

/// The `role` of the message at `at` (`messages[3]`).
pub(crate) fn role<'a>(msg: &'a Value, at: &str) -> Result<&'a str, TranslateError> {
    msg.get("role")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{at}.role"), format!("{at} has no `role`")))
}

/// The `tool_call_id` of the tool message at `at`.
pub(crate) fn tool_call_id<'a>(msg: &'a Value, at: &str) -> Result<&'a str, TranslateError> {
    msg.get("tool_call_id")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid(
                format!("{at}.tool_call_id"),
                format!("{at} is a tool message without `tool_call_id`"),
            )
        })
}

/// The error for a message whose role `target` (`gemini`, `bedrock`) has no turn for.
pub(crate) fn unknown_role(at: &str, role: &str, target: &str) -> TranslateError {
    invalid(
        format!("{at}.role"),
        format!("{at} has role {role:?}, which {target} can't take"),
    )
}

/// Refuses a conversation left without a turn (no messages, or only system ones).
pub(crate) fn not_empty(turns: &[Value]) -> Result<(), TranslateError> {
    if turns.is_empty() {
        return Err(invalid(
            "messages".to_owned(),
            "`messages` needs at least one user or assistant message".to_owned(),
        ));
    }
    Ok(())
}

/// The function name and the arguments (a JSON object, `{}` for none) of the tool call at
/// `here` (`messages[2].tool_calls[0]`), whose arguments OpenAI sends as a JSON string.
pub(crate) fn function_call<'a>(
    call: &'a Value,
    here: &str,
) -> Result<(&'a str, Value), TranslateError> {
    let function = call.get("function");
    let name = function
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid(
                format!("{here}.function.name"),
                format!("{here} has no function name"),
            )
        })?;
    let raw = function
        .and_then(|f| f.get("arguments"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if raw.trim().is_empty() {
        return Ok((name, Value::Object(serde_json::Map::new())));
    }
    let args = serde_json::from_str::<Value>(raw)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            invalid(
                format!("{here}.function.arguments"),
                format!("{here}.function.arguments must be a JSON object string"),
            )
        })?;
    Ok((name, args))
}

/// A tool message's content as text: a string as is, text parts joined, other JSON as JSON.
pub(crate) fn tool_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Appends `items` to `turns` as `{"role": role, key: items}`, or to the last turn's `key`
/// when that turn has the same role. No items, no turn.
pub(crate) fn push_merged(turns: &mut Vec<Value>, role: &str, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    if let Some(last) = turns.last_mut() {
        if last.get("role").and_then(Value::as_str) == Some(role) {
            if let Some(Value::Array(have)) = last.get_mut(key) {
                have.extend(items);
                return;
            }
        }
    }
    turns.push(json!({ "role": role, key: items }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_role_turns_merge_and_empty_ones_are_left_out() {
        let mut turns = Vec::new();
        push_merged(&mut turns, "user", "parts", vec![json!({"text": "a"})]);
        push_merged(&mut turns, "user", "parts", vec![json!({"text": "b"})]);
        push_merged(&mut turns, "model", "parts", Vec::new());
        push_merged(&mut turns, "model", "parts", vec![json!({"text": "c"})]);
        assert_eq!(
            Value::Array(turns),
            json!([
                {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
                {"role": "model", "parts": [{"text": "c"}]},
            ])
        );
    }

    #[test]
    fn a_missing_role_or_tool_call_id_names_its_path() {
        let msg = json!({"content": "x"});
        let e = role(&msg, "messages[2]").unwrap_err();
        assert!(
            matches!(&e, TranslateError::InvalidRequest { param: Some(p), .. } if p == "messages[2].role"),
            "{e:?}"
        );
        let e = tool_call_id(&msg, "messages[2]").unwrap_err();
        assert!(
            e.to_string()
                .contains("tool message without `tool_call_id`"),
            "{e}"
        );
        assert_eq!(role(&json!({"role": "tool"}), "m").unwrap(), "tool");
    }
}
