//! Issue 4: every label matcher kind, with regex edge cases, empty values and absent labels,
//! answered through `/api/v1/series` and `count(...)` in `/api/v1/query` exactly as a brute-force
//! scan over the written series with Prometheus' semantics says — before and after a restart.
//! Black-box (HTTP only), so it holds for any index behind the API.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{enc, now_ms, series, Server, TempDir};
use regex::Regex;
use strata::ingest::remote_write::proto::WriteRequest;

/// A series' labels; an empty value is the same as no label (Prometheus drops it).
type Labels = BTreeMap<String, String>;

const NAMES: [&str; 3] = ["im_a", "im_b", "im_c"];
/// Prefixes of each other, case variants, unicode.
const INSTANCES: [&str; 9] = [
    "host-1", "host-10", "host-1a", "host-2", "HOST-1", "host-1.5", "xhost-1", "hüst-1", "host-",
];
/// `None`: the label is not written at all; `Some("")`: written empty, which is absence too.
const ENVS: [Option<&str>; 14] = [
    None,
    Some(""),
    Some("prod"),
    Some("prod.eu"),
    Some("prodxeu"),
    Some("a|b"),
    Some("a"),
    Some("b"),
    Some("x+y"),
    Some("xxy"),
    Some("(p)"),
    Some("日"),
    Some("日本"),
    Some("ünïcödé"),
];

/// The series written: every name × instance × env, with a `zone` only on some, so that
/// label sets differ in which labels they have.
fn written() -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (n, name) in NAMES.iter().enumerate() {
        for (i, instance) in INSTANCES.iter().enumerate() {
            for (e, env) in ENVS.iter().enumerate() {
                let mut labels = vec![
                    ("__name__".to_string(), name.to_string()),
                    ("instance".to_string(), instance.to_string()),
                ];
                if let Some(env) = env {
                    labels.push(("env".to_string(), env.to_string()));
                }
                // Envs 0 (absent) and 1 (empty) get the same zone: they are one series.
                let z = n + i + e.max(1);
                if z % 3 == 0 {
                    labels.push(("zone".to_string(), format!("z{}", (i + e.max(1)) % 2)));
                }
                out.push(labels);
            }
        }
    }
    out
}

