//! Literal values: Go-syntax numbers (as `strconv.ParseInt(s, 0, 64)` then
//! `strconv.ParseFloat` read them) and quoted strings (as Prometheus' `strutil.Unquote`).

/// The value of a number token, `None` if Go would reject it.
///
/// Integers follow Go's base-0 rules: `0x1f` is hex, a leading `0` means octal
/// (`010` is 8) unless a digit 8 or 9 makes it a decimal float; `_` may separate
/// digits. Everything else is a float (`1e3`, `.5`, `Inf`, `NaN`).
pub fn parse_number(text: &str) -> Option<f64> {
    if text.contains('_') && !underscores_ok(text) {
        return None;
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(hex) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        // Go's ParseFloat needs a `p` exponent for hex, so only integers are valid.
        return i64::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if clean.len() > 1 && clean.starts_with('0') && clean.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = i64::from_str_radix(&clean, 8) {
            return Some(v as f64);
        }
    }
    let lower = clean.to_ascii_lowercase();
    match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if !lower
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
    {
        return None;
    }
    lower.parse::<f64>().ok()
}

/// Go's `underscoreOK`: each `_` sits between digits or after a base prefix.
fn underscores_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (mut previous, rest) = if bytes.len() >= 2
        && bytes.first() == Some(&b'0')
        && bytes.get(1).is_some_and(|b| b.eq_ignore_ascii_case(&b'x'))
    {
        (b'0', bytes.get(2..).unwrap_or(&[]))
    } else {
        (b'^', bytes)
    };
    let hex = previous == b'0';
    for &b in rest {
        let is_digit = b.is_ascii_digit() || (hex && b.is_ascii_hexdigit());
        if is_digit {
            previous = b'0';
        } else if b == b'_' {
            if previous != b'0' {
                return false;
            }
            previous = b'_';
        } else {
            if previous == b'_' {
                return false;
            }
            previous = b'!';
        }
    }
    previous != b'_'
}

/// Resolves a string token (quotes included) to its value.
///
/// `"…"` and `'…'` take Go escapes (`\n`, `\x41`, `\101`, `\u00e9`, `\U0001F600`);
/// backquoted strings are raw. Byte escapes that do not form UTF-8 become U+FFFD.
pub fn unquote(token: &str) -> Result<String, String> {
    let mut chars = token.chars();
    let quote = chars.next().ok_or("empty string token")?;
    let body = token
        .get(quote.len_utf8()..token.len().saturating_sub(quote.len_utf8()))
        .ok_or("unterminated string")?;
    if quote == '`' {
        return Ok(body.to_string());
    }
    let mut out: Vec<u8> = Vec::with_capacity(body.len());
    let mut rest = body.chars();
    while let Some(c) = rest.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let escaped = rest.next().ok_or("escape sequence not terminated")?;
        let simple = match escaped {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '\'' if quote == '\'' => Some(b'\''),
            '"' if quote == '"' => Some(b'"'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let (count, radix, is_byte) = match escaped {
            '0'..='7' => (2, 8, true),
            'x' => (2, 16, true),
            'u' => (4, 16, false),
            'U' => (8, 16, false),
            other => return Err(format!("unknown escape sequence \\{other}")),
        };
        let mut value = if radix == 8 {
            escaped.to_digit(8).unwrap_or(0)
        } else {
            0
        };
        for _ in 0..count {
            let digit = rest
                .next()
                .and_then(|d| d.to_digit(radix))
                .ok_or("invalid escape sequence")?;
            value = value.saturating_mul(radix).saturating_add(digit);
        }
        if is_byte {
            out.push(u8::try_from(value).map_err(|_| "octal escape out of range")?);
        } else {
            let c = char::from_u32(value).ok_or("invalid Unicode code point")?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let cases: [(&str, f64); 14] = [
            ("1", 1.0),
            ("1.5", 1.5),
            (".5", 0.5),
            ("2.", 2.0),
            ("1e3", 1000.0),
            ("12.34e-6", 12.34e-6),
            ("0x1f", 31.0),
            ("0X_1F", 31.0),
            ("010", 8.0),
            ("019", 19.0),
            ("1_000", 1000.0),
            ("inF", f64::INFINITY),
            ("Inf", f64::INFINITY),
            ("0", 0.0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_number(text), Some(want), "{text}");
        }
        assert!(parse_number("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_number("1__0"), None);
        assert_eq!(parse_number("1_"), None);
    }

    #[test]
    fn strings() {
        let cases = [
            (r#""a\nb""#, "a\nb"),
            (r#"'it\'s'"#, "it's"),
            (r#""\x41\101\u00e9\U0001F600""#, "AAé😀"),
            ("`a\\nb`", "a\\nb"),
            (r#""say \"hi\"""#, "say \"hi\""),
            ("\"\"", ""),
        ];
        for (token, want) in cases {
            assert_eq!(unquote(token).as_deref(), Ok(want), "{token}");
        }
    }
}
