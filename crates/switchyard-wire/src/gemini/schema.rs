//! OpenAI tool parameters (JSON Schema) to the OpenAPI 3.0 subset that Gemini's
//! `FunctionDeclaration.parameters` accepts.
//!
//! The Gemini Developer API rejects unknown schema keywords with a 400 (`additionalProperties`
//! is the usual culprit: every `strict: true` OpenAI tool has it), so this keeps an allowlist
//! of the keywords Gemini's `Schema` defines and rewrites the common JSON Schema idioms it
//! lacks: local `$ref`s are inlined, `type: [T, "null"]` and `anyOf [.., {type: null}]` become
//! `nullable`, `oneOf` becomes `anyOf`, `allOf` is merged, a string `const` becomes a
//! one-value `enum`. Type names are upper-cased to the `Type` enum (`OBJECT`, `STRING`, ...).

use serde_json::{Map, Value};

/// Keywords copied as they are; everything not listed here or rewritten below is dropped
/// (`additionalProperties`, `$schema`, `$id`, `strict`, `examples`, `not`, `if`/`then`/`else`,
/// `patternProperties`, `unevaluatedProperties`, `dependentRequired`, `readOnly`, ...).
const COPIED: &[&str] = &[
    "title",
    "description",
    "nullable",
    "enum",
    "example",
    "default",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "propertyOrdering",
];

/// Nesting beyond this is cut off (as an unconstrained `{}`), as are recursive `$ref`s.
const MAX_DEPTH: usize = 24;

/// Gemini `parameters` for an OpenAI tool's `parameters`, or `None` when the function takes
/// no arguments: Gemini rejects an `OBJECT` with empty `properties`, and omitting
/// `parameters` is how it spells "no arguments".
pub(crate) fn function_parameters(schema: &Value) -> Option<Value> {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .and_then(Value::as_object);
    let converted = convert(schema, &Defs { defs }, 0, &mut Vec::new());
    let no_properties = converted
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    let is_object = converted.get("type").and_then(Value::as_str) == Some("OBJECT");
    if no_properties && (is_object || converted.as_object().is_some_and(Map::is_empty)) {
        None
    } else {
        Some(converted)
    }
}

/// The root's definitions, for `#/$defs/X` and `#/definitions/X` references.
struct Defs<'a> {
    defs: Option<&'a Map<String, Value>>,
}

impl<'a> Defs<'a> {
    fn resolve(&self, reference: &str) -> Option<(&'a str, &'a Value)> {
        let name = reference
            .strip_prefix("#/$defs/")
            .or_else(|| reference.strip_prefix("#/definitions/"))?;
        self.defs?.get_key_value(name).map(|(k, v)| (k.as_str(), v))
    }
}

/// Converts one schema node; `stack` holds the `$ref`s being expanded, to stop recursion.
fn convert<'a>(node: &Value, defs: &Defs<'a>, depth: usize, stack: &mut Vec<&'a str>) -> Value {
    let Some(obj) = node.as_object() else {
        return Value::Object(Map::new());
    };
    if depth > MAX_DEPTH {
        return Value::Object(Map::new());
    }
    if let Some(reference) = obj.get("$ref").and_then(Value::as_str) {
        let Some((name, target)) = defs.resolve(reference) else {
            return Value::Object(Map::new());
        };
        if stack.contains(&name) {
            return Value::Object(Map::new());
        }
        let mut merged = target.as_object().cloned().unwrap_or_default();
        for (k, v) in obj {
            if k != "$ref" {
                merged.insert(k.clone(), v.clone());
            }
        }
        stack.push(name);
        let out = convert(&Value::Object(merged), defs, depth + 1, stack);
        stack.pop();
        return out;
    }
    if let Some(all_of) = obj.get("allOf").and_then(Value::as_array) {
        let merged = merge_all_of(obj, all_of, defs);
        return convert(&Value::Object(merged), defs, depth + 1, stack);
    }

    let mut out = Map::new();
    for key in COPIED {
        if let Some(v) = obj.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    match obj.get("type") {
        Some(Value::String(t)) => set_type(&mut out, &[t.as_str()]),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            set_type(&mut out, &names);
        }
        _ => {}
    }
    if let Some(c) = obj.get("const") {
        out.insert("enum".to_owned(), Value::Array(vec![c.clone()]));
    }
    // Gemini's enums are string enums; say so when the JSON Schema left the type implicit.
    let string_enum = out
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().all(Value::is_string));
    if string_enum && !out.contains_key("type") && !obj.contains_key("type") {
        out.insert("type".to_owned(), Value::String("STRING".to_owned()));
    }
    if let Some(format) = obj.get("format").and_then(Value::as_str) {
        if matches!(
            format,
            "enum" | "date-time" | "float" | "double" | "int32" | "int64"
        ) {
            out.insert("format".to_owned(), Value::String(format.to_owned()));
        }
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let converted: Map<String, Value> = props
            .iter()
            .map(|(name, sub)| (name.clone(), convert(sub, defs, depth + 1, stack)))
            .collect();
        if let Some(required) = obj.get("required").and_then(Value::as_array) {
            let known: Vec<Value> = required
                .iter()
                .filter(|r| r.as_str().is_some_and(|r| converted.contains_key(r)))
                .cloned()
                .collect();
            out.insert("required".to_owned(), Value::Array(known));
        }
        out.insert("properties".to_owned(), Value::Object(converted));
    }
    if let Some(items) = obj.get("items").filter(|i| i.is_object()) {
        out.insert("items".to_owned(), convert(items, defs, depth + 1, stack));
    }
    let any_of = obj
        .get("anyOf")
        .or_else(|| obj.get("oneOf"))
        .and_then(Value::as_array);
    if let Some(any_of) = any_of {
        set_any_of(&mut out, any_of, defs, depth, stack);
    }
    Value::Object(out)
}

