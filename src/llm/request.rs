//! A chat request with every parameter that can change the answer made explicit, and its
//! canonical JSON (sorted keys, no whitespace) from which cache keys are hashed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn system(s: impl Into<String>) -> Self {
        Message {
            role: "system".into(),
            content: s.into(),
        }
    }
    pub fn user(s: impl Into<String>) -> Self {
        Message {
            role: "user".into(),
            content: s.into(),
        }
    }
}

/// Sampling parameters with their defaults written out, so a key never depends on a provider's
/// implicit default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    pub temperature: f64,
    pub top_p: f64,
    pub max_tokens: u32,
    pub seed: Option<u64>,
    pub stop: Vec<String>,
    pub presence_penalty: f64,
    pub frequency_penalty: f64,
    /// Provider response format (e.g. `{"type":"text"}`); `None` = plain text.
    pub response_format: Option<Value>,
    /// A llama.cpp GBNF grammar every token must follow (constrained decoding). Left out of the
    /// serialised request when absent, so free-decoding keys are what they always were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grammar: Option<String>,
    /// The same constraint as a JSON schema of `{"rows": [...]}`, for providers with
    /// structured outputs (OpenAI `response_format`, Gemini `responseSchema`, an Anthropic
    /// tool). Absent from the serialised request when unused, like `grammar`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<Value>,
    /// llama.cpp's DRY repetition sampler (`generate::repetition`); absent when unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry: Option<Dry>,
}

/// llama-server's DRY sampler settings (`dry_*` fields of its chat endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dry {
    pub multiplier: f64,
    pub base: f64,
    pub allowed_length: u32,
    pub penalty_last_n: u32,
    pub sequence_breakers: Vec<String>,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: 1.0,
            top_p: 1.0,
            max_tokens: 1024,
            seed: None,
            stop: Vec::new(),
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            response_format: None,
            grammar: None,
            json_schema: None,
            dry: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub sampling: Sampling,
}

/// Canonical JSON: object keys sorted at every depth, no insignificant whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[*k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn no_grammar_leaves_the_serialised_sampling_as_before() {
        let v = serde_json::to_value(Sampling::default()).unwrap();
        assert!(v.get("grammar").is_none());
        let g = Sampling {
            grammar: Some("root ::= \"1\"".into()),
            ..Sampling::default()
        };
        assert_eq!(
            serde_json::to_value(g).unwrap()["grammar"],
            "root ::= \"1\""
        );
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = json!({"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, {"c": 3, "d": 2}]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#
        );
    }
}
