//! A checker of JSON documents against botocore's bedrock-runtime service model (the fixture
//! `bedrock/botocore-converse-model.json`): every key must be a member of its shape, required
//! members present, unions set exactly one member, enums and scalar types respected. Encoded
//! requests and the fixtures the mocks send are checked with it, so both follow AWS's own
//! definition rather than the gateway's reading of it.
use serde_json::Value;

pub struct Model {
    pub doc: Value,
}

impl Model {
    pub fn load() -> Model {
        let bytes = super::common::fixture("bedrock/botocore-converse-model.json");
        Model {
            doc: serde_json::from_slice(&bytes).unwrap(),
        }
    }

    fn shape(&self, name: &str) -> &Value {
        self.doc
            .pointer(&format!("/shapes/{name}"))
            .unwrap_or_else(|| panic!("no shape {name} in the botocore model"))
    }

    /// `(name, httpStatusCode)` of every exception shape.
    pub fn exceptions(&self) -> Vec<(String, u16)> {
        let shapes = self.doc["shapes"].as_object().unwrap();
        shapes
            .iter()
            .filter(|(_, s)| s["exception"] == true)
            .map(|(n, s)| {
                (
                    n.clone(),
                    s["error"]["httpStatusCode"].as_u64().unwrap() as u16,
                )
            })
            .collect()
    }

    /// The shape of member `member` of structure `shape`.
    pub fn member_shape(&self, shape: &str, member: &str) -> String {
        self.shape(shape)["members"][member]["shape"]
            .as_str()
            .unwrap_or_else(|| panic!("{shape} has no member {member}"))
            .to_owned()
    }

    /// Panics with the path of the first violation of shape `name` in `value`. Members bound
    /// to the URI (`location: uri`) must not appear in a body.
    pub fn check(&self, name: &str, value: &Value) {
        self.walk(name, value, "$");
    }

    fn walk(&self, name: &str, value: &Value, at: &str) {
        let shape = self.shape(name);
        let kind = shape["type"].as_str().unwrap();
        if shape["document"] == true {
            return;
        }
        match kind {
            "structure" => {
                let obj = value
                    .as_object()
                    .unwrap_or_else(|| panic!("{at}: {name} must be an object, got {value}"));
                let members = shape["members"].as_object().unwrap();
                for (key, v) in obj {
                    let m = members
                        .get(key)
                        .unwrap_or_else(|| panic!("{at}: `{key}` is not a member of {name}"));
                    assert!(m.get("location").is_none(), "{at}.{key} belongs in the URL");
                    self.walk(m["shape"].as_str().unwrap(), v, &format!("{at}.{key}"));
                }
                for req in shape["required"].as_array().into_iter().flatten() {
                    let req = req.as_str().unwrap();
                    let located = members[req].get("location").is_some();
                    assert!(
                        located || obj.contains_key(req),
                        "{at}: {name} requires `{req}`"
                    );
                }
                if shape["union"] == true {
                    assert_eq!(obj.len(), 1, "{at}: {name} is a union: exactly one member");
                }
            }
            "list" => {
                let items = value
                    .as_array()
                    .unwrap_or_else(|| panic!("{at}: {name} must be an array"));
                let member = shape["member"]["shape"].as_str().unwrap();
                if let Some(min) = shape["min"].as_u64() {
                    assert!(items.len() as u64 >= min, "{at}: {name} needs {min}+ items");
                }
                for (i, item) in items.iter().enumerate() {
                    self.walk(member, item, &format!("{at}[{i}]"));
                }
            }
            "map" => {
                let obj = value
                    .as_object()
                    .unwrap_or_else(|| panic!("{at}: {name} must be an object"));
                let v = shape["value"]["shape"].as_str().unwrap();
                for (key, item) in obj {
                    self.walk(v, item, &format!("{at}.{key}"));
                }
            }
            "string" => {
                let s = value
                    .as_str()
                    .unwrap_or_else(|| panic!("{at}: {name} must be a string, got {value}"));
                if let Some(values) = shape["enum"].as_array() {
                    assert!(
                        values.iter().any(|e| e == s),
                        "{at}: {s:?} is not one of {name}'s values {values:?}"
                    );
                }
                if let Some(min) = shape["min"].as_u64() {
                    assert!(s.chars().count() as u64 >= min, "{at}: {name} too short");
                }
            }
            "blob" => {
                assert!(
                    value.is_string(),
                    "{at}: {name} (blob) is base64 text in JSON"
                );
            }
            "integer" | "long" => {
                assert!(
                    value.is_i64() || value.is_u64(),
                    "{at}: {name} must be an integer"
                );
            }
            "float" | "double" => assert!(value.is_number(), "{at}: {name} must be a number"),
            "boolean" => assert!(value.is_boolean(), "{at}: {name} must be a boolean"),
            other => panic!("{at}: unhandled shape type {other}"),
        }
    }
}
