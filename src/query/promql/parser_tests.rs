//! Table tests of the parser, type checker and printer: precedence, every node
//! kind, literal forms, canonical printing and errors with their positions.

use super::ast::*;
use super::duration_expr::DurationExpr;
use super::functions::Function;
use super::{parse, ValueType};
use crate::model::MatchOp;

fn parsed(input: &str) -> Expr {
    parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

/// A fully parenthesized rendering that makes the tree's shape visible.
fn shape(expr: &Expr) -> String {
    match expr {
        Expr::Number(n) => super::printer::format_float(n.value),
        Expr::String(s) => format!("{:?}", s.value),
        Expr::VectorSelector(v) => v.name.clone().unwrap_or_else(|| "{..}".into()),
        Expr::MatrixSelector(m) => format!("{}[{}]", shape_selector(&m.selector), m.range_ms),
        Expr::Subquery(s) => format!("{}[{}:{:?}]", shape(&s.expr), s.range_ms, s.step_ms),
        Expr::Call(c) => format!(
            "{}({})",
            c.func.name,
            c.args.iter().map(shape).collect::<Vec<_>>().join(" ")
        ),
        Expr::Aggregate(a) => match &a.param {
            Some(p) => format!("{}({} {})", a.op.as_str(), shape(p), shape(&a.expr)),
            None => format!("{}({})", a.op.as_str(), shape(&a.expr)),
        },
        Expr::Binary(b) => format!("({} {} {})", b.op.as_str(), shape(&b.lhs), shape(&b.rhs)),
        Expr::Unary(u) => format!("(neg {})", shape(&u.expr)),
        Expr::Paren(p) => format!("[{}]", shape(&p.expr)),
    }
}

fn shape_selector(v: &VectorSelector) -> String {
    v.name.clone().unwrap_or_else(|| "{..}".into())
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("1 * 2 + 3", "(+ (* 1 2) 3)"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"),
        ("-2 ^ 2", "(neg (^ 2 2))"),
        ("-2", "-2"),
        ("- - 2", "2"),
        ("-a * b", "(* (neg a) b)"),
        ("-a ^ b", "(neg (^ a b))"),
        ("a + -b", "(+ a (neg b))"),
        ("2 ^ -1", "(^ 2 -1)"),
        ("a or b and c", "(or a (and b c))"),
        ("a and b unless c", "(unless (and a b) c)"),
        ("a or b or c", "(or (or a b) c)"),
        ("a == b + c", "(== a (+ b c))"),
        ("a > bool b or c", "(or (> a b) c)"),
        ("a * b atan2 c", "(atan2 (* a b) c)"),
        ("a % b / c", "(/ (% a b) c)"),
        ("a + b offset 5m", "(+ a b)"),
        ("(1 + 2) * 3", "(* [(+ 1 2)] 3)"),
        ("a </ 2 + 1", "(+ (</ a 2) 1)"),
        ("1 - 1", "(- 1 1)"),
        ("1 - -1", "(- 1 -1)"),
    ];
    for (input, want) in cases {
        assert_eq!(shape(&parsed(input)), want, "{input}");
    }
}

#[test]
fn literals() {
    let numbers: [(&str, f64); 14] = [
        ("42", 42.0),
        ("1.234", 1.234),
        (".123", 0.123),
        ("2.", 2.0),
        ("1.23e-3", 1.23e-3),
        ("12.34e+6", 12.34e6),
        ("0x3d", 61.0),
        ("0X1F", 31.0),
        ("1_000", 1000.0),
        ("010", 8.0),
        ("+Inf", f64::INFINITY),
        ("-inF", f64::NEG_INFINITY),
        ("5m", 300.0),
        ("-0.2e-6", -0.2e-6),
    ];
    for (input, want) in numbers {
        match parsed(input) {
            Expr::Number(n) => assert_eq!(n.value, want, "{input}"),
            other => panic!("{input}: {other:?}"),
        }
    }
    assert!(matches!(parsed("NaN"), Expr::Number(n) if n.value.is_nan()));
    assert!(matches!(parsed("nan"), Expr::Number(n) if n.value.is_nan()));
    let strings = [
        (r#""a\tb""#, "a\tb"),
        (r#"'single \' quote'"#, "single ' quote"),
        ("`raw \\n`", "raw \\n"),
        (r#""\u00e9\x41\101""#, "éAA"),
        (r#""日本""#, "日本"),
    ];
    for (input, want) in strings {
        match parsed(input) {
            Expr::String(s) => assert_eq!(s.value, want, "{input}"),
            other => panic!("{input}: {other:?}"),
        }
    }
}

fn selector(input: &str) -> VectorSelector {
    match parsed(input) {
        Expr::VectorSelector(v) => *v,
        other => panic!("{input}: {other:?}"),
    }
}

#[test]
fn vector_selectors() {
    let v = selector(r#"http_requests{job="api", code=~"5..", path!="/", x!~"y"}"#);
    assert_eq!(v.name.as_deref(), Some("http_requests"));
    let ops: Vec<(&str, MatchOp, &str)> = v
        .matchers
        .iter()
        .map(|m| (m.name.as_str(), m.op, m.value.as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("job", MatchOp::Equal, "api"),
            ("code", MatchOp::RegexMatch, "5.."),
            ("path", MatchOp::NotEqual, "/"),
            ("x", MatchOp::RegexNoMatch, "y"),
            ("__name__", MatchOp::Equal, "http_requests"),
        ]
    );
    assert_eq!(v.span, Span::new(0, 56));

    let v = selector("foo offset -5m @ 100.5");
    assert_eq!(
        (v.offset_ms, v.at),
        (-300_000, Some(At::Timestamp(100_500)))
    );
    let v = selector("foo @ start() offset 50");
    assert_eq!((v.offset_ms, v.at), (50_000, Some(At::Start)));
    assert_eq!(selector("foo @ end()").at, Some(At::End));
    assert_eq!(selector("foo @ 1m40s").at, Some(At::Timestamp(100_000)));
    assert_eq!(selector("foo @ -1").at, Some(At::Timestamp(-1_000)));

    // Keywords are metric names where Prometheus allows them.
    for name in [
        "sum", "by", "on", "offset", "and", "start", "fill", "anchored",
    ] {
        let input = format!("{name}{{a=\"b\"}}");
        let result = parse(&input);
        if name == "on" {
            assert!(result.is_err(), "{input}");
        } else {
            let v = selector(&input);
            assert_eq!(v.name.as_deref(), Some(name), "{input}");
        }
    }
    assert_eq!(selector("sum").name.as_deref(), Some("sum"));
    assert_eq!(selector("a:b:c").name.as_deref(), Some("a:b:c"));
    // Inside braces keywords are label names.
    assert_eq!(selector(r#"x{by="1", on="2"}"#).matchers.len(), 3);

    // UTF-8 names in quotes.
    let v = selector(r#"{"my.metric", "label.name"="x"}"#);
    assert_eq!(v.name, None);
    assert_eq!(v.matchers[0].name, "__name__");
    assert_eq!(v.matchers[0].value, "my.metric");
    assert_eq!(v.matchers[1].name, "label.name");
}

#[test]
fn matrix_selectors_and_subqueries() {
    let Expr::MatrixSelector(m) = parsed("foo[1h30m] offset 1w @ 10") else {
        panic!("not a matrix");
    };
    assert_eq!(m.range_ms, 5_400_000);
    assert_eq!(m.selector.offset_ms, 604_800_000);
    assert_eq!(m.selector.at, Some(At::Timestamp(10_000)));
    assert_eq!(parsed("foo[10]").value_type(), ValueType::Matrix);
    let Expr::MatrixSelector(m) = parsed("foo[100ms]") else {
        panic!("not a matrix");
    };
    assert_eq!(m.range_ms, 100);

    let Expr::Subquery(s) = parsed("rate(foo[5m])[30m:1m] offset 2m") else {
        panic!("not a subquery");
    };
    assert_eq!(
        (s.range_ms, s.step_ms, s.offset_ms),
        (1_800_000, Some(60_000), 120_000)
    );
    let Expr::Subquery(s) = parsed("(a + b)[1h:]") else {
        panic!("not a subquery");
    };
    assert_eq!(s.step_ms, None);

    // Duration expressions: constant ones fold, others stay for the evaluator.
    let Expr::MatrixSelector(m) = parsed("foo[5m+1m]") else {
        panic!("not a matrix");
    };
    assert_eq!(m.range_ms, 360_000);
    let Expr::MatrixSelector(m) = parsed("foo[step()*2]") else {
        panic!("not a matrix");
    };
    assert_eq!(m.range_ms, 0);
    assert_eq!(
        m.range_expr.as_ref().and_then(|e| e.eval_ms(15_000, 0)),
        Some(30_000)
    );
    let v = selector("foo offset -(1m + 30s)");
    assert_eq!(v.offset_ms, -90_000);
    let v = selector("foo offset min_of(range(), 8s)");
    assert!(matches!(v.offset_expr, Some(DurationExpr::MinOf(..))));

    let Expr::MatrixSelector(m) = parsed("foo[5m] anchored") else {
        panic!("not a matrix");
    };
    assert!(m.selector.anchored);
    assert!(selector("foo smoothed").smoothed);
}

#[test]
fn calls_and_aggregations() {
    let Expr::Call(c) = parsed("label_join(up, \"d\", \",\", \"a\", \"b\", \"c\")") else {
        panic!("not a call");
    };
    assert_eq!(c.func.function, Function::LabelJoin);
    assert_eq!(c.args.len(), 6);
    assert_eq!(parsed("time()").value_type(), ValueType::Scalar);
    assert_eq!(parsed("hour()").value_type(), ValueType::Vector);
    assert_eq!(parsed("STEP()").to_string(), "step()");
    assert_eq!(parsed("min_of(1, 2)").value_type(), ValueType::Scalar);
    let Expr::Call(c) = parsed("holt_winters(foo[5m], 0.5, 0.5)") else {
        panic!("not a call");
    };
    assert_eq!(c.func.function, Function::DoubleExponentialSmoothing);

    let ops = [
        "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar",
    ];
    for op in ops {
        let Expr::Aggregate(a) = parsed(&format!("{op} by (job) (x)")) else {
            panic!("{op}");
        };
        assert_eq!(a.op.as_str(), op);
        assert_eq!(a.grouping, ["job"]);
        assert!(!a.without && a.param.is_none());
    }
    for (input, op) in [
        ("topk(3, x)", AggregateOp::Topk),
        ("bottomk(3, x)", AggregateOp::Bottomk),
        ("quantile(0.9, x)", AggregateOp::Quantile),
        ("count_values(\"v\", x)", AggregateOp::CountValues),
        ("limitk(2, x)", AggregateOp::Limitk),
        ("limit_ratio(0.5, x)", AggregateOp::LimitRatio),
    ] {
        let Expr::Aggregate(a) = parsed(input) else {
            panic!("{input}");
        };
        assert_eq!(a.op, op);
        assert!(a.param.is_some(), "{input}");
    }
    let Expr::Aggregate(a) = parsed("sum(x) without (a, b,)") else {
        panic!("not an aggregation");
    };
    assert!(a.without);
    assert_eq!(a.grouping, ["a", "b"]);
    let Expr::Aggregate(a) = parsed("SUM BY (on, \"a.b\") (x)") else {
        panic!("not an aggregation");
    };
    assert_eq!(a.grouping, ["on", "a.b"]);
}

fn binary(input: &str) -> Binary {
    match parsed(input) {
        Expr::Binary(b) => *b,
        other => panic!("{input}: {other:?}"),
    }
}

#[test]
fn binary_matching() {
    let b = binary("a * on(x, y) group_left(z) b");
    let m = b.matching.expect("matching");
    assert_eq!(m.card, Cardinality::ManyToOne);
    assert!(m.on);
    assert_eq!(
        (m.labels, m.include),
        (vec!["x".into(), "y".into()], vec!["z".into()])
    );

    let m = binary("a / ignoring(x) group_right b")
        .matching
        .expect("matching");
    assert_eq!(m.card, Cardinality::OneToMany);
    assert!(!m.on && m.include.is_empty());

    let m = binary("a and b").matching.expect("matching");
    assert_eq!(m.card, Cardinality::ManyToMany);
    assert_eq!(
        binary("a + b").matching.map(|m| m.card),
        Some(Cardinality::OneToOne)
    );
    assert_eq!(binary("a + 1").matching, None);

    let b = binary("1 > bool 2");
    assert!(b.return_bool);
    assert_eq!(Expr::Binary(Box::new(b)).value_type(), ValueType::Scalar);

    let m = binary("a + fill_left(5) fill_right(-Inf) b")
        .matching
        .expect("matching");
    assert_eq!(
        (m.fill_left, m.fill_right),
        (Some(5.0), Some(f64::NEG_INFINITY))
    );
    assert_eq!(shape(&parsed("fill + fill(0) other")), "(+ fill other)");
}

#[test]
fn printing_is_canonical() {
    let cases: [(&str, &str); 40] = [
        ("foo", "foo"),
        ("foo{}", "foo"),
        (r#"foo{b="2",a=~"1"}"#, r#"foo{a=~"1",b="2"}"#),
        (r#"{__name__="foo"}"#, r#"{__name__="foo"}"#),
        ("foo offset 90s @ 10", "foo @ 10.000 offset 1m30s"),
        ("foo offset -5m", "foo offset -5m"),
        ("foo[5m] @ start()", "foo[5m] @ start()"),
        ("foo[7d]", "foo[1w]"),
        ("foo[90d]", "foo[90d]"),
        ("rate(foo[5m])[1h:]", "rate(foo[5m])[1h:]"),
        ("foo[5m:0s]", "foo[5m:]"),
        ("sum by(a,b)(x)", "sum by (a, b) (x)"),
        ("sum(x) without (a)", "sum without (a) (x)"),
        ("topk(5,x)", "topk(5, x)"),
        ("a+on(x)group_left(y)b", "a + on (x) group_left (y) b"),
        ("a+ignoring(x)b", "a + ignoring (x) b"),
        ("a + on() b", "a + on () b"),
        ("a>bool 1", "a > bool 1"),
        ("-foo", "-foo"),
        ("- 1", "-1"),
        ("1000000", "1000000"),
        ("0.00001", "0.00001"),
        ("1e300", &format!("1{}", "0".repeat(300))),
        ("5m", "5m"),
        ("-90s", "-1m30s"),
        (
            "a * ignoring() group_left b",
            "a * ignoring () group_left () b",
        ),
        (
            "foo @ 1 anchored offset 1m",
            "foo @ 1.000 anchored offset 1m",
        ),
        (
            "foo[1m] anchored offset 1m @ 1",
            "foo[1m] anchored @ 1.000 offset 1m",
        ),
        ("a + fill_left(1e6) b", "a + fill_left (1e+06) b"),
        ("123456", "123456"),
        ("Inf", "+Inf"),
        (r#""a\"b\n""#, r#""a\"b\n""#),
        ("'x'", r#""x""#),
        (
            r#"{"my.metric","a.b"="c"}"#,
            r#"{"a.b"="c",__name__="my.metric"}"#,
        ),
        ("sum by (\"a.b\") (x)", "sum by (\"a.b\") (x)"),
        ("foo[5m+1m]", "foo[5m + 1m]"),
        ("foo offset (step())", "foo offset (step())"),
        ("a + fill(0) b", "a + fill (0) b"),
        ("increase(foo[1m] anchored)", "increase(foo[1m] anchored)"),
        ("(a)", "(a)"),
    ];
    for (input, want) in cases {
        assert_eq!(parsed(input).to_string(), want, "{input}");
    }
}

#[test]
fn errors_with_positions() {
    let cases = [
        ("", "1:1: parse error: no expression found in input"),
        ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        (r#"{a=~".*"}"#, "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        (r#"foo{__name__="bar"}"#, "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""),
        ("1 +", "1:4: parse error: unexpected end of input"),
        ("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
        ("a + bool b", "1:3: parse error: bool modifier can only be used on comparison operators"),
        ("1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"),
        ("a and on(x) group_left b", "1:1: parse error: no grouping allowed for \"and\" operation"),
        ("1 + on(x) a", "1:1: parse error: vector matching only allowed between instant vectors"),
        ("a * on(x) group_left(x) b", "1:3: parse error: label \"x\" must not occur in ON and GROUP clause at once"),
        ("a * group_left b", "1:5: parse error: unexpected <group_left>"),
        ("foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"),
        ("rate(foo)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
        ("rate(foo[5m], 1)", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2"),
        ("label_join(a)", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1"),
        ("round(a, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"),
        ("nope(a)", "1:1: parse error: unknown function with name \"nope\""),
        ("rate(a[5m],)", "1:11: parse error: trailing commas not allowed in function call args"),
        ("sum(a[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector"),
        ("topk(a, b)", "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"),
        ("count_values(1, b)", "1:14: parse error: expected type string in aggregation parameter, got scalar"),
        ("sum()", "1:1: parse error: no arguments for aggregate expression provided"),
        ("topk(a)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
        ("(foo)[5m]", "1:6: parse error: ranges only allowed for vector selectors"),
        ("foo offset 5m [5m]", "1:15: parse error: no offset modifiers allowed before range"),
        ("foo @ 1 [5m]", "1:9: parse error: no @ modifiers allowed before range"),
        ("foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"),
        ("foo[5m][10m:1m]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"),
        ("1 offset 5m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
        ("foo offset 1m offset 2m", "1:1: parse error: offset may not be set multiple times"),
        ("(foo) @ 1", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
        ("foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"),
        ("foo @ 1e30", "1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000019884624838656.000000"),
        ("foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"),
        ("-\"a\"", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""),
        ("foo[1m-2m]", "1:5: parse error: duration must be greater than 0"),
        ("foo[", "1:5: parse error: unclosed left bracket"),
        ("foo[]", "1:5: parse error: unexpected \"]\" in subquery selector, expected number or duration"),
        ("foo offset", "1:11: parse error: unexpected end of input in offset, expected number or duration"),
        ("foo[5m] smoothed anchored", "1:1: parse error: anchored and smoothed modifiers cannot be used together"),
        ("foo[5m:] anchored", "1:1: parse error: anchored modifier is not supported for subqueries"),
        ("foo[5x]", "1:5: parse error: bad number or duration syntax: \"5x\""),
        ("foo[1m1h]", "1:5: parse error: not a valid duration string: \"1m1h\""),
        ("foo{a}", "1:6: parse error: unexpected \"}\" in label matching, expected label matching operator"),
        ("foo{a=1}", "1:7: parse error: unexpected character inside braces: '1'"),
        ("(1 + 2", "1:7: parse error: unclosed left parenthesis"),
        ("1 + 2)", "1:6: parse error: unexpected right parenthesis ')'"),
        ("foo[5m", "1:7: parse error: unclosed left bracket"),
        ("\"abc", "1:1: parse error: unterminated quoted string"),
        ("\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"),
        ("a =~ b", "1:3: parse error: unexpected character after '=': '~'"),
        ("sum by (a:b) (x)", "1:9: parse error: unexpected metric identifier \"a:b\" in grouping opts, expected label"),
        ("foo bar", "1:5: parse error: unexpected identifier \"bar\""),
        ("1 + fill(0) 2", "1:1: parse error: filling in missing series only allowed between instant vectors"),
        ("a and fill(0) b", "1:1: parse error: filling in missing series not allowed for set operators"),
        ("info(a, b)", "1:9: parse error: expected label selectors only, got vector selector instead"),
        ("foo\n  + bar[5m]", "2:5: parse error: binary expression must contain only scalar and instant vector types"),
    ];
    for (input, want) in cases {
        match parse(input) {
            Ok(expr) => panic!("{input:?} parsed as {expr}"),
            Err(error) => assert_eq!(error.to_string(), want, "{input:?}"),
        }
    }
}

#[test]
fn bad_regex_is_a_parse_error_at_the_matcher() {
    let error = parse(r#"foo{a=~"("}"#).err().map(|e| e.to_string());
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.starts_with("1:5: parse error: invalid regular expression \"(\"")),
        "{error:?}"
    );
}

#[test]
fn info_accepts_empty_data_selectors() {
    assert!(parse(r#"info(metric, {data=~".*"})"#).is_ok());
    let error = parse("info(metric, 1)").err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("1:1: parse error: expected type instant vector in call to function \"info\", got scalar")
    );
}

mod robustness {
    use proptest::prelude::*;

    use super::parse;

    /// Fragments that combine into plausible and implausible queries.
    const PIECES: &[&str] = &[
        "foo",
        "bar",
        "sum",
        "by",
        "on",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "5m",
        "1",
        "0x1f",
        "\"a\"",
        "'b'",
        "`c`",
        "=",
        "=~",
        "!=",
        "+",
        "-",
        "*",
        "^",
        "</",
        "and",
        "offset",
        "@",
        "start()",
        "rate",
        "group_left",
        "bool",
        "==",
        " ",
        "\n",
        "#x\n",
        "1e3",
        "step()",
        "fill(0)",
        "anchored",
        "Inf",
        "é",
        "\\",
        "min_of",
        ".5",
        "x:y",
    ];

    proptest! {
        // Failing seeds are kept beside this file (`parser_tests.regressions`).
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
            )),
            ..ProptestConfig::default()
        })]

        /// Goal: no input makes the parser panic, and whatever parses prints
        /// back to text that parses to the same printed form.
        #[test]
        fn never_panics_and_reprints(parts in proptest::collection::vec(0..PIECES.len(), 0..14)) {
            let input: String = parts.iter().map(|&i| PIECES[i]).collect();
            if let Ok(expr) = parse(&input) {
                let printed = expr.to_string();
                // Prometheus prints Inf as `+Inf`, which re-parses as a (value
                // preserving) unary plus when a `^` follows; not a printer bug.
                prop_assume!(!printed.contains("Inf ^"));
                let again = parse(&printed);
                prop_assert!(again.is_ok(), "{input:?} printed as {printed:?}: {again:?}");
                prop_assert_eq!(again.map(|e| e.to_string()).unwrap_or_default(), printed);
            }
        }

        /// Goal: arbitrary text (any Unicode) never panics the lexer or parser.
        #[test]
        fn arbitrary_text_never_panics(input in "\\PC{0,40}") {
            let _ = parse(&input);
        }
    }
}

#[test]
fn depth_is_bounded_not_a_crash() {
    // Goal: no input can overflow the stack of the parser, checker, printer or
    // `Drop`; method: trees just below the limit work, far above it fail cleanly.
    let max = super::parser::MAX_EXPRESSION_DEPTH;
    let ok = [
        format!("{}a{}", "(".repeat(max - 1), ")".repeat(max - 1)),
        vec!["a"; max].join(" + "),
        format!("{}1", "-".repeat(max - 1)),
        vec!["2"; max - 1].join(" ^ "),
    ];
    for input in &ok {
        let expr = parse(input).unwrap_or_else(|e| panic!("{e}"));
        assert!(!expr.to_string().is_empty());
    }
    let too_deep = [
        format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000)),
        vec!["a"; 100_000].join(" + "),
        format!("{}1", "-".repeat(100_000)),
        vec!["2"; 100_000].join(" ^ "),
        format!("a{}", "[1m:]".repeat(100_000)),
        format!("sum({}a{})", "abs(".repeat(100_000), ")".repeat(100_000)),
    ];
    for input in &too_deep {
        let error = parse(input)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("nested more than 1000 levels deep"),
            "{}: {error}",
            input.get(..40).unwrap_or(input)
        );
    }
    let durations = [
        format!("a[{}1m{}]", "(".repeat(100_000), ")".repeat(100_000)),
        format!("a[{}]", vec!["1s"; 100_000].join("+")),
        format!(
            "a offset ({}1m{})",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
    ];
    for input in &durations {
        let error = parse(input)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            error.contains("nested more than 100 levels deep"),
            "{error}"
        );
    }
    assert!(parse(&format!("a[{}]", vec!["1s"; 100].join("+"))).is_ok());
}
