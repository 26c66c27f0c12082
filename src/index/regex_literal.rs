//! What a regex matcher can be turned into index lookups: a literal alternation (`a|b|c`),
//! or a literal prefix (`host-1.*`). Conservative: any doubt means "neither" (a scan of the
//! label's values, each tested with the regex, stays correct).

/// Characters with a meaning in Go/RE2 syntax.
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

/// The alternatives when `regex` (anchored, as Prometheus anchors it) is a plain
/// alternation of literals, each matching only itself.
pub fn literal_alternation(regex: &str) -> Option<Vec<String>> {
    let alternatives: Vec<&str> = regex.split('|').collect();
    if alternatives.iter().any(|a| a.chars().any(is_meta)) {
        return None;
    }
    let mut out: Vec<String> = alternatives.into_iter().map(str::to_string).collect();
    out.sort();
    out.dedup();
    Some(out)
}

/// A prefix every value matching `regex` starts with (may be empty: then it gives nothing).
pub fn literal_prefix(regex: &str) -> String {
    // A top-level alternation makes any prefix wrong ("ab|cd"); a nested one is fine.
    let mut depth = 0i32;
    let mut escaped = false;
    for c in regex.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth <= 0 => return String::new(),
            _ => {}
        }
    }
    let mut prefix: String = regex.chars().take_while(|&c| !is_meta(c)).collect();
    // The next token may make the last literal optional or repeated (`ab?`, `ab*`, `ab{0,1}`).
    let next = regex.chars().nth(prefix.chars().count());
    if matches!(next, Some('?' | '*' | '{')) {
        prefix.pop();
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternations_and_prefixes() {
        assert_eq!(
            literal_alternation("b|a|b"),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(literal_alternation("abc"), Some(vec!["abc".to_string()]));
        assert_eq!(literal_alternation(""), Some(vec![String::new()]));
        assert_eq!(literal_alternation("a.|b"), None);
        assert_eq!(literal_alternation("(?i)a"), None);
        assert_eq!(literal_prefix("host-1.*"), "host-1");
        assert_eq!(literal_prefix("host-(1|2)"), "host-");
        assert_eq!(literal_prefix("ab|cd"), "");
        assert_eq!(literal_prefix("ab?c"), "a");
        assert_eq!(literal_prefix("ab*"), "a");
        assert_eq!(literal_prefix("ab{0,2}"), "a");
        assert_eq!(literal_prefix("ab+"), "ab");
        assert_eq!(literal_prefix(".*"), "");
        assert_eq!(literal_prefix("(?i)abc"), "");
        assert_eq!(literal_prefix("a\\.b"), "a");
    }
}
