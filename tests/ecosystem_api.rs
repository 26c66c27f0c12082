//! Issue 6: the request shapes Grafana's Prometheus datasource sends, every import format with good
//! and bad input, export → import → export round trips, remote write 2.0, and auth.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::Write;

use bytes::Bytes;
use common::{enc, http, now_ms, series, Server, TempDir};
use prost::Message;
use strata::ingest::remote_write::proto::WriteRequest;
use strata::ingest::remote_write::v2_proto;

fn post(
    server: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> common::HttpResponse {
    http(&server.addr, "POST", path, headers, body)
}

fn query_value(server: &Server, query: &str) -> serde_json::Value {
    let data = server.get_data(&format!("/api/v1/query?query={}", enc(query)));
    data["result"].clone()
}

#[test]
fn grafana_request_shapes() {
    let dir = TempDir::new("grafana");
    let server = Server::start(dir.path(), &[]);
    let now = now_ms() / 1000 * 1000;
    let timeseries = (0..5)
        .map(|i| {
            let instance = format!("host-{i}");
            series(
                &[
                    ("__name__", "node_load1"),
                    ("instance", &instance),
                    ("job", "node"),
                ],
                &[(now - 60_000, i as f64), (now - 30_000, i as f64 + 0.5)],
            )
        })
        .collect();
    assert_eq!(
        server
            .remote_write(&WriteRequest {
                timeseries,
                metadata: vec![]
            })
            .status,
        204
    );

    // Health check: an instant query of 1+1 must give the scalar 2.
    let health = server.post_form(
        "/api/v1/query",
        &format!("query={}&time={}", enc("1+1"), now as f64 / 1000.0),
    );
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.json()["data"]["resultType"], "scalar");
    assert_eq!(health.json()["data"]["result"][1], "2");
    // A dashboard aggregation over every shard.
    let sum = query_value(&server, r#"sum by (job) (node_load1)"#);
    assert_eq!(sum[0]["metric"], serde_json::json!({"job": "node"}));
    assert_eq!(sum[0]["value"][1], "12.5", "0.5 + 1.5 + 2.5 + 3.5 + 4.5");

    // Panels: query_range by POST form with float start/end/step.
    let form = format!(
        "query={}&start={}&end={}&step=15.5",
        enc(r#"node_load1{instance="host-2"}"#),
        (now - 45_000) as f64 / 1000.0,
        now as f64 / 1000.0
    );
    let response = server.post_form("/api/v1/query_range", &form);
    assert_eq!(response.status, 200, "{}", response.text());
    let json = response.json();
    assert_eq!(json["data"]["resultType"], "matrix");
    let values = json["data"]["result"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 3);
    assert_eq!(values[0][1], "2");
    assert_eq!(values[2][1], "2.5");

    // Resource calls: labels and label values with match[], series with limit.
    let labels = server.get_data(&format!(
        "/api/v1/labels?match[]={}&start={}&end={}",
        enc("node_load1"),
        (now - 3_600_000) / 1000,
        now / 1000
    ));
    assert_eq!(labels, serde_json::json!(["__name__", "instance", "job"]));
    let values = server.get_data(&format!(
        "/api/v1/label/instance/values?match[]={}",
        enc(r#"{job="node"}"#)
    ));
    assert_eq!(values.as_array().unwrap().len(), 5);
    let response = server.get(&format!(
        "/api/v1/series?match[]={}&limit=2",
        enc("node_load1")
    ));
    let json = response.json();
    assert_eq!(json["data"].as_array().unwrap().len(), 2);
    assert_eq!(json["warnings"][0], "results truncated due to limit");

    // The rest of what the datasource reads.
    assert_eq!(
        server.get_data("/api/v1/status/buildinfo")["version"],
        "2.24.0"
    );
    assert_eq!(
        server.get_data("/api/v1/rules"),
        serde_json::json!({"groups": []})
    );
    assert_eq!(
        server.get_data("/api/v1/alerts"),
        serde_json::json!({"alerts": []})
    );
    assert_eq!(
        server.get_data("/api/v1/query_exemplars?query=node_load1"),
        serde_json::json!([])
    );
    assert!(server.get_data("/api/v1/metadata").is_object());
    assert_eq!(
        server.get_data(&format!(
            "/api/v1/format_query?query={}",
            enc("sum by(job)(rate(x[5m]))")
        )),
        "sum by (job) (rate(x[5m]))"
    );
    assert_eq!(
        server.get_data("/api/v1/status/flags")["retention"],
        "2678400s"
    );
    assert!(server.get_data("/api/v1/status/runtimeinfo")["startTime"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    // Every path also under /prometheus, as VictoriaMetrics serves them.
    assert_eq!(
        server
            .get(&format!(
                "/prometheus/api/v1/query?query={}",
                enc("node_load1")
            ))
            .status,
        200
    );

    let federated = server
        .get(&format!(
            "/federate?match[]={}",
            enc(r#"node_load1{instance="host-1"}"#)
        ))
        .text();
    assert!(
        federated.contains(r#"node_load1{instance="host-1",job="node"} 1.5 "#),
        "{federated}"
    );
    assert!(server.stop().success());
}

#[test]
fn imports_exports_and_encodings() {
    let dir = TempDir::new("imports");
    let server = Server::start(dir.path(), &[]);
    let now = now_ms() / 1000 * 1000;

    // JSON lines, gzip-compressed, with a malformed line that is skipped and counted.
    let json_lines = format!(
        "{{\"metric\":{{\"__name__\":\"jl\",\"k\":\"a\"}},\"values\":[1.5,-0,\"NaN\",1e300],\"timestamps\":[{},{},{},{}]}}\nnot json\n{{\"metric\":{{\"__name__\":\"jl\",\"k\":\"b\"}},\"values\":[2],\"timestamps\":[{}]}}\n",
        now - 3000, now - 2000, now - 1000, now, now
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json_lines.as_bytes()).unwrap();
    let response = post(
        &server,
        "/api/v1/import?extra_label=source=import",
        &[("Content-Encoding", "gzip")],
        &gz.finish().unwrap(),
    );
    assert_eq!(response.status, 204, "{}", response.text());
    assert_eq!(response.header("x-strata-samples-imported"), Some("5"));
    assert_eq!(response.header("x-strata-lines-skipped"), Some("1"));

    let export = server.get(&format!(
        "/api/v1/export?match[]={}",
        enc(r#"{__name__="jl"}"#)
    ));
    assert_eq!(export.status, 200);
    let exported = export.text();
    assert_eq!(exported.lines().count(), 2, "{exported}");
    assert!(exported.contains(r#""source":"import""#), "{exported}");
    assert!(
        exported.contains("[1.5,-0,\"NaN\",1e+300]") || exported.contains("[1.5,-0,\"NaN\",1e300]"),
        "{exported}"
    );

    // Export → import into a fresh data dir → export: identical bytes.
    let dir2 = TempDir::new("imports-copy");
    let copy = Server::start(dir2.path(), &[]);
    let response = post(&copy, "/api/v1/import", &[], exported.as_bytes());
    assert_eq!(response.status, 204, "{}", response.text());
    let again = copy
        .get(&format!(
            "/api/v1/export?match[]={}",
            enc(r#"{__name__="jl"}"#)
        ))
        .text();
    assert_eq!(again, exported, "export → import → export round trip");
    assert!(copy.stop().success());

    // Influx line protocol with db, a bad line (400 partial write), good lines kept; zstd-compressed.
    let influx = format!(
        "cpu,host=h1 usage=0.5,count=3i {}\nthis is bad\nmem,host=h1 free=100 {}\n",
        now * 1_000_000,
        now * 1_000_000
    );
    let body = zstd::bulk::compress(influx.as_bytes(), 3).unwrap();
    let response = post(
        &server,
        "/write?db=telegraf",
        &[("Content-Encoding", "zstd")],
        &body,
    );
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(response.json()["error"]
        .as_str()
        .unwrap()
        .contains("partial write"));
    let usage = query_value(&server, r#"cpu_usage{db="telegraf",host="h1"}"#);
    assert_eq!(usage[0]["value"][1], "0.5", "{usage}");
    assert_eq!(query_value(&server, "cpu_count")[0]["value"][1], "3");
    assert_eq!(query_value(&server, "mem_free")[0]["value"][1], "100");
    assert_eq!(
        post(
            &server,
            "/api/v2/write?bucket=b",
            &[],
            format!("up2 v=1 {}\n", now * 1_000_000).as_bytes()
        )
        .status,
        204
    );

    // Prometheus text format with metadata, and a Pushgateway-style path.
    let text = format!(
        "# HELP jobs_done_total Jobs done.\n# TYPE jobs_done_total counter\njobs_done_total{{queue=\"q1\"}} 42 {now}\njobs_done_total{{queue=\"q2\"}} 7\n"
    );
    let response = post(
        &server,
        "/api/v1/import/prometheus/metrics/job/batch/instance/runner-1",
        &[],
        text.as_bytes(),
    );
    assert_eq!(response.status, 204, "{}", response.text());
    let done = query_value(
        &server,
        r#"jobs_done_total{queue="q1",job="batch",instance="runner-1"}"#,
    );
    assert_eq!(done[0]["value"][1], "42", "{done}");
    let metadata = server.get_data("/api/v1/metadata?metric=jobs_done_total");
    assert_eq!(metadata["jobs_done_total"][0]["type"], "counter");
    assert_eq!(metadata["jobs_done_total"][0]["help"], "Jobs done.");

    // CSV.
    let csv = format!("GOOG,1.23,{}\nMSFT,3.3,{}\n", now / 1000, now / 1000);
    let response = post(
        &server,
        "/api/v1/import/csv?format=1:label:ticker,2:metric:ask,3:time:unix_s",
        &[],
        csv.as_bytes(),
    );
    assert_eq!(response.status, 204, "{}", response.text());
    assert_eq!(
        query_value(&server, r#"ask{ticker="MSFT"}"#)[0]["value"][1],
        "3.3"
    );
    let response = post(&server, "/api/v1/import/csv?format=1:nonsense", &[], b"x");
    assert_eq!(response.status, 400);
    assert!(response.json()["error"]
        .as_str()
        .unwrap()
        .contains("format"));

    // Unknown content encodings are 415.
    assert_eq!(
        post(
            &server,
            "/api/v1/import",
            &[("Content-Encoding", "br")],
            b"x"
        )
        .status,
        415
    );
    assert!(server.stop().success());
}

#[test]
fn remote_write_two_and_extra_labels() {
    let dir = TempDir::new("rw2");
    let server = Server::start(dir.path(), &[]);
    let now = now_ms();
    let symbols: Vec<Bytes> = ["", "__name__", "rw2_metric", "job", "api", "help text"]
        .iter()
        .map(|s| Bytes::copy_from_slice(s.as_bytes()))
        .collect();
    let request = v2_proto::Request {
        symbols,
        timeseries: vec![v2_proto::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![v2_proto::Sample {
                value: 9.25,
                timestamp: now,
                start_timestamp: 0,
            }],
            histograms: vec![],
            exemplars: vec![],
            metadata: Some(v2_proto::Metadata {
                r#type: 2,
                help_ref: 5,
                unit_ref: 0,
            }),
            created_timestamp: 0,
        }],
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .unwrap();
    let response = post(
        &server,
        "/api/v1/write",
        &[
            (
                "Content-Type",
                "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            ),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "2.0.0"),
        ],
        &body,
    );
    assert_eq!(response.status, 204, "{}", response.text());
    assert_eq!(
        response.header("x-prometheus-remote-write-samples-written"),
        Some("1")
    );
    assert_eq!(
        response.header("x-prometheus-remote-write-histograms-written"),
        Some("0")
    );
    assert_eq!(
        query_value(&server, r#"rw2_metric{job="api"}"#)[0]["value"][1],
        "9.25"
    );
    assert_eq!(
        server.get_data("/api/v1/metadata?metric=rw2_metric")["rw2_metric"][0]["help"],
        "help text"
    );

    // remote_write 1.0 with extra_label, which overrides a label of the same name.
    let v1 = WriteRequest {
        timeseries: vec![series(
            &[("__name__", "rw1_metric"), ("env", "dev")],
            &[(now, 1.0)],
        )],
        metadata: vec![],
    };
    let body = common::encode_remote_write(&v1);
    let response = post(
        &server,
        "/api/v1/write?extra_label=env=prod&extra_label=team=a",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
        ],
        &body,
    );
    assert_eq!(response.status, 204, "{}", response.text());
    let result = query_value(&server, "rw1_metric");
    assert_eq!(result[0]["metric"]["env"], "prod");
    assert_eq!(result[0]["metric"]["team"], "a");
    assert!(server.stop().success());
}

#[test]
fn auth_protects_everything_but_health() {
    let dir = TempDir::new("auth");
    let server = Server::start(
        dir.path(),
        &[
            "--http.auth.username",
            "u",
            "--http.auth.password",
            "p",
            "--admin-auth-key",
            "secret",
        ],
    );
    let basic = ("Authorization", "Basic dTpw");
    assert_eq!(server.get("/health").status, 200, "health is exempt");
    let denied = server.get("/api/v1/labels");
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json()["errorType"], "unauthorized");
    assert_eq!(
        http(
            &server.addr,
            "GET",
            "/api/v1/labels",
            &[("Authorization", "Basic dTp4")],
            b""
        )
        .status,
        401
    );
    assert_eq!(
        http(&server.addr, "GET", "/api/v1/labels", &[basic], b"").status,
        200
    );
    assert_eq!(
        http(&server.addr, "GET", "/internal/force_flush", &[basic], b"").status,
        401,
        "admin needs the key"
    );
    assert_eq!(
        http(
            &server.addr,
            "GET",
            "/internal/force_flush?authKey=secret",
            &[basic],
            b""
        )
        .status,
        200
    );
    // Snapshots are admin endpoints: the key is needed on top of the basic auth.
    for path in ["/snapshot/create", "/snapshot/list", "/snapshot/delete_all"] {
        let denied = http(&server.addr, "GET", path, &[basic], b"");
        assert_eq!(denied.status, 401, "{path} without authKey");
        let wrong = http(
            &server.addr,
            "GET",
            &format!("{path}?authKey=nope"),
            &[basic],
            b"",
        );
        assert_eq!(wrong.status, 401, "{path} with a wrong authKey");
        let allowed = http(
            &server.addr,
            "GET",
            &format!("{path}?authKey=secret"),
            &[basic],
            b"",
        );
        assert_eq!(allowed.status, 200, "{path}: {}", allowed.text());
        assert_eq!(allowed.json()["status"], "ok", "{path}");
    }
    assert!(server.stop().success());

    let server = Server::start(dir.path(), &["--http.auth.bearer-token", "tok"]);
    assert_eq!(server.get("/api/v1/labels").status, 401);
    assert_eq!(
        http(
            &server.addr,
            "GET",
            "/api/v1/labels",
            &[("Authorization", "Bearer tok")],
            b""
        )
        .status,
        200
    );
    assert!(server.stop().success());
}

#[test]
fn snapshot_then_restore_gives_identical_results() {
    let dir = TempDir::new("snapshot");
    let server = Server::start(dir.path(), &[]);
    let now = now_ms() / 1000 * 1000;
    let timeseries = (0..50)
        .map(|i| {
            let instance = format!("h{i}");
            series(
                &[("__name__", "snap_metric"), ("instance", &instance)],
                &[(now - 20_000, i as f64), (now - 10_000, i as f64 * 1.5)],
            )
        })
        .collect();
    assert_eq!(
        server
            .remote_write(&WriteRequest {
                timeseries,
                metadata: vec![]
            })
            .status,
        204
    );
    let created = server.get("/snapshot/create").json();
    assert_eq!(created["status"], "ok");
    let name = created["snapshot"].as_str().unwrap().to_string();
    assert_eq!(
        server.get("/snapshot/list").json()["snapshots"],
        serde_json::json!([name.clone()])
    );
    let export_path = format!("/api/v1/export?match[]={}", enc("snap_metric"));
    let before = server.get(&export_path).text();
    let range = format!(
        "/api/v1/query_range?query=snap_metric&start={}&end={}&step=5",
        (now - 30_000) / 1000,
        now / 1000
    );
    let range_before = server.get_data(&range);
    // The comparisons below are only worth something if there is data to compare.
    assert_eq!(before.lines().count(), 50, "{before}");
    assert_eq!(range_before["result"].as_array().unwrap().len(), 50);

    let restored = TempDir::new("snapshot-restored");
    let target = restored.path().join("data");
    let output = std::process::Command::new(common::strata_bin())
        .args(["restore", "--from"])
        .arg(dir.path().join("snapshots").join(&name))
        .arg("--data-dir")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let copy = Server::start(&target, &[]);
    assert_eq!(copy.get(&export_path).text(), before);
    assert_eq!(copy.get_data(&range), range_before);
    assert!(copy.stop().success());

    // Restoring into a non-empty dir is refused with a clear line.
    let output = std::process::Command::new(common::strata_bin())
        .args(["restore", "--from"])
        .arg(dir.path().join("snapshots").join(&name))
        .arg("--data-dir")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not empty"));

    assert_eq!(server.get("/snapshot/delete?snapshot=nope").status, 404);
    assert_eq!(
        server
            .get(&format!("/snapshot/delete?snapshot={name}"))
            .json()["status"],
        "ok"
    );
    assert_eq!(
        server.get("/snapshot/list").json()["snapshots"],
        serde_json::json!([])
    );
    assert_eq!(server.get("/snapshot/delete_all").json()["status"], "ok");
    assert!(server.stop().success());
}
