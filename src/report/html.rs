//! report.html and index.html: single self-contained files. No network
//! requests (a Content-Security-Policy forbids them), inline CSS, inline
//! SVG charts and a small inline script for sortable tables.

use serde_json::Value;
use std::fmt::Write;

/// HTML-escape text.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

/// Text of a JSON value for a cell.
pub fn txt(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => esc(s),
        Value::Array(a) => esc(&a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                o => o.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ")),
        o => esc(&o.to_string()),
    }
}

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:0 2em 3em;color:#222;background:#fafafa}
h1{margin:.6em 0 .2em}h2{border-bottom:2px solid #ccd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef;cursor:pointer;user-select:none;white-space:nowrap}
th.asc:after{content:" \25B2"}th.desc:after{content:" \25BC"}
td.mono,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid #ccd;border-radius:6px;padding:8px 14px;min-width:120px}
.card b{display:block;font-size:22px}
.container{background:#fff;border:1px solid #ccd;border-radius:6px;padding:6px 14px;margin:12px 0}
.stack{display:inline-flex;flex-direction:column;min-width:420px;margin:6px 0}
.layer{border:1px solid #889;margin-top:-1px;padding:2px 8px;font-family:ui-monospace,monospace;font-size:12px}
.layer.rw{background:#ffe9c7}.layer.init{background:#e6e6ff}.layer.image{background:#e3f3e3}
.sev-critical,.sev-high{color:#b00;font-weight:bold}.sev-medium{color:#b60}
.state-running{color:#070;font-weight:bold}.state-removed{color:#b00;font-weight:bold}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.muted{color:#777}
"#;

const SCRIPT: &str = r#"
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){
    th.addEventListener('click',function(){
      var asc=!th.classList.contains('asc');
      t.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc')});
      th.classList.add(asc?'asc':'desc');
      var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i]?a.cells[i].textContent:'',y=b.cells[i]?b.cells[i].textContent:'';
        var nx=parseFloat(x),ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny)&&/^-?[0-9.]+$/.test(x)&&/^-?[0-9.]+$/.test(y))?nx-ny:x.localeCompare(y);
        return asc?c:-c;});
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
"#;

/// Page frame with the CSP that forbids any network request.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<title>{}</title><style>{STYLE}</style></head><body>\n{body}\n<script>{SCRIPT}</script>\n</body></html>\n",
        esc(title)
    )
}

/// A sortable table: headers and rows of already-escaped cells.
pub fn table(id: &str, heads: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("<table class=\"sortable\" id=\"{id}\"><thead><tr>");
    for h in heads {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    if rows.is_empty() {
        s.push_str("<p class=\"muted\">none</p>");
    }
    s
}

/// A Docker time, with Go's zero time (`0001-01-01T00:00:00Z`) shown as `-`.
fn time_txt(v: &Value) -> String {
    match v.as_str() {
        Some(t) if t.starts_with("0001-01-01") => "-".into(),
        _ => txt(v),
    }
}

fn card(label: &str, v: impl std::fmt::Display) -> String {
    format!(
        "<div class=\"card\"><b>{}</b>{}</div>",
        esc(&v.to_string()),
        esc(label)
    )
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(|a| a.as_slice()).unwrap_or(&[])
}

fn short(s: &str, n: usize) -> &str {
    let s = s.strip_prefix("sha256:").unwrap_or(s);
    s.get(..n).unwrap_or(s)
}

/// Colour of a deleted class or finding severity.
fn sev_class(s: &str) -> String {
    format!("sev-{}", esc(&s.to_lowercase()))
}

fn findings_rows(fs: &[&Value]) -> Vec<Vec<String>> {
    fs.iter()
        .map(|f| {
            let sev = f["severity"].as_str().unwrap_or("");
            vec![
                format!("<span class=\"{}\">{}</span>", sev_class(sev), esc(sev)),
                txt(&f["kind"]),
                txt(&f["message"]),
                txt(&f["container_name"]),
                format!("<span class=\"mono\">{}</span>", txt(&f["evidence"])),
            ]
        })
        .collect()
}

fn deleted_rows(ds: &[&Value], cap: usize) -> Vec<Vec<String>> {
    ds.iter()
        .take(cap)
        .map(|d| {
            let container = d["container_name"]
                .as_str()
                .or_else(|| d["container"].as_str().map(|c| short(c, 12)))
                .unwrap_or("-");
            vec![
                format!(
                    "<span class=\"mono\" title=\"{}\">{}</span>",
                    txt(&d["host_path"]),
                    txt(&d["container_path"])
                ),
                esc(container),
                txt(&d["class"]),
                txt(&d["inode"]),
                txt(&d["size"]),
                txt(&d["content"]),
                txt(&d["name_source"]),
                match (d["dtime"].as_str(), d["dtime_source"].as_str()) {
                    (Some(t), Some(s)) => {
                        format!("{} <span class=\"muted\">({})</span>", esc(t), esc(s))
                    }
                    (Some(t), None) => esc(t),
                    _ => "<span class=\"muted\">unknown: no incarnation known</span>".into(),
                },
                format!("<span class=\"mono\">{}</span>", txt(&d["sha256"])),
                match d["recovered_to"].as_str() {
                    Some(p) => format!("<a href=\"{}\">file</a>", esc(&href(p))),
                    None => "-".into(),
                },
            ]
        })
        .collect()
}

/// A table of deleted rows, the runtime's own bookkeeping (class
/// `runtime-metadata`: the daemon's rewritten config files, overlay
/// `link`/`lower`/`work` entries) folded into a collapsed group.
fn deleted_table(id: &str, ds: &[&Value], cap: usize) -> String {
    let (book, files): (Vec<&Value>, Vec<&Value>) =
        ds.iter().partition(|d| d["class"] == "runtime-metadata");
    let mut s = table(id, DELETED_HEADS, &deleted_rows(&files, cap));
    if !book.is_empty() {
        let _ = write!(
            s,
            "<details class=\"bookkeeping\"><summary>runtime bookkeeping ({})</summary>{}</details>",
            book.len(),
            table(&format!("{id}-bookkeeping"), DELETED_HEADS, &deleted_rows(&book, cap))
        );
    }
    s
}

/// A relative link to a written file: each path component percent-encoded.
fn href(p: &str) -> String {
    p.split('/')
        .map(|c| {
            c.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

const DELETED_HEADS: &[&str] = &[
    "path (host path on hover)",
    "container",
    "class",
    "inode",
    "size",
    "content",
    "name source",
    "deleted (source)",
    "sha256",
    "recovered",
];

/// The block map as inline SVG: one cell per `blocks_per_cell` blocks.
fn block_map_svg(bm: &Value) -> String {
    let alloc = arr(&bm["allocated"]);
    let del = arr(&bm["deleted"]);
    let per = bm["blocks_per_cell"].as_u64().unwrap_or(1).max(1);
    let bpg = bm["blocks_per_group"].as_u64().unwrap_or(0);
    let cols = 64usize;
    let cell = 10usize;
    let rows = alloc.len().div_ceil(cols).max(1);
    let mut s = format!(
        "<svg id=\"block-map-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\">",
        cols * cell,
        rows * cell
    );
    for (i, a) in alloc.iter().enumerate() {
        let a = a.as_u64().unwrap_or(0);
        let d = del.get(i).and_then(|v| v.as_u64()).unwrap_or(0);
        let frac = a as f64 / per as f64;
        let fill = if d > 0 {
            "#e8590c".to_string()
        } else if a == 0 {
            "#e9ecef".to_string()
        } else {
            let l = 85.0 - 50.0 * frac.min(1.0);
            format!("hsl(210,70%,{l:.0}%)")
        };
        let first = i as u64 * per;
        let group = first.checked_div(bpg).unwrap_or(0);
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"><title>blocks {}-{} (group {group}): {a} allocated, {d} deleted-recoverable</title></rect>",
            (i % cols) * cell,
            (i / cols) * cell,
            cell - 1,
            cell - 1,
            first,
            first + per - 1
        );
    }
    s.push_str("</svg>");
    s
}

/// Stacked-bar timeline chart as inline SVG.
fn timeline_svg(t: &Value, id: &str) -> String {
    let Some(kinds) = t["kinds"].as_object() else {
        return "<p class=\"muted\">no events</p>".into();
    };
    let n = t["buckets"].as_u64().unwrap_or(0) as usize;
    if n == 0 || kinds.is_empty() {
        return "<p class=\"muted\">no events</p>".into();
    }
    let colours = [
        "#4263eb", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#868e96",
    ];
    let mut tot = vec![0u64; n];
    for v in kinds.values() {
        for (i, x) in arr(v).iter().enumerate().take(n) {
            tot[i] += x.as_u64().unwrap_or(0);
        }
    }
    let maxv = tot.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (w, h, bw) = (n * 12 + 60, 220usize, 12usize);
    let mut s = format!(
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{}\" role=\"img\">",
        h + 40
    );
    let mut base = vec![0f64; n];
    let width = t["bucket_secs"].as_i64().unwrap_or(1);
    let start = t["start_secs"].as_i64().unwrap_or(0);
    for (k, (name, v)) in kinds.iter().enumerate() {
        let col = colours[k % colours.len()];
        for (i, x) in arr(v).iter().enumerate().take(n) {
            let c = x.as_u64().unwrap_or(0);
            if c == 0 {
                continue;
            }
            // log-ish scale keeps small kinds visible next to file events.
            let hh = (c as f64).ln_1p() / maxv.ln_1p() * h as f64 * 0.5;
            let hh = hh.max(1.0);
            let y = h as f64 - base[i] - hh;
            base[i] += hh;
            let t0 = crate::util::time::Timestamp::new(start + i as i64 * width, 0).rfc3339();
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{y:.1}\" width=\"{}\" height=\"{hh:.1}\" fill=\"{col}\"><title>{}: {c} events from {}</title></rect>",
                50 + i * bw,
                bw - 2,
                esc(name),
                esc(&t0[..19])
            );
        }
    }
    let _ = write!(
        s,
        "<line x1=\"48\" y1=\"{h}\" x2=\"{}\" y2=\"{h}\" stroke=\"#333\"/>\
<text x=\"50\" y=\"{}\" font-size=\"11\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        w - 5,
        h + 15,
        txt(&t["start"]),
        w - 5,
        h + 15,
        txt(&t["end"])
    );
    let mut lx = 50;
    for (k, name) in kinds.keys().enumerate() {
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
            h + 24,
            colours[k % colours.len()],
            lx + 14,
            h + 33,
            esc(name)
        );
        lx += 90;
    }
    s.push_str("</svg>");
    s
}

fn container_section(r: &Value, c: &Value, removed: bool) -> String {
    let id = c["id"].as_str().unwrap_or("");
    let name = c["name"].as_str().unwrap_or(short(id, 12));
    let mut s = format!(
        "<div class=\"container\" id=\"container-{}\"><h3>{} <span class=\"mono muted\">{}</span></h3>",
        esc(short(id, 12)),
        esc(name),
        esc(id)
    );
    let state = if removed {
        "<span class=\"state-removed\">REMOVED (rebuilt from deleted evidence)</span>".to_string()
    } else if c["running_at_acquisition"] == true {
        "<span class=\"state-running\">RUNNING AT ACQUISITION</span>".to_string()
    } else {
        txt(&c["status"])
    };
    let _ = write!(
        s,
        "<p>State: {state} &middot; image {} <span class=\"mono\">{}</span> &middot; created {} &middot; started {} &middot; finished {} &middot; exit {}{}</p>",
        txt(&c["image"]),
        esc(short(c["image_id"].as_str().unwrap_or(""), 12)),
        time_txt(&c["created"]),
        time_txt(&c["started_at"]),
        time_txt(&c["finished_at"]),
        txt(&c["exit_code"]),
        if c["privileged"] == true { " &middot; <b class=\"sev-high\">privileged</b>" } else { "" }
    );
    // Layer stack, as stored: top (r/w) first.
    let layers = arr(&c["layers"]);
    if !layers.is_empty() {
        s.push_str("<div class=\"stack\">");
        for l in layers.iter() {
            let role = l["role"].as_str().unwrap_or("");
            let cls = if role.contains("rw") || role == "upper" {
                "rw"
            } else if role.contains("init") {
                "init"
            } else {
                "image"
            };
            let lid = l["id"].as_str().unwrap_or("");
            let shown = match lid.strip_suffix("-init") {
                Some(base) => format!("{}-init", short(base, 12)),
                None => short(lid, 12).to_string(),
            };
            let _ = write!(
                s,
                "<div class=\"layer {cls}\">{} &nbsp; {} {}</div>",
                esc(role),
                esc(&shown),
                l["chain_id"]
                    .as_str()
                    .map(|c| format!("(chain {})", esc(short(c, 12))))
                    .unwrap_or_default()
            );
        }
        s.push_str("</div>");
    }
    // Whiteouts.
    if let Some(w) = arr(&r["whiteouts"]).iter().find(|w| w["container"] == id) {
        let rows: Vec<Vec<String>> = arr(&w["whiteouts"])
            .iter()
            .map(|w| {
                let h = arr(&w["hidden"]).first().cloned().unwrap_or(Value::Null);
                vec![
                    format!("<span class=\"mono\">{}</span>", txt(&w["path"])),
                    txt(&w["kind"]),
                    txt(&w["layer_role"]),
                    txt(&h["inode"]),
                    txt(&h["size"]),
                ]
            })
            .collect();
        s.push_str("<h4>Whiteouts (deleted in the merged view)</h4>");
        s.push_str(&table(
            &format!("whiteouts-{}", esc(short(id, 12))),
            &["path", "kind", "layer", "original inode", "original size"],
            &rows,
        ));
    }
    let ds: Vec<&Value> = arr(&r["deleted"]["candidates"])
        .iter()
        .filter(|d| d["container"] == id)
        .collect();
    s.push_str("<h4>Deleted and recovered files</h4>");
    s.push_str(&deleted_table(
        &format!("deleted-{}", esc(short(id, 12))),
        &ds,
        2000,
    ));
    if removed {
        let rows: Vec<Vec<String>> = arr(&c["recovered_files"])
            .iter()
            .map(|f| {
                let p = if f["path"].is_null() {
                    &f["host_path"]
                } else {
                    &f["path"]
                };
                vec![
                    format!("<span class=\"mono\">{}</span>", txt(p)),
                    txt(&f["area"]),
                    txt(&f["inode"]),
                    txt(&f["size"]),
                    txt(&f["content"]),
                    format!("<span class=\"mono\">{}</span>", txt(&f["sha256"])),
                ]
            })
            .collect();
        let ev: Vec<Vec<String>> = arr(&c["evidence"])
            .iter()
            .map(|e| {
                vec![
                    txt(&e["kind"]),
                    format!("<span class=\"mono\">{}</span>", txt(&e["path"])),
                    txt(&e["inode"]),
                    txt(&e["note"]),
                ]
            })
            .collect();
        s.push_str("<h4>Rebuilt from</h4>");
        s.push_str(&table(
            &format!("removed-evidence-{}", esc(short(id, 12))),
            &["evidence", "where", "inode", "note"],
            &ev,
        ));
        s.push_str("<h4>Files of the removed container</h4>");
        s.push_str(&table(
            &format!("removed-files-{}", esc(short(id, 12))),
            &["path", "area", "inode", "size", "content", "sha256"],
            &rows,
        ));
    }
    s.push_str(&carving_html(&r["carving"], Some(id)));
    let fs: Vec<&Value> = arr(&r["findings"])
        .iter()
        .filter(|f| f["container"] == id)
        .collect();
    if !fs.is_empty() {
        s.push_str("<h4>Findings</h4>");
        s.push_str(&table(
            &format!("findings-{}", esc(short(id, 12))),
            &["severity", "kind", "message", "container", "evidence"],
            &findings_rows(&fs),
        ));
    }
    s.push_str("</div>");
    s
}

/// Blocks per owner: a table and a bar per owner.
fn attribution_html(a: &Value) -> String {
    let mut s = format!(
        "<section id=\"attribution\"><h2>Blocks per owner</h2><p class=\"muted\">attribution: {}. {}</p>",
        txt(&a["status"]),
        txt(&a["note"])
    );
    let owners = arr(&a["owners"]);
    let total = |o: &Value| {
        [
            "blocks_allocated",
            "blocks_deleted_recoverable",
            "blocks_deleted_hint",
            "blocks_carved",
            "blocks_unattributed",
        ]
        .iter()
        .map(|k| o[*k].as_u64().unwrap_or(0))
        .sum::<u64>()
    };
    let max = owners.iter().map(total).max().unwrap_or(0).max(1);
    let rows: Vec<Vec<String>> = owners
        .iter()
        .map(|o| {
            let name = o["owner_name"]
                .as_str()
                .map(|n| format!("{} ", esc(n)))
                .unwrap_or_default();
            let t = total(o);
            vec![
                txt(&o["owner_kind"]),
                format!(
                    "{name}<span class=\"mono\">{}</span>",
                    esc(short(o["owner"].as_str().unwrap_or(""), 16))
                ),
                txt(&o["blocks_allocated"]),
                txt(&o["blocks_deleted_recoverable"]),
                txt(&o["blocks_deleted_hint"]),
                txt(&o["blocks_carved"]),
                txt(&o["blocks_unattributed"]),
                format!(
                    "<span class=\"bar\" style=\"display:inline-block;height:.8em;background:hsl(210,70%,45%);width:{:.1}em\"></span> {t}",
                    (t as f64 / max as f64) * 12.0
                ),
            ]
        })
        .collect();
    s.push_str(&table(
        "owners-table",
        &[
            "kind",
            "owner",
            "allocated",
            "deleted, recoverable",
            "deleted, hint",
            "carved",
            "unattributed",
            "blocks",
        ],
        &rows,
    ));
    s.push_str("</section>");
    s
}

/// Carved files with their owners: all of them, or those attributed to
/// container `only`.
fn carving_html(c: &Value, only: Option<&str>) -> String {
    let files: Vec<&Value> = arr(&c["files"])
        .iter()
        .filter(|f| only.is_none_or(|id| f["attribution"]["owner"] == id))
        .collect();
    let rows: Vec<Vec<String>> = files
        .iter()
        .take(5000)
        .map(|f| {
            let a = &f["attribution"];
            vec![
                txt(&f["type"]),
                txt(&f["offset"]),
                txt(&f["length"]),
                if f["exact"] == true {
                    "exact".into()
                } else {
                    format!("bounded: {}", txt(&f["note"]))
                },
                format!(
                    "{} <span class=\"mono\">{}</span> ({})",
                    esc(a["owner_name"].as_str().unwrap_or("")),
                    esc(short(a["owner"].as_str().unwrap_or("-"), 12)),
                    txt(&a["confidence"])
                ),
                format!(
                    "<span class=\"muted\">{}</span>",
                    esc(&arr(&a["evidence"])
                        .iter()
                        .map(txt)
                        .collect::<Vec<_>>()
                        .join("; "))
                ),
                match f["file"].as_str() {
                    Some(p) => format!("<a href=\"carved/{}\">file</a>", esc(&href(p))),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let heads = [
        "type",
        "offset",
        "size",
        "exact",
        "owner (confidence)",
        "evidence",
        "file",
    ];
    match only {
        Some(id) => {
            if rows.is_empty() {
                return String::new();
            }
            format!(
                "<h4>Carved files attributed to it</h4>{}",
                table(&format!("carved-{}", esc(short(id, 12))), &heads, &rows)
            )
        }
        None => format!(
            "<section id=\"carving\"><h2>Carved files</h2><p class=\"muted\">carving: {}; {} files, {} Docker traces</p>{}</section>",
            txt(&c["status"]),
            files.len(),
            txt(&c["traces"]),
            table("carved-table", &heads, &rows)
        ),
    }
}

/// A list of warnings or notes, or "none".
fn messages_html(id: &str, title: &str, v: &Value) -> String {
    let items = arr(v);
    let mut s = format!("<section id=\"{id}\"><h2>{title}</h2>");
    if items.is_empty() {
        s.push_str("<p>none</p>");
    } else {
        s.push_str("<ul>");
        for w in items.iter().take(1000) {
            let _ = write!(s, "<li class=\"mono\">{}</li>", txt(w));
        }
        s.push_str("</ul>");
    }
    s.push_str("</section>");
    s
}

/// Every container's section, in order of interest: running at
/// acquisition, removed, with findings, then the rest; the classic
/// builder's removed step containers apart.
fn containers_html(r: &Value, live: &[Value], gone: &[Value], findings: &[Value]) -> String {
    let mut b = String::from("<section id=\"containers\"><h2>Containers</h2>");
    // In order of interest: running at acquisition, removed, with
    // findings, then the rest.
    let with_findings = |c: &Value| findings.iter().any(|f| f["container"] == c["id"]);
    let mut order: Vec<(u8, &Value, bool)> = live
        .iter()
        .map(|c| {
            let rank = if c["running_at_acquisition"] == true {
                0
            } else if with_findings(c) {
                2
            } else {
                3
            };
            (rank, c, false)
        })
        .chain(
            gone.iter()
                .filter(|c| c["build_step"].is_null())
                .map(|c| (1, c, true)),
        )
        .collect();
    order.sort_by_key(|x| x.0);
    for (_, c, removed) in order {
        b.push_str(&container_section(r, c, removed));
    }
    // The classic builder's removed step containers, apart.
    let steps: Vec<&Value> = gone.iter().filter(|c| !c["build_step"].is_null()).collect();
    if !steps.is_empty() {
        let _ = write!(
            b,
            "<details id=\"build-steps\"><summary>Removed build-step containers ({}): the classic builder's, one per Dockerfile step</summary>",
            steps.len()
        );
        for c in steps {
            let _ = write!(
                b,
                "<p class=\"mono\">{}</p>",
                txt(&c["build_step"]["instruction"])
            );
            b.push_str(&container_section(r, c, true));
        }
        b.push_str("</details>");
    }
    b.push_str("</section>");
    b
}

/// The images and the layers with their integrity.
fn images_html(r: &Value) -> String {
    let mut b = String::from("<section id=\"images\"><h2>Images and layers</h2>");
    let rows: Vec<Vec<String>> = arr(&r["docker"]["images"])
        .iter()
        .map(|i| {
            vec![
                format!(
                    "<span class=\"mono\">{}</span>",
                    esc(short(i["id"].as_str().unwrap_or(""), 12))
                ),
                txt(&i["tags"]),
                txt(&i["kind"]),
                arr(&i["chain_ids"]).len().to_string(),
                txt(&i["size"]),
                txt(&i["config"]["created"]),
            ]
        })
        .collect();
    b.push_str(&table(
        "images-table",
        &["id", "tags", "kind", "layers", "size", "created"],
        &rows,
    ));
    let rows: Vec<Vec<String>> = arr(&r["docker"]["layers"])
        .iter()
        .map(|l| {
            vec![
                format!(
                    "<span class=\"mono\">{}</span>",
                    esc(short(l["layer"]["chain_id"].as_str().unwrap_or(""), 16))
                ),
                format!(
                    "<span class=\"mono\">{}</span>",
                    esc(short(l["layer"]["cache_id"].as_str().unwrap_or(""), 12))
                ),
                txt(&l["integrity"]["verdict"]),
                arr(&l["integrity"]["added"]).len().to_string(),
                arr(&l["integrity"]["missing"]).len().to_string(),
                arr(&l["integrity"]["altered"]).len().to_string(),
                txt(&l["whiteouts"]),
            ]
        })
        .collect();
    b.push_str(&table(
        "layers-table",
        &[
            "chain id",
            "cache id",
            "integrity",
            "added",
            "missing",
            "altered",
            "whiteouts",
        ],
        &rows,
    ));
    b.push_str("</section>");
    b
}

/// report.html for one image's report.json document.
pub fn report_html(r: &Value) -> String {
    let img = &r["image"];
    let name = img["name"].as_str().unwrap_or("image");
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1 id=\"title\">whiteout report: {}</h1><p class=\"muted\">whiteout {} &middot; started {} &middot; finished {} &middot; schema {} v{}</p>",
        esc(name),
        txt(&r["tool"]["version"]),
        txt(&r["started"]),
        txt(&r["finished"]),
        txt(&r["schema"]),
        txt(&r["schema_version"])
    );
    let live = arr(&r["docker"]["containers"]);
    let gone = arr(&r["docker"]["removed_containers"]);
    let findings = arr(&r["findings"]);
    let cands = arr(&r["deleted"]["candidates"]);
    b.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    b.push_str(&card("containers", live.len()));
    b.push_str(&card(
        "running at acquisition",
        live.iter()
            .filter(|c| c["running_at_acquisition"] == true)
            .count(),
    ));
    b.push_str(&card("removed containers", gone.len()));
    b.push_str(&card("images", arr(&r["docker"]["images"]).len()));
    b.push_str(&card("layers", arr(&r["docker"]["layers"]).len()));
    // report.json's count: the candidates given here may be a subset.
    let n_cands = r["deleted"]["count"]
        .as_u64()
        .map_or(cands.len(), |n| n as usize);
    b.push_str(&card("deleted candidates", n_cands));
    b.push_str(&card("files recovered", &r["recovered"]["written"]));
    b.push_str(&card("findings", findings.len()));
    b.push_str(&card("warnings", arr(&r["warnings"]).len()));
    b.push_str("</div>");
    let h = &img["hashes"];
    let _ = write!(
        b,
        "<table id=\"custody\"><tr><th>image</th><td class=\"mono\">{}</td></tr><tr><th>case</th><td>{}</td></tr><tr><th>size</th><td>{}</td></tr><tr><th>MD5</th><td class=\"mono\">{}</td></tr><tr><th>SHA-1</th><td class=\"mono\">{}</td></tr><tr><th>SHA-256</th><td class=\"mono\">{}</td></tr><tr><th>unchanged at end</th><td>{}</td></tr><tr><th>filesystem</th><td>{} {} ({} blocks of {})</td></tr></table></section>",
        txt(&img["path"]),
        txt(&img["case_id"]),
        txt(&img["size"]),
        txt(&h["md5"]),
        txt(&h["sha1"]),
        txt(&h["sha256"]),
        txt(&img["end_check"]["ok"]),
        txt(&r["filesystem"]["label"]),
        txt(&r["filesystem"]["uuid"]),
        txt(&r["filesystem"]["blocks_count"]),
        txt(&r["filesystem"]["block_size"]),
    );
    b.push_str("<section id=\"findings\"><h2>Findings</h2>");
    let all: Vec<&Value> = findings.iter().collect();
    b.push_str(&table(
        "findings-table",
        &["severity", "kind", "message", "container", "evidence"],
        &findings_rows(&all),
    ));
    b.push_str("</section>");
    b.push_str(&containers_html(r, live, gone, findings));
    b.push_str(&images_html(r));
    b.push_str("<section id=\"block-map\"><h2>Block map</h2>");
    let bm = &r["block_map"];
    let _ = write!(
        b,
        "<p class=\"legend\">{} blocks, {} per cell:<span style=\"background:#e9ecef\"></span>free<span style=\"background:hsl(210,70%,35%)\"></span>allocated (darker = fuller)<span style=\"background:#e8590c\"></span>holds recoverable deleted content</p>",
        txt(&bm["blocks"]),
        txt(&bm["blocks_per_cell"])
    );
    b.push_str(&block_map_svg(bm));
    b.push_str("</section><section id=\"timeline\"><h2>Timeline</h2>");
    b.push_str("<h3>Around the containers' activity</h3>");
    b.push_str(&timeline_svg(
        &r["timeline_summary"]["focus"],
        "timeline-svg",
    ));
    b.push_str("<h3>Whole range</h3>");
    b.push_str(&timeline_svg(
        &r["timeline_summary"]["all"],
        "timeline-all-svg",
    ));
    b.push_str("<p class=\"muted\">Every event is in timeline.jsonl (Timesketch) and bodyfile (mactime -b).</p>");
    b.push_str("</section><section id=\"deleted\"><h2>Deleted files</h2>");
    let all: Vec<&Value> = cands.iter().collect();
    if n_cands > 5000 {
        let _ = write!(b, "<p>First 5000 of {n_cands}; all are in report.json.</p>");
    }
    b.push_str(&deleted_table("deleted-table", &all, 5000));
    b.push_str("</section>");
    b.push_str(&attribution_html(&r["attribution"]));
    b.push_str(&carving_html(&r["carving"], None));
    b.push_str(&messages_html("warnings", "Warnings", &r["warnings"]));
    b.push_str(&messages_html("notes", "Notes", &r["notes"]));
    page(&format!("whiteout: {name}"), &b)
}

/// index.html for an index.json document.
pub fn index_html(ix: &Value) -> String {
    let mut b = String::from("<h1 id=\"title\">whiteout evidence store</h1><section id=\"summary\"><div class=\"cards\">");
    let t = &ix["totals"];
    for (k, l) in [
        ("images", "images"),
        ("containers", "containers"),
        ("removed_containers", "removed containers"),
        ("findings", "findings"),
        ("deleted", "deleted candidates"),
    ] {
        b.push_str(&card(l, txt(&t[k])));
    }
    b.push_str("</div></section><section id=\"images\"><h2>Images</h2>");
    let rows: Vec<Vec<String>> = arr(&ix["images"])
        .iter()
        .map(|i| {
            let dir = i["dir"].as_str().unwrap_or("");
            vec![
                format!(
                    "<a href=\"{}/report.html\">{}</a>",
                    esc(dir),
                    esc(i["name"].as_str().unwrap_or(dir))
                ),
                txt(&i["case_id"]),
                txt(&i["size"]),
                format!("<span class=\"mono\">{}</span>", txt(&i["sha256"])),
                txt(&i["containers"]),
                txt(&i["running"]),
                txt(&i["removed_containers"]),
                txt(&i["findings_by_severity"]),
                txt(&i["deleted"]),
                txt(&i["exit_code"]),
            ]
        })
        .collect();
    b.push_str(&table(
        "images-table",
        &[
            "image",
            "case",
            "size",
            "sha256",
            "containers",
            "running",
            "removed",
            "findings",
            "deleted",
            "exit",
        ],
        &rows,
    ));
    let failed: Vec<Vec<String>> = arr(&ix["failed"])
        .iter()
        .map(|f| {
            vec![
                txt(&f["dir"]),
                format!("<span class=\"mono\">{}</span>", txt(&f["image"])),
                txt(&f["error"]),
            ]
        })
        .collect();
    if !failed.is_empty() {
        b.push_str("<h3>Not analysed</h3>");
        b.push_str(&table("failed-table", &["dir", "image", "error"], &failed));
    }
    b.push_str("</section><section id=\"top-deletions\"><h2>Top deletions</h2>");
    let mut rows = Vec::new();
    for i in arr(&ix["images"]) {
        for d in arr(&i["top_deletions"]) {
            rows.push(vec![
                txt(&i["name"]),
                format!("<span class=\"mono\">{}</span>", txt(&d["path"])),
                txt(&d["class"]),
                txt(&d["container_name"]),
                txt(&d["size"]),
                txt(&d["content"]),
            ]);
        }
    }
    b.push_str(&table(
        "deletions-table",
        &["image", "path", "class", "container", "size", "content"],
        &rows,
    ));
    b.push_str("</section>");
    page("whiteout evidence store", &b)
}
