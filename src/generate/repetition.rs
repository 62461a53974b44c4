//! Sampling against repetition: a cell axis beside decoding. At 83 columns the constrained
//! model collapsed into near-copies: one template record per answer with 3–18 of 83 fields
//! varied, whole records repeated, shown real rows copied (issue 14's live check). A grammar
//! fixes form, not content, so that is a sampling matter.
//!
//! llama.cpp's DRY ("don't repeat yourself") sampler penalises a token by how long a sequence
//! it would extend that already occurred in the context — the prompt's example rows included,
//! as llama-server feeds the prompt into the sampler's history. Only the newline breaks a
//! sequence here, so a record that follows an earlier one (or a shown real row) field by field
//! is pushed off it, while repeats shorter than `allowed_length` tokens — a few fields; Qwen
//! writes one token per digit — stay free, since real records share short runs (`0,0,0`).
//! The penalty is `multiplier · base^(length − allowed_length)`; multiplier and base are
//! DRY's published defaults. APIs have no such sampler, so a DRY cell needs a llama-server.

use crate::llm::request::Dry;
use serde::{Deserialize, Serialize};

/// `none` (default: every cell recorded before this axis) or `dry`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Repetition {
    #[default]
    None,
    Dry,
}

/// Tokens a repeat may run before it is penalised: about 8 fields of 2–4 digits.
pub const DRY_ALLOWED_LENGTH: u32 = 24;
/// Tokens the sampler looks back over: a whole slot's context (prompt and answer).
pub const DRY_LOOKBACK: u32 = 12288;

impl Repetition {
    pub fn is_none(&self) -> bool {
        *self == Repetition::None
    }
    pub fn name(&self) -> &'static str {
        match self {
            Repetition::None => "none",
            Repetition::Dry => "dry",
        }
    }
    /// The sampler settings sent with each request (`None` sends nothing, so keys of cells
    /// without the axis are what they were).
    pub fn sampler(&self) -> Option<Dry> {
        match self {
            Repetition::None => None,
            Repetition::Dry => Some(Dry {
                multiplier: 0.8,
                base: 1.75,
                allowed_length: DRY_ALLOWED_LENGTH,
                penalty_last_n: DRY_LOOKBACK,
                sequence_breakers: vec!["\n".into()],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dry_sends_a_sampler_and_it_breaks_sequences_at_newlines_only() {
        assert!(Repetition::None.sampler().is_none());
        let d = Repetition::Dry.sampler().unwrap();
        assert_eq!(d.sequence_breakers, ["\n"]);
        assert!(d.multiplier > 0.0 && d.base >= 1.0);
        assert_eq!(Repetition::default(), Repetition::None);
    }
}
