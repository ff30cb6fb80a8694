//! The status page's HTML: rendered on the server from the `/status` document, so it reads
//! without script; `page.js` (inlined, no build step, nothing fetched from elsewhere) then
//! refreshes the same cells from `/status` every five seconds.

use std::fmt::Write;

use serde_json::Value;

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}\
th{background:#f3f3f3}code{font-size:12px}.breaker-open{background:#f8d7da}.breaker-half_open{background:#fff3cd}\
.breaker-closed{background:#d4edda}.reload-rejected{background:#f8d7da}#stale{color:#a00}";

/// The whole page for `status` (the `/status` document).
pub fn render_html(status: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut out = String::with_capacity(16 * 1024);
    out.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<title>Switchyard status</title><style>");
    out.push_str(STYLE);
    out.push_str("</style></head><body><h1>Switchyard status</h1>");
    let _ = write!(
        out,
        "<p>Version <span id=\"version\">{}</span>, up <span id=\"uptime\">{} s</span>, \
         in flight: <span id=\"in-flight\">{} requests, {} streams</span>. \
         Updated <span id=\"updated\">at load</span>. <span id=\"stale\" hidden></span></p>",
        esc(&s(&status["version"])),
        status["uptime_seconds"],
        status["in_flight"]["requests"],
        status["in_flight"]["streams"],
    );
    let cfg = &status["config"];
    let sha = s(&cfg["sha256"]);
    let last_error = match &status["last_reload_error"] {
        Value::Object(e) => format!(
            "{}: {}",
            e.get("time").and_then(Value::as_str).unwrap_or(""),
            e.get("errors")
                .and_then(Value::as_array)
                .map(|a| a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; "))
                .unwrap_or_default()
        ),
        _ => "none".into(),
    };
    let _ = write!(
        out,
        "<h2>Config</h2><p>sha256 <code id=\"config-sha\">{}</code>, generation \
         <span id=\"config-generation\">{}</span>, loaded <span id=\"config-loaded\">{}</span>.<br>\
         Last rejected reload: <span id=\"last-error\">{}</span></p>",
        esc(if sha.is_empty() {
            "(embedded default)"
        } else {
            &sha
        }),
        cfg["generation"],
        esc(&s(&cfg["loaded_at"])),
        esc(&last_error),
    );
    const TARGET_HEAD: [&str; 7] = [
        "model",
        "provider",
        "breaker",
        "avg time to first token",
        "recent error rate",
        "recent attempts",
        "cooldown",
    ];
    let _ =
        write!(
        out,
        "<h2>Routes</h2><p>Targets in the route's order. Error rates and attempts over the last \
         <span id=\"window\">{} s</span> (5 minutes once the gateway has run that long).</p>",
        status["error_window_seconds"].as_f64().unwrap_or(0.0).round()
    );
    let mut rows = Vec::new();
    for r in status["routes"].as_array().into_iter().flatten() {
        for (i, t) in r["targets"].as_array().into_iter().flatten().enumerate() {
            let mut row = if i == 0 {
                let when = if r["when"].is_null() { "" } else { " (when)" };
                vec![
                    Cell::plain(s(&r["name"])),
                    Cell::plain(format!("{}{when}", s(&r["strategy"]))),
                ]
            } else {
                vec![Cell::plain(String::new()), Cell::plain(String::new())]
            };
            row.push(Cell::plain((i + 1).to_string()));
            row.extend(target_cells(t));
            rows.push(row);
        }
    }
    let mut head = vec!["route", "strategy", "#"];
    head.extend(TARGET_HEAD);
    table(&mut out, "routes", &head, &rows);
    out.push_str("<h2>Deployments</h2>");
    let rows: Vec<_> = status["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(target_cells)
        .collect();
    table(&mut out, "targets", &TARGET_HEAD, &rows);
    out.push_str("<h2>Keys</h2>");
    let rows: Vec<_> = status["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| {
            let b = &k["budget"];
            let has = b.is_object();
            vec![
                Cell::plain(s(&k["id"])),
                Cell::plain(usd(&k["spent_usd_since_start"])),
                Cell::plain(if has {
                    format!("{} {}", usd(&b["usd"]), s(&b["period"]))
                } else {
                    "–".into()
                }),
                Cell::plain(if has { usd(&b["spent"]) } else { "–".into() }),
                Cell::plain(if has {
                    usd(&b["remaining"])
                } else {
                    "–".into()
                }),
                Cell::plain(b["resets_at"].as_str().unwrap_or("–").to_owned()),
            ]
        })
        .collect();
    table(
        &mut out,
        "keys",
        &[
            "key",
            "spent since start",
            "budget",
            "spent this period",
            "remaining",
            "resets",
        ],
        &rows,
    );
    out.push_str("<h2>Reloads</h2>");
    let rows: Vec<_> = status["reloads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let result = s(&e["result"]);
            vec![
                Cell::plain(s(&e["time"])),
                Cell {
                    class: Some(format!("reload-{result}")),
                    text: result,
                },
                Cell::plain(e["generation"].to_string()),
                Cell::plain(s(&e["sha256"]).chars().take(12).collect::<String>()),
                Cell::plain(
                    e["errors"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    table(
        &mut out,
        "reloads",
        &["time", "result", "generation", "sha256", "errors"],
        &rows,
    );
    out.push_str(
        "<p>Data: <a href=\"status\">/status</a> · <a href=\"config\">/config</a> · \
                  <a href=\"budgets\">/budgets</a> · <a href=\"metrics\">/metrics</a></p><script>",
    );
    out.push_str(include_str!("page.js"));
    out.push_str("</script></body></html>\n");
    out
}

struct Cell {
    text: String,
    class: Option<String>,
}

impl Cell {
    fn plain(text: String) -> Self {
        Self { text, class: None }
    }
}

fn target_cells(t: &Value) -> Vec<Cell> {
    let breaker = t["breaker"].as_str().unwrap_or("–");
    let opt = |v: &Value, f: &dyn Fn(f64) -> String| v.as_f64().map_or("–".to_owned(), f);
    vec![
        Cell::plain(t["model"].as_str().unwrap_or("").to_owned()),
        Cell::plain(t["provider"].as_str().unwrap_or("").to_owned()),
        Cell {
            text: breaker.to_owned(),
            class: Some(format!(
                "breaker-{}",
                t["breaker"].as_str().unwrap_or("none")
            )),
        },
        Cell::plain(opt(&t["latency_ms_avg"], &|v| format!("{} ms", v.round()))),
        Cell::plain(opt(&t["recent_error_rate"], &|v| {
            format!("{:.1} %", v * 100.0)
        })),
        Cell::plain(t["recent_attempts"].to_string()),
        Cell::plain(opt(&t["cooldown_seconds"], &|v| format!("{v:.1} s"))),
    ]
}

fn usd(v: &Value) -> String {
    v.as_f64().map_or("–".into(), |v| format!("${v:.4}"))
}

fn table(out: &mut String, id: &str, head: &[&str], rows: &[Vec<Cell>]) {
    let _ = write!(out, "<table id=\"{id}\"><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for c in row {
            match &c.class {
                Some(class) => {
                    let _ = write!(out, "<td class=\"{}\">{}</td>", esc(class), esc(&c.text));
                }
                None => {
                    let _ = write!(out, "<td>{}</td>", esc(&c.text));
                }
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// HTML-escapes text for element content and quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_every_section_and_escapes_text() {
        let status = json!({
            "version": "0.1.0", "uptime_seconds": 5,
            "in_flight": {"requests": 1, "streams": 0},
            "config": {"sha256": "ab", "generation": 2, "loaded_at": "2026-12-03T10:00:00Z"},
            "last_reload_error": {"time": "t", "errors": ["routes[0]: <bad>"]},
            "error_window_seconds": 60.0,
            "routes": [{"name": "chat", "strategy": "priority", "when": null, "targets": [
                {"model": "gpt-4o", "provider": "openai", "breaker": "open",
                 "latency_ms_avg": 812.4, "recent_error_rate": 0.25, "recent_attempts": 4,
                 "cooldown_seconds": null}]}],
            "targets": [],
            "keys": [{"id": "app", "spent_usd_since_start": 0.5, "budget": null}],
            "reloads": [{"time": "t", "result": "rejected", "generation": 2, "errors": ["x"]}],
        });
        let html = render_html(&status);
        for want in [
            "<td class=\"breaker-open\">open</td>",
            "<td>812 ms</td>",
            "<td>25.0 %</td>",
            "routes[0]: &lt;bad&gt;",
            "<td class=\"reload-rejected\">rejected</td>",
            "<td>$0.5000</td>",
            "<table id=\"keys\">",
        ] {
            assert!(html.contains(want), "missing {want}");
        }
        assert!(!html.contains("<bad>"));
        assert!(
            !html.contains("src=\"http"),
            "nothing is fetched from elsewhere"
        );
    }
}
