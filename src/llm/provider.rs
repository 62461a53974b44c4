//! Provider wire formats: OpenAI-compatible chat completions (OpenAI, llama.cpp's llama-server,
//! vLLM, Ollama), Anthropic Messages and Gemini generateContent. API keys come from environment
//! variables only and never enter logs, errors or the cache.

use super::request::ChatRequest;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tool", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// OpenAI chat completions and compatible servers (llama-server, vLLM, Ollama).
    #[cfg_attr(feature = "tool", value(alias = "openai"))]
    OpenaiCompatible,
    Anthropic,
    Gemini,
}

impl ProviderKind {
    pub fn name(&self) -> &'static str {
        match self {
            ProviderKind::OpenaiCompatible => "openai-compatible",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Gemini => "gemini",
        }
    }
    pub fn default_base_url(&self) -> &'static str {
        match self {
            ProviderKind::OpenaiCompatible => "https://api.openai.com/v1",
            ProviderKind::Anthropic => "https://api.anthropic.com",
            ProviderKind::Gemini => "https://generativelanguage.googleapis.com",
        }
    }
    /// Environment variable holding the API key.
    pub fn key_env(&self) -> &'static str {
        match self {
            ProviderKind::OpenaiCompatible => "OPENAI_API_KEY",
            ProviderKind::Anthropic => "ANTHROPIC_API_KEY",
            ProviderKind::Gemini => "GEMINI_API_KEY",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What a provider answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub text: String,
    pub finish_reason: Option<String>,
    pub usage: Usage,
    /// The model id the provider reports (an API snapshot, or the local file name).
    pub model_reported: Option<String>,
    /// llama-server's per-request timings, for the throughput benchmark; never cached (they
    /// describe one run of the server, not the answer).
    #[serde(skip)]
    pub timings: Option<Timings>,
}

/// llama-server's `timings` object: prompt tokens evaluated (after prefix-cache reuse) and
/// generated, with their milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Timings {
    #[serde(default)]
    pub cache_n: u64,
    #[serde(default)]
    pub prompt_n: u64,
    #[serde(default)]
    pub prompt_ms: f64,
    #[serde(default)]
    pub predicted_n: u64,
    #[serde(default)]
    pub predicted_ms: f64,
}

/// Why a call failed; `Retryable` ones are retried with backoff.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    Fatal(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Retryable { message, .. } => write!(f, "{message} (retryable)"),
            CallError::Fatal(m) => write!(f, "{m}"),
        }
    }
}

/// Name of the structured-output schema / forced tool that carries constrained rows.
pub const ROWS_TOOL: &str = "synthetic_rows";

/// A JSON schema in Gemini's `responseSchema` dialect (an OpenAPI 3.0 subset): a nullable type
/// is `{"type": T, "nullable": true}` instead of `["T", "null"]`, and `additionalProperties`
/// is not part of it.
pub fn gemini_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("additionalProperties", _) => {}
                    ("type", Value::Array(types)) => {
                        let non_null: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                        if let Some(t) = non_null.first() {
                            out.insert("type".into(), (*t).clone());
                        }
                        if non_null.len() < types.len() {
                            out.insert("nullable".into(), json!(true));
                        }
                    }
                    ("enum", Value::Array(e)) => {
                        // Gemini's enums are strings: a numeric enum (0/1) becomes bounds
                        if e.iter().any(Value::is_null) {
                            out.insert("nullable".into(), json!(true));
                        }
                        let nums: Vec<f64> = e.iter().filter_map(Value::as_f64).collect();
                        if let (Some(lo), Some(hi)) = (
                            nums.iter().copied().reduce(f64::min),
                            nums.iter().copied().reduce(f64::max),
                        ) {
                            out.insert("minimum".into(), json!(lo));
                            out.insert("maximum".into(), json!(hi));
                        }
                    }
                    _ => {
                        out.insert(k.clone(), gemini_schema(x));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(gemini_schema).collect()),
        other => other.clone(),
    }
}

/// An HTTP request ready to send: URL, headers (secrets included) and JSON body.
pub struct WireRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

