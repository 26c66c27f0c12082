//! The lexer: turns a query into [`Token`]s, following Prometheus' `lex.go`.
//!
//! The lexer is modal, as in Prometheus: inside `{...}` every word is a label
//! name (keywords included) and `=~`/`!~` exist; inside `[...]` only numbers,
//! durations, `:` and duration-expression words are allowed. Lexing stops at the
//! first error, which becomes the last token ([`TokenKind::Error`]); the parser
//! reports it when it gets there, so a syntax error earlier in the query wins.

use super::token::{Keyword, Token, TokenKind};

/// The lexer's output: tokens ending with [`TokenKind::Eof`] or [`TokenKind::Error`].
#[derive(Debug)]
pub struct Tokens<'a> {
    /// The tokens, in order.
    pub tokens: Vec<Token<'a>>,
    /// The message of the final [`TokenKind::Error`] token, if lexing failed.
    pub error: Option<String>,
}

/// Splits `input` into tokens.
pub fn tokenize(input: &str) -> Tokens<'_> {
    let mut lexer = Lexer {
        input,
        pos: 0,
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
        got_colon: false,
        tokens: Vec::new(),
        error: None,
    };
    lexer.run();
    Tokens {
        tokens: lexer.tokens,
        error: lexer.error,
    }
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    paren_depth: usize,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    tokens: Vec<Token<'a>>,
    error: Option<String>,
}

