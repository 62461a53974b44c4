//! LLM providers, canonical requests and the content-addressed response cache.

pub mod answers;
pub mod cache;
#[cfg(feature = "tool")]
pub mod client;
pub mod fingerprint;
pub mod pricing;
pub mod provider;
pub mod registry;
pub mod request;
pub mod selftest;
pub mod stats;

pub use answers::{Answered, Answers, ConstraintForm, Replay};
pub use cache::{Cache, CacheMode, Entry, Lookup, Provenance};
#[cfg(feature = "tool")]
pub use client::{ClientConfig, LlmClient, RetryPolicy};
pub use fingerprint::{ModelFingerprint, ServerInfo};
pub use provider::{Completion, ProviderKind, Usage};
pub use registry::Registry;
pub use request::{ChatRequest, Message, Sampling};