pub fn build(
    kind: ProviderKind,
    base_url: &str,
    model: &str,
    api_key: Option<&str>,
    req: &ChatRequest,
) -> WireRequest {
    let base = base_url.trim_end_matches('/');
    let s = &req.sampling;
    match kind {
        ProviderKind::OpenaiCompatible => {
            let mut body = json!({
                "model": model,
                "messages": req.messages,
                "temperature": s.temperature,
                "top_p": s.top_p,
                "max_tokens": s.max_tokens,
                "presence_penalty": s.presence_penalty,
                "frequency_penalty": s.frequency_penalty,
                "stream": false,
            });
            if let Some(seed) = s.seed {
                body["seed"] = json!(seed);
            }
            if !s.stop.is_empty() {
                body["stop"] = json!(s.stop);
            }
            if let Some(rf) = &s.response_format {
                body["response_format"] = rf.clone();
            }
            // llama-server's extension of the chat endpoint (tools/server/server-common.cpp)
            if let Some(g) = &s.grammar {
                body["grammar"] = json!(g);
            }
            if let Some(d) = &s.dry {
                body["dry_multiplier"] = json!(d.multiplier);
                body["dry_base"] = json!(d.base);
                body["dry_allowed_length"] = json!(d.allowed_length);
                body["dry_penalty_last_n"] = json!(d.penalty_last_n);
                body["dry_sequence_breakers"] = json!(d.sequence_breakers);
            }
            // OpenAI structured outputs (strict: every answer matches the schema)
            if let Some(schema) = &s.json_schema {
                body["response_format"] = json!({
                    "type": "json_schema",
                    "json_schema": {"name": ROWS_TOOL, "strict": true, "schema": schema},
                });
            }
            let mut headers = vec![("content-type".into(), "application/json".into())];
            if let Some(k) = api_key {
                headers.push(("authorization".into(), format!("Bearer {k}")));
            }
            WireRequest {
                url: format!("{base}/chat/completions"),
                headers,
                body,
            }
        }
        ProviderKind::Anthropic => {
            let system: Vec<&str> = req
                .messages
                .iter()
                .filter(|m| m.role == "system")
                .map(|m| m.content.as_str())
                .collect();
            let msgs: Vec<&super::request::Message> =
                req.messages.iter().filter(|m| m.role != "system").collect();
            let mut body = json!({
                "model": model,
                "messages": msgs,
                "max_tokens": s.max_tokens,
                "temperature": s.temperature,
                "top_p": s.top_p,
            });
            if !system.is_empty() {
                body["system"] = json!(system.join("\n\n"));
            }
            if !s.stop.is_empty() {
                body["stop_sequences"] = json!(s.stop);
            }
            // Anthropic has no response schema: a tool whose input is the schema, forced
            if let Some(schema) = &s.json_schema {
                body["tools"] = json!([{
                    "name": ROWS_TOOL,
                    "description": "Write the synthetic records, one object per record.",
                    "input_schema": schema,
                }]);
                body["tool_choice"] = json!({"type": "tool", "name": ROWS_TOOL});
            }
            let mut headers = vec![
                ("content-type".into(), "application/json".into()),
                ("anthropic-version".into(), "2023-06-01".into()),
            ];
            if let Some(k) = api_key {
                headers.push(("x-api-key".into(), k.to_string()));
            }
            WireRequest {
                url: format!("{base}/v1/messages"),
                headers,
                body,
            }
        }
        ProviderKind::Gemini => {
            let system: Vec<Value> = req
                .messages
                .iter()
                .filter(|m| m.role == "system")
                .map(|m| json!({"text": m.content}))
                .collect();
            let contents: Vec<Value> = req
                .messages
                .iter()
                .filter(|m| m.role != "system")
                .map(|m| {
                    let role = if m.role == "assistant" {
                        "model"
                    } else {
                        "user"
                    };
                    json!({"role": role, "parts": [{"text": m.content}]})
                })
                .collect();
            let mut gen = json!({
                "temperature": s.temperature,
                "topP": s.top_p,
                "maxOutputTokens": s.max_tokens,
            });
            if let Some(seed) = s.seed {
                gen["seed"] = json!(seed);
            }
            if !s.stop.is_empty() {
                gen["stopSequences"] = json!(s.stop);
            }
            if let Some(schema) = &s.json_schema {
                gen["responseMimeType"] = json!("application/json");
                gen["responseSchema"] = gemini_schema(schema);
            }
            let mut body = json!({"contents": contents, "generationConfig": gen});
            if !system.is_empty() {
                body["systemInstruction"] = json!({"parts": system});
            }
            let mut headers = vec![("content-type".into(), "application/json".into())];
            if let Some(k) = api_key {
                headers.push(("x-goog-api-key".into(), k.to_string()));
            }
            WireRequest {
                url: format!("{base}/v1beta/models/{model}:generateContent"),
                headers,
                body,
            }
        }
    }
}