/// Sets `type` from JSON Schema type names: `null` becomes `nullable`, one remaining type is
/// the `type`, several become an `anyOf` of single-type schemas.
fn set_type(out: &mut Map<String, Value>, names: &[&str]) {
    let concrete: Vec<&str> = names.iter().copied().filter(|t| *t != "null").collect();
    if concrete.len() != names.len() {
        out.insert("nullable".to_owned(), Value::Bool(true));
    }
    match concrete.as_slice() {
        [] => {}
        [one] => {
            out.insert("type".to_owned(), Value::String(one.to_ascii_uppercase()));
        }
        many => {
            let variants = many
                .iter()
                .map(|t| serde_json::json!({ "type": t.to_ascii_uppercase() }))
                .collect();
            out.insert("anyOf".to_owned(), Value::Array(variants));
        }
    }
}

/// `anyOf`/`oneOf`: `{type: null}` variants become `nullable`; a single remaining variant is
/// merged into the node (Gemini handles a plain nullable schema better than a one-item union).
fn set_any_of<'a>(
    out: &mut Map<String, Value>,
    variants: &[Value],
    defs: &Defs<'a>,
    depth: usize,
    stack: &mut Vec<&'a str>,
) {
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    if variants.iter().any(is_null) {
        out.insert("nullable".to_owned(), Value::Bool(true));
    }
    let mut kept: Vec<Value> = variants
        .iter()
        .filter(|v| !is_null(v))
        .map(|v| convert(v, defs, depth + 1, stack))
        .collect();
    if kept.len() == 1 {
        if let Some(Value::Object(only)) = kept.pop() {
            for (k, v) in only {
                out.entry(k).or_insert(v);
            }
        }
    } else if !kept.is_empty() {
        out.insert("anyOf".to_owned(), Value::Array(kept));
    }
}

/// Flattens `allOf` into one schema: `properties` and `required` are unioned, other keywords
/// keep the first value seen, the node's own keywords first.
fn merge_all_of(node: &Map<String, Value>, parts: &[Value], defs: &Defs<'_>) -> Map<String, Value> {
    let mut merged: Map<String, Value> = node
        .iter()
        .filter(|(k, _)| *k != "allOf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for part in parts {
        let resolved = part
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| defs.resolve(r))
            .map_or(part, |(_, target)| target);
        let Some(part) = resolved.as_object() else {
            continue;
        };
        for (k, v) in part {
            match (k.as_str(), merged.get_mut(k), v) {
                ("properties", Some(Value::Object(have)), Value::Object(more)) => {
                    for (name, sub) in more {
                        have.entry(name.clone()).or_insert_with(|| sub.clone());
                    }
                }
                ("required", Some(Value::Array(have)), Value::Array(more)) => {
                    for name in more {
                        if !have.contains(name) {
                            have.push(name.clone());
                        }
                    }
                }
                (_, None, _) => {
                    merged.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    merged
}
