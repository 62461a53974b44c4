//! The fail-closed check before constrained generation. Some llama-server builds accept a
//! `grammar` and silently ignore it (HTTP 200, unconstrained text); the client asks for prose
//! under a digits-only grammar and refuses to record when prose comes back.

/// A self-test for servers that accept a grammar and silently ignore it: a prompt asking for
/// prose under a grammar that allows only digits. [`selftest_passed`] judges the answer.
pub const SELFTEST_GRAMMAR: &str = "root ::= [0-9]{6,12}\n";
pub const SELFTEST_PROMPT: &str =
    "Write two sentences about the weather in Paris. Use words only, no digits.";

/// Whether a self-test answer obeyed [`SELFTEST_GRAMMAR`].
pub fn selftest_passed(answer: &str) -> bool {
    let a = answer.trim();
    (6..=12).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selftest_judges_digits_only() {
        assert!(selftest_passed("12345678"));
        assert!(selftest_passed(" 123456\n"));
        assert!(!selftest_passed("It is sunny in Paris."));
        assert!(!selftest_passed("123"));
        assert!(!selftest_passed("12345678 degrees"));
    }
}