/// Prometheus' `isAlpha`: ASCII letters and `_`.
fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alphanumeric(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Formats a character as Go's `%#U` does (`U+0071 'q'`).
fn go_unicode(c: char) -> String {
    format!("U+{:04X} '{c}'", u32::from(c))
}

/// Outcome of lexing one token: keep going or stop (after an error or the end).
enum Step {
    Continue,
    Stop,
}

impl<'a> Lexer<'a> {
    fn run(&mut self) {
        loop {
            let step = if self.brace_open {
                self.lex_inside_braces()
            } else {
                self.lex_statement()
            };
            if let Step::Stop = step {
                return;
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.input
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn emit(&mut self, kind: TokenKind, start: usize) -> Step {
        let text = self.input.get(start..self.pos).unwrap_or("");
        self.tokens.push(Token {
            kind,
            pos: start,
            text,
        });
        Step::Continue
    }

    fn error(&mut self, start: usize, message: String) -> Step {
        self.tokens.push(Token {
            kind: TokenKind::Error,
            pos: start,
            text: "",
        });
        self.error = Some(message);
        Step::Stop
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' || c == '\r' {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn lex_statement(&mut self) -> Step {
        let start = self.pos;
        let Some(c) = self.bump() else {
            if self.paren_depth != 0 {
                return self.error(start, "unclosed left parenthesis".into());
            }
            if self.bracket_open {
                return self.error(start, "unclosed left bracket".into());
            }
            self.emit(TokenKind::Eof, start);
            return Step::Stop;
        };
        match c {
            '#' => {
                self.skip_comment();
                Step::Continue
            }
            c if is_space(c) => Step::Continue,
            c if c.is_ascii_digit()
                || (c == '.' && self.peek().is_some_and(|n| n.is_ascii_digit())) =>
            {
                self.pos = start;
                self.lex_number_or_duration(start)
            }
            '"' | '\'' => self.lex_string(start, c),
            '`' => self.lex_raw_string(start),
            ':' if self.bracket_open => {
                if self.got_colon {
                    return self.error(start, "unexpected colon ':'".into());
                }
                self.got_colon = true;
                self.emit(TokenKind::Colon, start)
            }
            c if is_alpha(c) || c == ':' => {
                self.pos = start;
                self.lex_word(start)
            }
            c => match self.operator_or_bracket(c) {
                Ok(kind) => self.emit(kind, start),
                Err(message) => self.error(start, message),
            },
        }
    }

    /// Punctuation and operators outside braces; `c` is consumed.
    fn operator_or_bracket(&mut self, c: char) -> Result<TokenKind, String> {
        let kind = match c {
            ',' => TokenKind::Comma,
            '*' => TokenKind::Mul,
            '/' => TokenKind::Div,
            '%' => TokenKind::Mod,
            '+' => TokenKind::Add,
            '-' => TokenKind::Sub,
            '^' => TokenKind::Pow,
            '@' => TokenKind::At,
            '=' if self.accept("=") => TokenKind::Eql,
            '=' if self.peek() == Some('~') => {
                return Err("unexpected character after '=': '~'".into())
            }
            '=' => TokenKind::Assign,
            '!' => match self.bump() {
                Some('=') => TokenKind::Neq,
                other => {
                    let shown = other.map_or("EOF".to_string(), |c| format!("{c:?}"));
                    return Err(format!("unexpected character after '!': {shown}"));
                }
            },
            '<' if self.accept("=") => TokenKind::Lte,
            '<' if self.accept("/") => TokenKind::TrimUpper,
            '<' => TokenKind::Lss,
            '>' if self.accept("=") => TokenKind::Gte,
            '>' if self.accept("/") => TokenKind::TrimLower,
            '>' => TokenKind::Gtr,
            '(' => {
                self.paren_depth += 1;
                TokenKind::LeftParen
            }
            ')' => {
                if self.paren_depth == 0 {
                    return Err("unexpected right parenthesis ')'".into());
                }
                self.paren_depth -= 1;
                TokenKind::RightParen
            }
            '{' => {
                self.brace_open = true;
                TokenKind::LeftBrace
            }
            '[' => {
                if self.bracket_open {
                    return Err("unexpected left bracket '['".into());
                }
                self.bracket_open = true;
                self.got_colon = false;
                TokenKind::LeftBracket
            }
            ']' => {
                if !self.bracket_open {
                    return Err("unexpected right bracket ']'".into());
                }
                self.bracket_open = false;
                TokenKind::RightBracket
            }
            other => return Err(format!("unexpected character: {other:?}")),
        };
        Ok(kind)
    }

    fn lex_inside_braces(&mut self) -> Step {
        let start = self.pos;
        let Some(c) = self.bump() else {
            return self.error(start, "unexpected end of input inside braces".into());
        };
        let kind = match c {
            '#' => {
                self.skip_comment();
                return Step::Continue;
            }
            c if is_space(c) => return Step::Continue,
            c if is_alpha(c) => {
                while self.peek().is_some_and(is_alphanumeric) {
                    self.pos += 1;
                }
                TokenKind::Identifier
            }
            ',' => TokenKind::Comma,
            '"' | '\'' => return self.lex_string(start, c),
            '`' => return self.lex_raw_string(start),
            '=' => {
                if self.accept("~") {
                    TokenKind::RegexMatch
                } else {
                    TokenKind::Assign
                }
            }
            '!' => match self.bump() {
                Some('~') => TokenKind::RegexNoMatch,
                Some('=') => TokenKind::Neq,
                other => {
                    let shown = other.map_or("EOF".to_string(), |c| format!("{c:?}"));
                    return self.error(
                        start,
                        format!("unexpected character after '!' inside braces: {shown}"),
                    );
                }
            },
            '{' => return self.error(start, "unexpected left brace '{'".into()),
            '}' => {
                self.brace_open = false;
                TokenKind::RightBrace
            }
            other => {
                return self.error(
                    start,
                    format!("unexpected character inside braces: {other:?}"),
                )
            }
        };
        self.emit(kind, start)
    }

    /// A word outside braces: keyword, `Inf`/`NaN`, identifier or metric identifier.
    fn lex_word(&mut self, start: usize) -> Step {
        while self
            .peek()
            .is_some_and(|c| is_alphanumeric(c) || (c == ':' && !self.bracket_open))
        {
            self.pos += 1;
        }
        let word = self.input.get(start..self.pos).unwrap_or("");
        let lower = word.to_ascii_lowercase();
        let keyword = Keyword::from_word(word);
        if self.bracket_open {
            // Inside brackets only the duration-expression words exist.
            return match keyword {
                Some(k @ (Keyword::Step | Keyword::Range)) => {
                    self.emit(TokenKind::Keyword(k), start)
                }
                _ if word == "min_of" || word == "max_of" => {
                    self.emit(TokenKind::Identifier, start)
                }
                _ => {
                    let first = word.chars().next().unwrap_or(' ');
                    self.error(
                        start,
                        format!("unexpected character: {first:?}, expected ':'"),
                    )
                }
            };
        }
        // `fill`, `fill_left` and `fill_right` stay metric names unless a `(` follows,
        // as in Prometheus, so `fill + fill` keeps working.
        let is_fill = matches!(
            keyword,
            Some(Keyword::Fill | Keyword::FillLeft | Keyword::FillRight)
        );
        let kind = if lower == "inf" || lower == "nan" {
            TokenKind::Number
        } else if is_fill && !self.followed_by_left_paren() {
            TokenKind::Identifier
        } else if let Some(k) = keyword {
            TokenKind::Keyword(k)
        } else if word.contains(':') {
            TokenKind::MetricIdentifier
        } else {
            TokenKind::Identifier
        };
        self.emit(kind, start)
    }

    /// Whether the next non-space character is `(`.
    fn followed_by_left_paren(&self) -> bool {
        self.input
            .get(self.pos..)
            .and_then(|rest| rest.chars().find(|&c| !is_space(c)))
            == Some('(')
    }

    fn lex_number_or_duration(&mut self, start: usize) -> Step {
        if self.scan_number() {
            return self.emit(TokenKind::Number, start);
        }
        if self.accept_remaining_duration() {
            return self.emit(TokenKind::Duration, start);
        }
        // Include the offending character in the message, as Prometheus does.
        self.bump();
        let text = self.input.get(start..self.pos).unwrap_or("");
        self.error(start, format!("bad number or duration syntax: {text:?}"))
    }

    /// Prometheus' `scanNumber`: decimal, hex, exponent, `_` separators.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        let is_hex = digits.len() > 10;
        self.accept(".");
        self.accept(digits);
        let mut dot_seen = false;
        let mut exponent_seen = false;
        while let Some(c) = self
            .peek()
            .filter(|&c| digits.contains(c) || "._eE".contains(c))
        {
            if c == '.' {
                if dot_seen {
                    self.pos += 1;
                    return false;
                }
                self.pos += 1;
                dot_seen = true;
                if self.accept("_.") || is_hex {
                    return false;
                }
                continue;
            }
            if c == 'e' || c == 'E' {
                if exponent_seen {
                    self.pos += 1;
                    return false;
                }
                self.pos += 1;
                exponent_seen = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if c == '_' {
                self.pos += 1;
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            self.accept_run(digits);
        }
        if self.pos == initial {
            return false;
        }
        !self.peek().is_some_and(is_alphanumeric)
    }

    /// Prometheus' `acceptRemainingDuration`: units after the digits `scan_number` read.
    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            self.accept_run("0123456789");
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        !self.peek().is_some_and(is_alphanumeric)
    }

    /// A `"` or `'` string; escapes are checked here and resolved by the parser.
    fn lex_string(&mut self, start: usize, quote: char) -> Step {
        loop {
            match self.bump() {
                None | Some('\n') => return self.error(start, "unterminated quoted string".into()),
                Some('\\') => {
                    if let Err(message) = self.lex_escape(quote) {
                        return self.error(start, message);
                    }
                }
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(TokenKind::String, start)
    }

    /// Checks one escape sequence after `\`, as Go's scanner does.
    fn lex_escape(&mut self, quote: char) -> Result<(), String> {
        let Some(c) = self.bump() else {
            return Err("escape sequence not terminated".into());
        };
        let (count, base, max) = match c {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return Ok(()),
            c if c == quote => return Ok(()),
            '0'..='7' => {
                self.pos -= 1;
                (3, 8, 255)
            }
            'x' => (2, 16, 255),
            'u' => (4, 16, u32::from(char::MAX)),
            'U' => (8, 16, u32::from(char::MAX)),
            other => return Err(format!("unknown escape sequence {}", go_unicode(other))),
        };
        let mut value: u32 = 0;
        for _ in 0..count {
            let Some(c) = self.bump() else {
                return Err("escape sequence not terminated".into());
            };
            let Some(digit) = c.to_digit(base) else {
                return Err(format!(
                    "illegal character {} in escape sequence",
                    go_unicode(c)
                ));
            };
            value = value.saturating_mul(base).saturating_add(digit);
        }
        if value > max || (0xD800..0xE000).contains(&value) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn lex_raw_string(&mut self, start: usize) -> Step {
        loop {
            match self.bump() {
                None => return self.error(start, "unterminated raw string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(TokenKind::String, start)
    }
}
