//! Label matchers: `=`, `!=`, `=~`, `!~`, with Prometheus' semantics.
//!
//! A label that is absent matches exactly like a label with an empty value.
//! Regexes are fully anchored and `.` matches newlines, as in Prometheus 3
//! (`^(?s:<re>)$`).

use std::fmt;

use regex::Regex;

/// The comparison a matcher makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

impl MatchOp {
    /// The operator as written in PromQL.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }
}

/// A label matcher, e.g. `job=~"node|api"`.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// The label name matched against.
    pub name: String,
    /// The comparison.
    pub op: MatchOp,
    /// The literal value or the regex source as written.
    pub value: String,
    /// The compiled, anchored regex for `=~` and `!~`.
    regex: Option<Regex>,
}

/// A regex that does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherError {
    /// The regex as written.
    pub regex: String,
    /// What the regex compiler said.
    pub reason: String,
}

impl fmt::Display for MatcherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid regular expression {:?}: {}",
            self.regex, self.reason
        )
    }
}

impl std::error::Error for MatcherError {}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// Builds a matcher; compiles the regex for `=~` and `!~`.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let regex = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(
                Regex::new(&format!("^(?s:{value})$")).map_err(|e| MatcherError {
                    regex: value.clone(),
                    reason: e.to_string(),
                })?,
            ),
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Matcher {
            name: name.into(),
            op,
            value,
            regex,
        })
    }

    /// Whether a label value (`""` when the label is absent) satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::RegexMatch, Some(re)) => re.is_match(value),
            (MatchOp::RegexNoMatch, Some(re)) => !re.is_match(value),
            // `new` always compiles a regex for the regex operators.
            (MatchOp::RegexMatch | MatchOp::RegexNoMatch, None) => false,
        }
    }

    /// Whether the matcher matches the empty string (and so series lacking the label).
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(op: MatchOp, v: &str) -> Matcher {
        Matcher::new(op, "l", v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn regexes_are_anchored_and_dot_matches_newline() {
        assert!(m(MatchOp::RegexMatch, "a.c").matches("a\nc"));
        assert!(!m(MatchOp::RegexMatch, "b").matches("abc"));
        assert!(m(MatchOp::RegexMatch, "a|b").matches("b"));
        assert!(!m(MatchOp::RegexMatch, "a|b").matches("ab"));
    }

    #[test]
    fn empty_semantics() {
        assert!(m(MatchOp::Equal, "").matches_empty());
        assert!(!m(MatchOp::NotEqual, "").matches_empty());
        assert!(m(MatchOp::RegexMatch, ".*").matches_empty());
        assert!(!m(MatchOp::RegexMatch, ".+").matches_empty());
        assert!(m(MatchOp::RegexNoMatch, ".+").matches_empty());
    }

    #[test]
    fn bad_regex_is_an_error() {
        let err = Matcher::new(MatchOp::RegexMatch, "l", "(").err();
        assert!(err.is_some_and(|e| e.to_string().contains("invalid regular expression")));
    }
}
