//! Generation: prompting strategies, call planning, strict parsing of LLM output, classical
//! baselines and experiment profiles.

pub mod baselines;
pub mod grammar;
pub mod parse;
pub mod plan;
pub mod profile;
pub mod repetition;
pub mod run;
pub mod strategy;
#[cfg(feature = "tool")]
pub mod throughput;

pub use profile::{Cell, Profile};
pub use strategy::Strategy;
