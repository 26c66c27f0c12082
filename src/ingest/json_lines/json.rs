//! The little JSON reader the import format needs: strings (unescaped into a
//! buffer), raw number tokens, `null`, and skipping any value of an unknown key.
//!
//! Numbers are returned as their text so the caller parses them with Rust's
//! correctly rounded `f64` parser: every exported value reads back bit-exact.

use std::fmt;

/// Deepest nesting a skipped value may have: bounds recursion on hostile input.
pub const MAX_DEPTH: usize = 64;

/// Why a line is not the JSON we expect.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Something else was found at this byte offset.
    Expected {
        /// What was expected.
        what: &'static str,
        /// Byte offset in the line.
        at: usize,
    },
    /// A string with a bad escape or no closing quote, at this offset.
    BadString(usize),
    /// A skipped value nests deeper than [`MAX_DEPTH`].
    TooDeep,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Expected { what, at } => write!(f, "expected {what} at byte {at}"),
            JsonError::BadString(at) => write!(f, "malformed JSON string at byte {at}"),
            JsonError::TooDeep => write!(f, "JSON nested deeper than {MAX_DEPTH}"),
        }
    }
}

impl std::error::Error for JsonError {}

/// A position in one line of JSON.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, position: 0 }
    }

    /// The next non-whitespace byte, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.position) {
            if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                return Some(b);
            }
            self.position += 1;
        }
        None
    }

    /// Whether only whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Consumes `byte` (after whitespace) or fails naming `what`.
    pub fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), JsonError> {
        if self.peek() == Some(byte) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// Consumes `byte` if it is next.
    pub fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.position += 1;
        }
        found
    }

    /// An error at the current position.
    pub fn expected(&self, what: &'static str) -> JsonError {
        JsonError::Expected {
            what,
            at: self.position,
        }
    }

    /// Reads a string, unescaped into `out` (cleared first).
    pub fn string(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        out.clear();
        self.expect(b'"', "a string")?;
        let start = self.position;
        loop {
            let rest = self.bytes.get(self.position..).unwrap_or_default();
            let plain = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(plain) = plain else {
                return Err(JsonError::BadString(start));
            };
            out.extend_from_slice(rest.get(..plain).unwrap_or_default());
            self.position += plain;
            match self.bytes.get(self.position) {
                Some(b'"') => {
                    self.position += 1;
                    return Ok(());
                }
                Some(b'\\') => self.escape(out).map_err(|()| JsonError::BadString(start))?,
                _ => return Err(JsonError::BadString(start)),
            }
        }
    }

    /// Reads one escape sequence (the cursor is on its backslash).
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), ()> {
        let code = self.bytes.get(self.position + 1).copied().ok_or(())?;
        self.position += 2;
        let simple = match code {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => return self.unicode_escape(out),
            _ => return Err(()),
        };
        out.push(simple);
        Ok(())
    }

    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> Result<(), ()> {
        let high = self.hex4()?;
        let code = if (0xd800..0xdc00).contains(&high) {
            if self.bytes.get(self.position..self.position + 2) != Some(b"\\u") {
                return Err(());
            }
            self.position += 2;
            let low = self.hex4()?;
            if !(0xdc00..0xe000).contains(&low) {
                return Err(());
            }
            0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
        } else {
            high
        };
        let ch = char::from_u32(code).ok_or(())?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ()> {
        let digits = self.bytes.get(self.position..self.position + 4).ok_or(())?;
        let text = std::str::from_utf8(digits).map_err(|_| ())?;
        let value = u32::from_str_radix(text, 16).map_err(|_| ())?;
        self.position += 4;
        Ok(value)
    }

    /// Reads a number token's text (sign, digits, `.`, exponent), unparsed.
    pub fn number_text(&mut self) -> Result<&'a str, JsonError> {
        self.peek();
        let rest = self.bytes.get(self.position..).unwrap_or_default();
        let len = rest
            .iter()
            .take_while(|&&b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        let text = rest.get(..len).and_then(|t| std::str::from_utf8(t).ok());
        match text {
            Some(t) if !t.is_empty() => {
                self.position += len;
                Ok(t)
            }
            _ => Err(self.expected("a number")),
        }
    }

    /// Consumes the literal `word` (`null`, `true`, `false`) if it is next.
    pub fn literal(&mut self, word: &[u8]) -> bool {
        self.peek();
        let found = self.bytes.get(self.position..self.position + word.len()) == Some(word);
        if found {
            self.position += word.len();
        }
        found
    }

    /// Skips one value of any kind.
    pub fn skip_value(&mut self, depth: usize, scratch: &mut Vec<u8>) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        match self.peek() {
            Some(b'"') => self.string(scratch),
            Some(b'{') => {
                self.position += 1;
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.string(scratch)?;
                    self.expect(b':', "':'")?;
                    self.skip_value(depth + 1, scratch)?;
                    if !self.eat(b',') {
                        return self.expect(b'}', "',' or '}'");
                    }
                }
            }
            Some(b'[') => {
                self.position += 1;
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1, scratch)?;
                    if !self.eat(b',') {
                        return self.expect(b']', "',' or ']'");
                    }
                }
            }
            _ if self.literal(b"null") || self.literal(b"true") || self.literal(b"false") => Ok(()),
            _ => self.number_text().map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_unescape() {
        let mut out = Vec::new();
        let mut cursor = Cursor::new(br#" "a\"b\\c\/\n\u00e9\ud83d\ude00\u0001" "#);
        cursor.string(&mut out).unwrap();
        assert_eq!(out, "a\"b\\c/\né😀\u{1}".as_bytes());
        assert!(cursor.at_end());
        for bad in [
            &br#""open"#[..],
            br#""\x""#,
            br#""\ud800""#,
            br#""\u12""#,
            b"\"\x01\"",
        ] {
            assert!(Cursor::new(bad).string(&mut out).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn skips_nested_values() {
        let mut scratch = Vec::new();
        let mut cursor = Cursor::new(br#"{"a":[1,-2.5e3,{"b":null}],"c":true} x"#);
        cursor.skip_value(0, &mut scratch).unwrap();
        assert_eq!(cursor.peek(), Some(b'x'));
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert_eq!(
            Cursor::new(deep.as_bytes()).skip_value(0, &mut scratch),
            Err(JsonError::TooDeep)
        );
    }
}
