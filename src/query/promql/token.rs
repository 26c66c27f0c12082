//! Tokens produced by the lexer: a kind, the byte offset where it starts and its text.

use std::fmt;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// End of the input.
    Eof,
    /// A lexical error; the token's text is the message.
    Error,
    /// A name without `:` (metric, label or function name).
    Identifier,
    /// A name containing `:`, only valid as a metric name.
    MetricIdentifier,
    /// A number literal, including `Inf` and `NaN`.
    Number,
    /// A duration literal such as `5m` or `1h30m`.
    Duration,
    /// A quoted string literal, quotes included.
    String,
    /// `(`
    LeftParen,
    /// `)`
    RightParen,
    /// `{`
    LeftBrace,
    /// `}`
    RightBrace,
    /// `[`
    LeftBracket,
    /// `]`
    RightBracket,
    /// `,`
    Comma,
    /// `:` (subquery step separator).
    Colon,
    /// `=` (label matcher).
    Assign,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
    /// `@`
    At,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `<`
    Lss,
    /// `<=`
    Lte,
    /// `>`
    Gtr,
    /// `>=`
    Gte,
    /// `</` (trim a native histogram's upper part)
    TrimUpper,
    /// `>/` (trim a native histogram's lower part)
    TrimLower,
    /// A keyword, operator word or aggregation name (compared in lower case).
    Keyword(Keyword),
}

/// Words with a meaning of their own outside braces; matched case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
    /// `atan2`
    Atan2,
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `count_values`
    CountValues,
    /// `quantile`
    Quantile,
    /// `limitk`
    Limitk,
    /// `limit_ratio`
    LimitRatio,
    /// `offset`
    Offset,
    /// `smoothed`
    Smoothed,
    /// `anchored`
    Anchored,
    /// `by`
    By,
    /// `without`
    Without,
    /// `on`
    On,
    /// `ignoring`
    Ignoring,
    /// `group_left`
    GroupLeft,
    /// `group_right`
    GroupRight,
    /// `bool`
    Bool,
    /// `fill` (a keyword only when followed by `(`)
    Fill,
    /// `fill_left` (a keyword only when followed by `(`)
    FillLeft,
    /// `fill_right` (a keyword only when followed by `(`)
    FillRight,
    /// `start`
    Start,
    /// `end`
    End,
    /// `step`
    Step,
    /// `range`
    Range,
}

impl Keyword {
    /// The keyword for a word, compared in lower case.
    pub fn from_word(word: &str) -> Option<Keyword> {
        let keyword = match word.to_ascii_lowercase().as_str() {
            "and" => Keyword::And,
            "or" => Keyword::Or,
            "unless" => Keyword::Unless,
            "atan2" => Keyword::Atan2,
            "sum" => Keyword::Sum,
            "avg" => Keyword::Avg,
            "count" => Keyword::Count,
            "min" => Keyword::Min,
            "max" => Keyword::Max,
            "group" => Keyword::Group,
            "stddev" => Keyword::Stddev,
            "stdvar" => Keyword::Stdvar,
            "topk" => Keyword::Topk,
            "bottomk" => Keyword::Bottomk,
            "count_values" => Keyword::CountValues,
            "quantile" => Keyword::Quantile,
            "limitk" => Keyword::Limitk,
            "limit_ratio" => Keyword::LimitRatio,
            "offset" => Keyword::Offset,
            "smoothed" => Keyword::Smoothed,
            "anchored" => Keyword::Anchored,
            "by" => Keyword::By,
            "without" => Keyword::Without,
            "on" => Keyword::On,
            "ignoring" => Keyword::Ignoring,
            "group_left" => Keyword::GroupLeft,
            "group_right" => Keyword::GroupRight,
            "bool" => Keyword::Bool,
            "fill" => Keyword::Fill,
            "fill_left" => Keyword::FillLeft,
            "fill_right" => Keyword::FillRight,
            "start" => Keyword::Start,
            "end" => Keyword::End,
            "step" => Keyword::Step,
            "range" => Keyword::Range,
            _ => return None,
        };
        Some(keyword)
    }

    /// Whether the keyword names an aggregation operator.
    pub fn is_aggregator(self) -> bool {
        matches!(
            self,
            Keyword::Sum
                | Keyword::Avg
                | Keyword::Count
                | Keyword::Min
                | Keyword::Max
                | Keyword::Group
                | Keyword::Stddev
                | Keyword::Stdvar
                | Keyword::Topk
                | Keyword::Bottomk
                | Keyword::CountValues
                | Keyword::Quantile
                | Keyword::Limitk
                | Keyword::LimitRatio
        )
    }

    /// Whether the keyword is a binary operator word (`and`, `or`, `unless`, `atan2`).
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Keyword::And | Keyword::Or | Keyword::Unless | Keyword::Atan2
        )
    }

    /// Whether Prometheus' grammar accepts the keyword as a metric name
    /// (`metric_identifier` in `generated_parser.y`).
    pub fn can_be_metric_name(self) -> bool {
        self.is_aggregator()
            || matches!(
                self,
                Keyword::By
                    | Keyword::Without
                    | Keyword::And
                    | Keyword::Or
                    | Keyword::Unless
                    | Keyword::Offset
                    | Keyword::Start
                    | Keyword::End
                    | Keyword::Step
                    | Keyword::Range
                    | Keyword::Anchored
                    | Keyword::Smoothed
            )
    }
}

/// One token: its kind, where it starts and the text it covers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of the first character.
    pub pos: usize,
    /// The text covered (for [`TokenKind::Error`], the error message).
    pub text: &'a str,
}

impl Token<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        match self.kind {
            TokenKind::Error | TokenKind::Eof => self.pos,
            _ => self.pos + self.text.len(),
        }
    }
}

impl fmt::Display for Token<'_> {
    /// Describes the token the way Prometheus' `Item.desc()` does in error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TokenKind::Eof => f.write_str("end of input"),
            TokenKind::Error => f.write_str(self.text),
            TokenKind::Identifier => write!(f, "identifier {:?}", self.text),
            TokenKind::MetricIdentifier => write!(f, "metric identifier {:?}", self.text),
            TokenKind::Number => write!(f, "number {:?}", self.text),
            TokenKind::Duration => write!(f, "duration {:?}", self.text),
            TokenKind::String => write!(f, "string {:?}", self.text),
            TokenKind::Keyword(keyword) if keyword.is_aggregator() => {
                write!(f, "<aggr:{}>", self.text.to_ascii_lowercase())
            }
            TokenKind::Keyword(keyword) if keyword.is_operator() => {
                write!(f, "<op:{}>", self.text.to_ascii_lowercase())
            }
            TokenKind::Keyword(_) => write!(f, "<{}>", self.text.to_ascii_lowercase()),
            TokenKind::Add
            | TokenKind::Sub
            | TokenKind::Mul
            | TokenKind::Div
            | TokenKind::Mod
            | TokenKind::Pow
            | TokenKind::Eql
            | TokenKind::Neq
            | TokenKind::Lss
            | TokenKind::Lte
            | TokenKind::Gtr
            | TokenKind::Gte
            | TokenKind::TrimUpper
            | TokenKind::TrimLower
            | TokenKind::RegexMatch
            | TokenKind::RegexNoMatch
            | TokenKind::At => write!(f, "<op:{}>", self.text),
            _ => write!(f, "{:?}", self.text),
        }
    }
}
