//! Query-string and form-body parameters (`application/x-www-form-urlencoded`).

/// Parameters in arrival order; names may repeat (`match[]`).
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses `a=1&b=2` (percent-decoding, `+` as space) and appends the pairs.
    pub fn parse_into(&mut self, raw: &[u8]) {
        for piece in raw.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(i) => (
                    piece.get(..i).unwrap_or_default(),
                    piece.get(i + 1..).unwrap_or_default(),
                ),
                None => (piece, &[][..]),
            };
            self.pairs
                .push((percent_decode(name), percent_decode(value)));
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a pair.
    pub fn push(&mut self, name: &str, value: &str) {
        self.pairs.push((name.to_string(), value.to_string()));
    }
}

/// Decodes `%XX` escapes and `+`; invalid escapes are kept literally, invalid UTF-8 replaced.
pub fn percent_decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&byte) = raw.get(i) {
        match byte {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = raw
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(decoded) => {
                        out.push(decoded);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeated_and_encoded() {
        let mut p = Params::default();
        p.parse_into(b"match%5B%5D=up&match[]=%7Bjob%3D%22a+b%22%7D&flag&x=%zz");
        let all: Vec<_> = p.get_all("match[]").collect();
        assert_eq!(all, vec!["up", "{job=\"a b\"}"]);
        assert_eq!(p.get("flag"), Some(""));
        assert_eq!(p.get("x"), Some("%zz"));
        assert_eq!(p.get("none"), None);
    }
}