/// What the server should hold for a written label list.
fn stored(labels: &[(String, String)]) -> Labels {
    labels
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// A matcher: label name, operator, value (unescaped).
type Matcher = (&'static str, &'static str, &'static str);

/// Prometheus' matching: regexes fully anchored, a missing label reads as "".
fn matches(labels: &Labels, matchers: &[Matcher]) -> bool {
    matchers.iter().all(|&(name, op, value)| {
        let got = labels.get(name).map_or("", String::as_str);
        let regex = || Regex::new(&format!("^(?:{value})$")).unwrap();
        match op {
            "=" => got == value,
            "!=" => got != value,
            "=~" => regex().is_match(got),
            "!~" => !regex().is_match(got),
            other => panic!("unknown operator {other}"),
        }
    })
}

/// The selector text; values quoted as PromQL strings.
fn selector(matchers: &[Matcher]) -> String {
    let parts: Vec<String> = matchers
        .iter()
        .map(|(name, op, value)| {
            let quoted = value.replace('\\', "\\\\").replace('"', "\\\"");
            format!("{name}{op}\"{quoted}\"")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Selectors with at least one matcher that does not match "" (so Prometheus accepts them).
fn selectors() -> Vec<Vec<Matcher>> {
    let a = ("__name__", "=", "im_a");
    vec![
        vec![a],
        vec![("__name__", "!=", "im_a"), ("instance", "=", "host-1")],
        vec![("__name__", "=~", "im_a|im_c")],
        vec![("__name__", "=~", "im_.*")],
        vec![("__name__", "!~", "im_a|im_b"), ("instance", "=~", ".+")],
        // Literal prefixes of each other; anchoring.
        vec![a, ("instance", "=", "host-1")],
        vec![a, ("instance", "=~", "host-1")],
        vec![a, ("instance", "=~", "host-1.*")],
        vec![a, ("instance", "=~", "host-1.+")],
        vec![a, ("instance", "=~", "ost-1.*")],
        vec![a, ("instance", "=~", ".*-1")],
        vec![a, ("instance", "=~", "host-1|host-10")],
        vec![a, ("instance", "=~", "host-(1|2)")],
        vec![a, ("instance", "=~", "host-1\\..*")],
        vec![a, ("instance", "=~", "host-")],
        vec![a, ("instance", "!~", "host-1.*")],
        vec![a, ("instance", "!=", "host-1")],
        vec![a, ("instance", "=~", "(?i)HOST-1.*")],
        vec![a, ("instance", "=~", "h.st-1")],
        // Empty values and absence.
        vec![a, ("env", "=~", ".*")],
        vec![a, ("env", "=~", ".+")],
        vec![a, ("env", "=~", "")],
        vec![a, ("env", "=", "")],
        vec![a, ("env", "!=", "")],
        vec![a, ("env", "!~", "")],
        vec![a, ("env", "!~", ".*")],
        vec![a, ("env", "!~", ".+")],
        vec![a, ("env", "=~", "prod|")],
        vec![a, ("env", "!~", "prod|")],
        vec![a, ("env", "=~", "(prod)?")],
        vec![a, ("env", "!=", "prod")],
        vec![a, ("nolabel", "=", "")],
        vec![a, ("nolabel", "=", "x")],
        vec![a, ("nolabel", "!=", "")],
        vec![a, ("nolabel", "=~", ".*")],
        vec![a, ("nolabel", "=~", ".+")],
        vec![("nolabel", "=~", ".+")],
        vec![a, ("zone", "=~", "z0|")],
        // Regex metacharacters in values.
        vec![a, ("env", "=", "a|b")],
        vec![a, ("env", "=~", "a|b")],
        vec![a, ("env", "=~", "a\\|b")],
        vec![a, ("env", "=", "x+y")],
        vec![a, ("env", "=~", "x+y")],
        vec![a, ("env", "=~", "x\\+y")],
        vec![a, ("env", "=", "(p)")],
        vec![a, ("env", "=~", "(p)")],
        vec![a, ("env", "=~", "prod.eu")],
        vec![a, ("env", "=~", "prod\\.eu")],
        vec![a, ("env", "=~", "prod.*")],
        // Unicode: `.` is one character, not one byte.
        vec![a, ("env", "=~", ".")],
        vec![a, ("env", "=~", "..")],
        vec![a, ("env", "=", "日本")],
        vec![a, ("env", "=~", "ü.*")],
        vec![("instance", "=~", "h.st-1")],
        // Several matchers, positive and negative together.
        vec![
            ("__name__", "=", "im_b"),
            ("instance", "=~", "host-1.*"),
            ("env", "!=", ""),
        ],
        vec![
            ("__name__", "=~", "im_b|im_c"),
            ("instance", "!~", "host-1.*"),
            ("env", "=~", "prod.*|"),
            ("zone", "!=", "z1"),
        ],
        vec![("instance", "=~", "host-1.*"), ("zone", "=", "z1")],
        vec![("env", "=~", ".+"), ("zone", "!~", ".+")],
    ]
}

/// Selectors where every matcher matches "": Prometheus refuses them.
fn empty_matching_selectors() -> Vec<Vec<Matcher>> {
    vec![
        vec![("env", "=", "")],
        vec![("env", "=~", ".*")],
        vec![("env", "!~", ".+")],
        vec![("env", "!=", "prod")],
        vec![("env", "=~", "prod|"), ("zone", "=~", "")],
    ]
}

fn series_api(server: &Server, sel: &str, t_ms: i64) -> BTreeSet<Labels> {
    let data = server.get_data(&format!(
        "/api/v1/series?match[]={}&start={}&end={}",
        enc(sel),
        (t_ms - 3_600_000) / 1000,
        (t_ms + 3_600_000) / 1000
    ));
    data.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .collect()
}

fn count_query(server: &Server, sel: &str, t_ms: i64) -> usize {
    let data = server.get_data(&format!(
        "/api/v1/query?query={}&time={}",
        enc(&format!("count({sel})")),
        t_ms as f64 / 1000.0 + 2.0
    ));
    let result = data["result"].as_array().unwrap();
    match result.as_slice() {
        [] => 0,
        [one] => one["value"][1].as_str().unwrap().parse().unwrap(),
        more => panic!("count({sel}) gave {} elements", more.len()),
    }
}

fn check_all(server: &Server, all: &[Labels], t_ms: i64) {
    for matchers in selectors() {
        let sel = selector(&matchers);
        let want: BTreeSet<Labels> = all
            .iter()
            .filter(|l| matches(l, &matchers))
            .cloned()
            .collect();
        let got = series_api(server, &sel, t_ms);
        if got != want {
            let missing: Vec<_> = want.difference(&got).take(5).collect();
            let extra: Vec<_> = got.difference(&want).take(5).collect();
            panic!(
                "series {sel}: got {}, want {}; missing {missing:?}; extra {extra:?}",
                got.len(),
                want.len()
            );
        }
        assert_eq!(count_query(server, &sel, t_ms), want.len(), "count({sel})");
    }
    for matchers in empty_matching_selectors() {
        let sel = selector(&matchers);
        for path in [
            format!("/api/v1/series?match[]={}", enc(&sel)),
            format!("/api/v1/query?query={}", enc(&format!("count({sel})"))),
        ] {
            let response = server.get(&path);
            assert_eq!(response.status, 400, "{path}: {}", response.text());
            let json = response.json();
            assert_eq!(json["errorType"], "bad_data", "{path}: {json}");
            assert!(
                json["error"]
                    .as_str()
                    .unwrap()
                    .contains("at least one non-empty matcher"),
                "{path}: {json}"
            );
        }
    }
    let response = server.get(&format!("/api/v1/series?match[]={}", enc("{env=~\"(\"}")));
    assert_eq!(response.status, 400, "invalid regex: {}", response.text());
}

#[test]
fn every_matcher_kind_agrees_with_a_brute_force_scan() {
    let dir = TempDir::new("index-matchers");
    let server = Server::start(dir.path(), &[]);
    let t_ms = (now_ms() - 120_000) / 1000 * 1000;
    let written = written();
    assert!(written.len() >= 300, "{} series", written.len());
    for chunk in written.chunks(100) {
        let timeseries = chunk
            .iter()
            .enumerate()
            .map(|(k, labels)| {
                let pairs: Vec<(&str, &str)> = labels
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                // The empty-env twin of a series without env gets a later sample: same series.
                let empty_env = labels.iter().any(|(n, v)| n == "env" && v.is_empty());
                let ts = if empty_env { t_ms + 1000 } else { t_ms };
                series(&pairs, &[(ts, k as f64)])
            })
            .collect();
        let response = server.remote_write(&WriteRequest {
            timeseries,
            metadata: vec![],
        });
        assert_eq!(response.status, 204, "{}", response.text());
    }
    let all: Vec<Labels> = written.iter().map(|l| stored(l)).collect();
    let distinct: BTreeSet<&Labels> = all.iter().collect();
    // `env=""` and no env are one series: the write of the second adds a sample to the first.
    assert_eq!(distinct.len(), all.len() - NAMES.len() * INSTANCES.len());
    let all: Vec<Labels> = distinct.into_iter().cloned().collect();

    check_all(&server, &all, t_ms);
    assert!(server.stop().success());
    let server = Server::start(dir.path(), &[]);
    check_all(&server, &all, t_ms);
    assert!(server.stop().success());
}
