//! Issue 6, query API details as Prometheus has them: times as RFC3339 or float unix seconds,
//! `step` as a duration or float seconds, `timeout` and `limit`, GET and POST form bodies, and
//! `/api/v1/metadata` filled from remote_write 1.0 metadata and the text format's HELP/TYPE.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use bytes::Bytes;
use common::{enc, now_ms, series, Server, TempDir};
use strata::ingest::remote_write::proto::{MetricMetadata, WriteRequest};

/// `ms` as RFC3339 UTC with milliseconds, e.g. `2026-11-23T15:04:05.250Z`.
fn rfc3339(ms: i64) -> String {
    let (days, day_ms) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Howard Hinnant's days → civil date.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1000 % 60,
        day_ms % 1000
    )
}

fn seconds(ms: i64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

#[test]
fn times_steps_timeouts_limits_forms_and_metadata() {
    let dir = TempDir::new("query-api");
    let server = Server::start(dir.path(), &[]);
    // t0 on a whole second so float seconds are exact; samples every 15 s up to t0.
    let t0 = now_ms() / 1000 * 1000 - 5_000;
    let hosts = ["a", "b", "c"];
    let timeseries = hosts
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let samples: Vec<(i64, f64)> = (0..5)
                .map(|k| (t0 - (4 - k) * 15_000, (i * 10) as f64 + k as f64))
                .collect();
            series(&[("__name__", "api_temp"), ("host", host)], &samples)
        })
        .collect();
    let metadata = vec![MetricMetadata {
        r#type: 2,
        metric_family_name: Bytes::from_static(b"api_temp"),
        help: Bytes::from_static(b"Probe temperature."),
        unit: Bytes::from_static(b"celsius"),
    }];
    let response = server.remote_write(&WriteRequest {
        timeseries,
        metadata,
    });
    assert_eq!(response.status, 204, "{}", response.text());
    let text = format!(
        "# HELP api_jobs_total Jobs run.\n# TYPE api_jobs_total counter\napi_jobs_total 3 {t0}\n"
    );
    let response = common::http(
        &server.addr,
        "POST",
        "/api/v1/import/prometheus",
        &[],
        text.as_bytes(),
    );
    assert_eq!(response.status, 204, "{}", response.text());

    // Metadata from remote_write 1.0 and from the text format, `metric=` and `limit=`.
    let all = server.get_data("/api/v1/metadata");
    assert_eq!(
        all["api_temp"],
        serde_json::json!([{"type": "gauge", "help": "Probe temperature.", "unit": "celsius"}])
    );
    assert_eq!(
        all["api_jobs_total"],
        serde_json::json!([{"type": "counter", "help": "Jobs run.", "unit": ""}])
    );
    let one = server.get_data("/api/v1/metadata?metric=api_jobs_total");
    assert_eq!(one.as_object().unwrap().len(), 1, "{one}");
    let limited = server.get_data("/api/v1/metadata?limit=1");
    assert_eq!(limited.as_object().unwrap().len(), 1, "{limited}");

    // Instant query: `time` as float seconds, as RFC3339 (Z, with and without fraction, with an
    // offset) all give the same answer: each host's last sample.
    let instant = |time: &str| {
        server.get_data(&format!(
            "/api/v1/query?query={}&time={}",
            enc("sort(api_temp)"),
            enc(time)
        ))
    };
    let by_float = instant(&seconds(t0));
    let values: Vec<&str> = by_float["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"][1].as_str().unwrap())
        .collect();
    assert_eq!(values, ["4", "14", "24"], "{by_float}");
    let rfc = rfc3339(t0);
    assert!(rfc.ends_with(".000Z"), "{rfc}");
    assert_eq!(instant(&rfc), by_float, "RFC3339 {rfc}");
    assert_eq!(
        instant(&rfc.replace(".000Z", "Z")),
        by_float,
        "RFC3339 without fraction"
    );
    // The same instant written one hour ahead in +01:00.
    let plus_one = rfc3339(t0 + 3_600_000).replace(".000Z", "+01:00");
    assert_eq!(instant(&plus_one), by_float, "RFC3339 {plus_one}");
    // A fractional float time and its RFC3339 twin: 7.5 s before t0 sees the sample before.
    let half = instant(&seconds(t0 - 7_500));
    assert_eq!(half["result"][0]["value"][0], (t0 - 7_500) as f64 / 1000.0);
    assert_eq!(half["result"][0]["value"][1], "3");
    assert_eq!(instant(&rfc3339(t0 - 7_500)), half);

    // Range query: start/end as float or RFC3339, step as float seconds or a duration, by GET
    // and by POST form: one answer.
    let range_get = |start: &str, end: &str, step: &str| {
        server.get_data(&format!(
            "/api/v1/query_range?query={}&start={}&end={}&step={}",
            enc(r#"api_temp{host="b"}"#),
            enc(start),
            enc(end),
            enc(step)
        ))
    };
    let (start, end) = (t0 - 60_000, t0);
    let reference = range_get(&seconds(start), &seconds(end), "15");
    let points = reference["result"][0]["values"].as_array().unwrap();
    let got: Vec<(f64, &str)> = points
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_str().unwrap()))
        .collect();
    let want: Vec<(f64, &str)> = (0..5)
        .map(|k| {
            (
                (start + k * 15_000) as f64 / 1000.0,
                ["10", "11", "12", "13", "14"][k as usize],
            )
        })
        .collect();
    assert_eq!(got, want, "{reference}");
    for step in ["15s", "15.0", "15000ms"] {
        assert_eq!(
            range_get(&seconds(start), &seconds(end), step),
            reference,
            "step={step}"
        );
    }
    assert_eq!(
        range_get(&rfc3339(start), &rfc3339(end), "15s"),
        reference,
        "RFC3339 start/end"
    );
    let form = format!(
        "query={}&start={}&end={}&step=15s",
        enc(r#"api_temp{host="b"}"#),
        enc(&rfc3339(start)),
        seconds(end)
    );
    let posted = server.post_form("/api/v1/query_range", &form);
    assert_eq!(posted.status, 200, "{}", posted.text());
    assert_eq!(posted.json()["data"], reference, "POST form");
    let posted = server.post_form(
        "/prometheus/api/v1/query",
        &format!("query={}&time={}", enc("sort(api_temp)"), enc(&rfc)),
    );
    assert_eq!(
        posted.json()["data"],
        by_float,
        "POST form under /prometheus"
    );

    // Bad times and steps are 400 with Prometheus' wording.
    let bad = server.get(&format!(
        "/api/v1/query?query=api_temp&time={}",
        enc("2026-13-01T00:00:00Z")
    ));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("invalid parameter \"time\""));
    let bad = server.get(&format!(
        "/api/v1/query_range?query=api_temp&start={}&end={}&step=fast",
        seconds(start),
        seconds(end)
    ));
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("invalid parameter \"step\""));

    // `timeout`: a zero timeout stops evaluation (503, errorType timeout), a generous one does
    // not, a bad one is 400. It can only shorten --query.timeout.
    let with_timeout = |timeout: &str| {
        server.get(&format!(
            "/api/v1/query_range?query={}&start={}&end={}&step=1&timeout={}",
            enc("sum(rate(api_temp[1m]))"),
            seconds(start),
            seconds(end),
            enc(timeout)
        ))
    };
    for zero in ["0s", "0"] {
        let timed_out = with_timeout(zero);
        assert_eq!(
            timed_out.status,
            503,
            "timeout={zero}: {}",
            timed_out.text()
        );
        assert_eq!(timed_out.json()["errorType"], "timeout");
    }
    assert_eq!(with_timeout("1m").status, 200);
    assert_eq!(with_timeout("30.5").status, 200);
    let bad = with_timeout("soon");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("invalid parameter \"timeout\""));

    // `limit` on series, labels and label values, with Prometheus' warning; by GET and POST.
    let series = server.get(&format!(
        "/api/v1/series?match[]={}&limit=2",
        enc("api_temp")
    ));
    assert_eq!(series.json()["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        series.json()["warnings"][0],
        "results truncated due to limit"
    );
    let unlimited = server.post_form(
        "/api/v1/series",
        &format!("match[]={}&start={}", enc("api_temp"), seconds(start)),
    );
    assert_eq!(unlimited.json()["data"].as_array().unwrap().len(), 3);
    assert!(unlimited.json().get("warnings").is_none());
    let labels = server.post_form("/api/v1/labels", "limit=1");
    assert_eq!(labels.json()["data"], serde_json::json!(["__name__"]));
    assert_eq!(
        labels.json()["warnings"][0],
        "results truncated due to limit"
    );
    let values = server.post_form(
        "/api/v1/label/host/values",
        &format!("match[]={}&limit=2", enc("api_temp")),
    );
    assert_eq!(values.json()["data"], serde_json::json!(["a", "b"]));
    let values = server.get_data(&format!(
        "/api/v1/label/host/values?match[]={}",
        enc(r#"api_temp{host!="a"}"#)
    ));
    assert_eq!(values, serde_json::json!(["b", "c"]));
    assert!(server.stop().success());
}