fn u64_at(v: &Value, path: &[&str]) -> u64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_u64().unwrap_or(0)
}

/// Parse a provider's success body. An empty choice list or a missing text is an error: the
/// cache must never store a failed answer.
pub fn parse(kind: ProviderKind, body: &str) -> Result<Completion, CallError> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        let head: String = body.chars().take(200).collect();
        CallError::Fatal(format!("malformed JSON from the provider ({e}): {head:?}"))
    })?;
    let model_reported = v["model"]
        .as_str()
        .or(v["modelVersion"].as_str())
        .map(str::to_string);
    match kind {
        ProviderKind::OpenaiCompatible => {
            let choice = v["choices"]
                .as_array()
                .and_then(|c| c.first())
                .ok_or_else(|| CallError::Fatal("the provider returned no choices".into()))?;
            let text = choice["message"]["content"].as_str().ok_or_else(|| {
                CallError::Fatal("the first choice has no message content".into())
            })?;
            Ok(Completion {
                text: text.to_string(),
                finish_reason: choice["finish_reason"].as_str().map(str::to_string),
                usage: Usage {
                    prompt_tokens: u64_at(&v, &["usage", "prompt_tokens"]),
                    completion_tokens: u64_at(&v, &["usage", "completion_tokens"]),
                },
                model_reported,
                timings: serde_json::from_value(v["timings"].clone()).ok(),
            })
        }
        ProviderKind::Anthropic => {
            let parts = v["content"]
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| {
                    CallError::Fatal("the provider returned no content blocks".into())
                })?;
            // a forced tool's input is the structured answer; keep it as JSON text
            let tool = parts
                .iter()
                .find(|p| p["type"] == "tool_use" && p["name"] == ROWS_TOOL);
            let text: String = match tool {
                Some(t) => t["input"].to_string(),
                None => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
            };
            Ok(Completion {
                text,
                finish_reason: v["stop_reason"].as_str().map(str::to_string),
                usage: Usage {
                    prompt_tokens: u64_at(&v, &["usage", "input_tokens"]),
                    completion_tokens: u64_at(&v, &["usage", "output_tokens"]),
                },
                model_reported,
                timings: None,
            })
        }
        ProviderKind::Gemini => {
            let cand = v["candidates"]
                .as_array()
                .and_then(|c| c.first())
                .ok_or_else(|| CallError::Fatal("the provider returned no candidates".into()))?;
            let parts = cand["content"]["parts"]
                .as_array()
                .ok_or_else(|| CallError::Fatal("the first candidate has no parts".into()))?;
            let text: String = parts.iter().filter_map(|p| p["text"].as_str()).collect();
            Ok(Completion {
                text,
                finish_reason: cand["finishReason"].as_str().map(str::to_string),
                usage: Usage {
                    prompt_tokens: u64_at(&v, &["usageMetadata", "promptTokenCount"]),
                    completion_tokens: u64_at(&v, &["usageMetadata", "candidatesTokenCount"]),
                },
                model_reported,
                timings: None,
            })
        }
    }
}

/// Classify an HTTP status: 429, 408 and 5xx are retryable; other non-2xx are fatal.
pub fn classify_status(status: u16, retry_after: Option<Duration>, body: &str) -> CallError {
    let head: String = body.chars().take(300).collect();
    let message = format!("HTTP {status}: {head}");
    if status == 429 || status == 408 || (500..600).contains(&status) {
        CallError::Retryable {
            message,
            retry_after,
        }
    } else {
        CallError::Fatal(message)
    }
}
