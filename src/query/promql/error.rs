//! Parse errors: what went wrong and where, rendered like Prometheus'
//! `ParseErr` (`<line>:<column>: parse error: <message>`).

use std::fmt;

use crate::model::MatcherError;

use super::types::ValueType;

/// What went wrong while parsing or type checking a query.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The lexer met text that forms no token; the message is Prometheus' text.
    Lex(String),
    /// The parser met a token the grammar does not allow here.
    Unexpected {
        /// The token met, described as Prometheus does (`<op:+>`, `end of input`…).
        found: String,
        /// The construct being parsed (`label matching`, `grouping opts`…), may be empty.
        context: &'static str,
        /// What would have been accepted, may be empty.
        expected: &'static str,
    },
    /// An operand has the wrong value type.
    WrongType {
        /// Where the operand sits (`aggregation expression`, `call to function "rate"`…).
        context: String,
        /// The type the position requires.
        expected: ValueType,
        /// The operand's type.
        got: ValueType,
    },
    /// A label matcher's regex does not compile.
    BadRegex(MatcherError),
    /// Any other rule Prometheus enforces; the text is Prometheus' message.
    Invalid(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Lex(message) | ErrorKind::Invalid(message) => f.write_str(message),
            ErrorKind::Unexpected {
                found,
                context,
                expected,
            } => {
                write!(f, "unexpected {found}")?;
                if !context.is_empty() {
                    write!(f, " in {context}")?;
                }
                if !expected.is_empty() {
                    write!(f, ", expected {expected}")?;
                }
                Ok(())
            }
            ErrorKind::WrongType {
                context,
                expected,
                got,
            } => write!(f, "expected type {expected} in {context}, got {got}"),
            ErrorKind::BadRegex(error) => write!(f, "{error}"),
        }
    }
}

/// A query that does not parse or does not type check, with the byte range at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Byte offset where the offending part starts.
    pub start: usize,
    /// Byte offset just past the offending part (`start` when unknown).
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in bytes) of `start` within its line.
    pub column: usize,
}

impl ParseError {
    /// Builds an error for `input[start..end]`, computing line and column.
    pub fn new(input: &str, kind: ErrorKind, start: usize, end: usize) -> ParseError {
        let start = start.min(input.len());
        let before = input.get(..start).unwrap_or("");
        let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
        let column = match before.rfind('\n') {
            Some(newline) => start - newline,
            None => start + 1,
        };
        ParseError {
            kind,
            start,
            end: end.max(start),
            line,
            column,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: parse error: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_line_and_byte_column() {
        let e = ParseError::new("a +\n  b", ErrorKind::Invalid("x".into()), 6, 7);
        assert_eq!(e.to_string(), "2:3: parse error: x");
        let e = ParseError::new("foo", ErrorKind::Invalid("y".into()), 0, 3);
        assert_eq!(e.to_string(), "1:1: parse error: y");
    }
}
