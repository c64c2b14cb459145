#include "coordinator/status/status_page.h"

namespace fedsmear {

const char* StatusPageHtml() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fedsmear run status</title>
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head><body>
<header><h1>fedsmear</h1><span id="run">run …</span>
<span class="stage" id="stage">connecting…</span><span id="clock"></span>
<form method="post" action="/logout" class="logout"><button type="submit">sign out</button></form></header>
<div id="error"></div>
<main>
<section class="wide" id="job-section" hidden><h2 id="job-title">job</h2>
<table id="job" class="facts"><tbody></tbody></table><p><a href="/">all jobs</a></p></section>
<section class="wide" id="jobs-section" hidden><h2>Jobs</h2><table id="jobs"><thead><tr><th>job</th>
<th>name</th><th>state</th><th>submitted by</th><th>submitted</th><th>started</th><th>ended</th>
<th>outcome</th></tr></thead><tbody></tbody></table><p class="muted" id="jobsum"></p></section>
<section><h2>Sites</h2><table id="sites"><thead><tr><th>site</th><th>state</th><th>last seen</th>
<th>train / val images</th><th>rounds</th></tr></thead><tbody></tbody></table>
<p class="muted" id="sitesum"></p></section>
<section><h2>Held-out accuracy and macro-F1 per round</h2><div id="plot"></div>
<div class="legend" id="legend"></div></section>
<section><h2>Bytes per round</h2><div id="bytes"></div>
<div class="legend"><span><i class="down"></i>to sites</span><span><i class="up"></i>from sites</span></div></section>
<section class="wide"><h2>Rounds</h2><table id="rounds"><thead><tr><th>round</th><th>accuracy</th><th>macro-F1</th>
<th>reported / selected</th><th>refusals</th><th>dropouts</th><th>MiB down / up</th><th>seconds</th>
</tr></thead><tbody></tbody></table></section>
<section><h2>Refusals and dropouts</h2><table id="events"><thead><tr><th>time</th><th>round</th>
<th>site</th><th>what</th><th>reason</th></tr></thead><tbody></tbody></table>
<p class="muted" id="eventsum"></p></section>
</main>
</body></html>
)HTML";
}

const char* StatusPageStyle() {
  return R"CSS(body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#222}
header{background:#243447;color:#fff;padding:10px 18px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
header .logout{margin-left:auto}
.stage{font-size:16px;font-weight:600}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:14px;padding:14px}
.wide{grid-column:1/-1}
section{background:#fff;border-radius:6px;padding:10px 14px;box-shadow:0 1px 2px #0002;overflow-x:auto}
h2{font-size:15px;margin:4px 0 8px}
table{border-collapse:collapse;width:100%}
td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}
td.reason{text-align:left;white-space:normal}
.ok{color:#1a7f37}.warn{color:#b35900}.bad{color:#c62828}.muted{color:#888}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
.legend i.down{background:#3b78c2}.legend i.up{background:#e08a2c}
#error{background:#c62828;color:#fff;padding:6px 18px;display:none}
[hidden]{display:none!important}
table.facts{width:auto}table.facts th{text-align:left;padding-right:18px}table.facts td{text-align:left;white-space:normal}
)CSS";
}

const char* StatusPageScript() {
  return R"JS("use strict";
const SVG_NS = "http://www.w3.org/2000/svg";
const COLORS = ["#3b78c2","#e08a2c","#2e9e5b","#c43b3b","#8e5cc4","#7a5a3a","#d45fb0","#555"];
const stateClass = {reported:"ok", training:"ok", idle:"", refused:"warn", deadline:"bad", dropped:"bad", failed:"bad", disconnected:"bad"};
const jobClass = {queued:"", running:"ok", completed:"ok", failed:"bad", aborted:"warn"};
// On /jobs/<id> the page shows that job (ids are job-NNNN; the server refuses any other path).
const JOB_ID_RE = /^job-[0-9]{1,9}$/;
const JOB_ID = (m => m && JOB_ID_RE.test(m[1]) ? m[1] : null)(location.pathname.match(/^\/jobs\/([^\/]+)$/));
// Elements from data: attributes by setAttribute, children as nodes or text nodes. Never HTML.
function build(make, tag, attrs, children){
  const e = make(tag);
  for(const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for(const c of children || []) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
function h(tag, attrs, ...children){ return build(t => document.createElement(t), tag, attrs, children); }
function s(tag, attrs, ...children){ return build(t => document.createElementNS(SVG_NS, t), tag, attrs, children); }
function $(id){ return document.getElementById(id); }
// The JSON at `path`; with `optional`, null when the endpoint has no such route (404).
function api(path, optional){
  return fetch(path, {cache:"no-store", credentials:"same-origin"}).then(r => {
    if(r.status === 401){ location.assign("/login"); throw new Error("sign in first"); }
    if(optional && r.status === 404) return null;
    if(!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  });
}
function when(t){ return (t === null || t === undefined) ? "–" : new Date(t*1000).toLocaleString(); }
function ago(x){ if(x === null || x === undefined) return "–"; if(x < 0.5) return "just now"; if(x < 10) return x.toFixed(1) + " s ago"; if(x < 90) return Math.round(x) + " s ago";
  if(x < 5400) return Math.round(x/60) + " min ago"; return (x/3600).toFixed(1) + " h ago"; }
function fmt(x, d){ return (x === null || x === undefined) ? "–" : Number(x).toFixed(d); }
function mib(b){ return (b/1048576).toFixed(2); }
function showRun(r){
  $("run").textContent = (r.job ? "job " + r.job + " · " : "") + (r.run_id ? "run " + r.run_id + " · " : "") +
    (r.strategy ? r.strategy + " · " + r.codec_down + " down / " + r.codec_up + " up" : "no job yet") +
    (r.secure_aggregation ? " · SecAgg+" : "");
  const rd = r.round > 0 ? "round " + r.round + " of " + r.rounds_planned + ": " : "";
  $("stage").textContent = rd + r.stage + (r.detail ? " (" + r.detail + ")" : "");
  $("clock").textContent = "for " + ago(r.now - r.stage_since).replace(" ago","");
  document.querySelector("#sites tbody").replaceChildren(...r.sites.map(x => h("tr", {},
    h("td", {}, x.site), h("td", {class: stateClass[x.state] || "", title: x.detail}, x.state),
    h("td", {}, ago(x.last_seen_s_ago)), h("td", {}, x.num_train + " / " + x.num_val),
    h("td", {}, x.rounds_reported))));
  $("sitesum").textContent = r.sites_connected + " of " + r.sites.length + " site(s) connected; " +
    r.selected.length + " selected in the current round; " + r.rounds_completed + " round(s) completed.";
  document.querySelector("#events tbody").replaceChildren(...r.events.slice().reverse().map(e => h("tr", {},
    h("td", {}, e.time ? new Date(e.time*1000).toLocaleTimeString() : "–"), h("td", {}, e.round), h("td", {}, e.site),
    h("td", {class: stateClass[e.kind] || ""}, e.kind), h("td", {class: "reason"}, e.reason))));
  $("eventsum").textContent = r.refusals + " refusal(s), " + r.dropouts + " dropout(s) in completed rounds; " +
    mib(r.bytes_sent) + " MiB sent, " + mib(r.bytes_received) + " MiB received.";
}
function label(x, y, anchor, text){ return s("text", {x: x, y: y, "font-size": 11, "text-anchor": anchor, fill: "#666"}, text); }
// Grid, y labels and round numbers; xpos(i) places round i+1 (default: points spread edge to edge).
function axes(g, w, h_, m, n, ymax, yfmt, xpos){
  for(let i = 0; i <= 4; i++){ const y = m.t + (h_ - m.t - m.b) * (1 - i/4);
    g.append(s("line", {x1: m.l, x2: w - m.r, y1: y, y2: y, stroke: "#e3e3e3"}), label(m.l - 6, y + 4, "end", yfmt(ymax*i/4))); }
  const step = Math.max(1, Math.ceil(n / 12));
  const X = xpos || (i => m.l + (w - m.l - m.r) * (n === 1 ? 0.5 : i/(n - 1)));
  for(let i = 1; i <= n; i += step) g.append(label(X(i - 1), h_ - m.b + 15, "middle", i));
  g.append(label((w + m.l)/2, h_ - 2, "middle", "round"));
}
function chart(w, h_){ return s("svg", {width: "100%", viewBox: "0 0 " + w + " " + h_}); }
function empty(id){ $(id).replaceChildren(h("p", {class: "muted"}, "no completed round yet")); }
function plotMetrics(data){
  const w = 520, h_ = 240, m = {l:44, r:10, t:10, b:34};
  const rounds = data.rounds, n = rounds.length;
  if(n === 0){ empty("plot"); return; }
  const series = [];
  data.holdouts.forEach(name => {
    series.push({label: name + " accuracy", dash: "", get: r => r.central && r.central[name] ? r.central[name].accuracy : null});
    series.push({label: name + " macro-F1", dash: "5,3", get: r => r.central && r.central[name] ? r.central[name].macro_f1 : null});
  });
  if(!data.holdouts.length) series.push({label: "site validation accuracy", dash: "", get: r => r.site_val_accuracy});
  const g = chart(w, h_);
  axes(g, w, h_, m, n, 1, v => v.toFixed(2));
  const X = i => m.l + (w - m.l - m.r) * (n === 1 ? 0.5 : i/(n - 1));
  const Y = v => m.t + (h_ - m.t - m.b) * (1 - v);
  const legend = [];
  series.forEach((se, k) => {
    const color = COLORS[Math.floor(k/2) % COLORS.length];
    const pts = rounds.map((r, i) => { const v = se.get(r); return typeof v === "number" ? [X(i), Y(v)] : null; }).filter(p => p);
    g.append(s("polyline", {fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": se.dash,
      points: pts.map(p => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ")}));
    pts.forEach(p => g.append(s("circle", {cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: 2.5, fill: color})));
    const swatch = h("i");
    if(se.dash){ swatch.style.height = "0"; swatch.style.borderTop = "2px dashed " + color; } else { swatch.style.background = color; }
    legend.push(h("span", {}, swatch, se.label));
  });
  $("plot").replaceChildren(g);
  $("legend").replaceChildren(...legend);
}
function plotBytes(data){
  const w = 520, h_ = 200, m = {l:54, r:10, t:10, b:34};
  const rounds = data.rounds, n = rounds.length;
  if(n === 0){ empty("bytes"); return; }
  const down = rounds.map(r => (r.bytes_down||0) + (r.bytes_eval_down||0)), up = rounds.map(r => r.bytes_up||0);
  const ymax = Math.max(1, ...down, ...up) / 1048576;
  const slot = (w - m.l - m.r) / n, bw = Math.max(2, slot * 0.35);
  const g = chart(w, h_);
  axes(g, w, h_, m, n, ymax, v => v.toFixed(v < 10 ? 1 : 0) + " MiB", i => m.l + slot * (i + 0.5));
  rounds.forEach((r, i) => {
    const x0 = m.l + slot * i + slot * 0.5 - bw;
    [[down[i], "#3b78c2"], [up[i], "#e08a2c"]].forEach(([b, c], k) => {
      const bh = (h_ - m.t - m.b) * (b / 1048576) / ymax;
      g.append(s("rect", {x: (x0 + k * bw).toFixed(1), y: (h_ - m.b - bh).toFixed(1), width: bw.toFixed(1),
        height: bh.toFixed(1), fill: c}, s("title", {}, "round " + r.round + ": " + mib(b) + " MiB")));
    });
  });
  $("bytes").replaceChildren(g);
}
function showRounds(data){
  document.querySelector("#rounds tbody").replaceChildren(...data.rounds.slice().reverse().map(r => h("tr", {id: "round-" + r.round},
    h("td", {}, "round " + r.round), h("td", {}, fmt(r.accuracy, 4)), h("td", {}, fmt(r.macro_f1, 4)),
    h("td", {}, (r.sites_reported||[]).length + " / " + (r.sites_selected||[]).length),
    h("td", {}, r.refusals||0), h("td", {}, r.dropouts||0),
    h("td", {}, mib((r.bytes_down||0) + (r.bytes_eval_down||0)) + " / " + mib(r.bytes_up||0)),
    h("td", {}, fmt(r.round_s, 1)))));
  plotMetrics(data);
  plotBytes(data);
}
// The jobs of a long-lived coordinator, newest first; `d` is null when the endpoint has none.
function showJobs(d){
  $("jobs-section").hidden = !d;
  if(!d) return;
  document.querySelector("#jobs tbody").replaceChildren(...d.jobs.map(j => h("tr", {},
    h("td", {}, JOB_ID_RE.test(j.id) ? h("a", {href: "/jobs/" + j.id}, j.id) : j.id),
    h("td", {class: "reason"}, j.name),
    h("td", {class: jobClass[j.state] || ""}, j.state + (j.id === d.live_job ? " (shown below)" : "")),
    h("td", {}, j.submitted_by), h("td", {}, when(j.submitted)), h("td", {}, when(j.started)),
    h("td", {}, when(j.ended)), h("td", {class: "reason"}, j.message))));
  const c = d.counts;
  $("jobsum").textContent = d.listed + " of " + d.total + " job(s) listed, newest first; " + c.queued + " queued, " +
    c.running + " running, " + c.completed + " completed, " + c.failed + " failed, " + c.aborted + " aborted.";
}
// One job's page: its facts, and what each site did over its rounds when no live site is known.
function showJob(d){
  const j = d.job;
  $("job-section").hidden = false;
  $("job-title").textContent = "job " + j.id;
  const row = (k, v, cls) => h("tr", {}, h("th", {}, k), h("td", {class: cls || ""}, v));
  document.querySelector("#job tbody").replaceChildren(row("name", j.name), row("state", j.state, jobClass[j.state]),
    row("submitted by", j.submitted_by), row("submitted", when(j.submitted)), row("started", when(j.started)),
    row("ended", when(j.ended)), row("outcome", j.message || (j.state === "completed" ? "completed" : "–")));
  showRun(d.run);
  if(!d.live){
    $("clock").textContent = j.ended ? "ended " + when(j.ended) : "";
    document.querySelector("#sites tbody").replaceChildren(...d.sites.map(x => h("tr", {},
      h("td", {}, x.site), h("td", {class: x.rounds_failed ? "warn" : "", title: x.last_failure},
        "reported in " + x.rounds_reported + " of " + x.rounds_selected + " round(s)"),
      h("td", {}, "–"), h("td", {}, "–"), h("td", {}, x.rounds_reported))));
    $("sitesum").textContent = d.sites.length + " site(s) took part; " + d.run.rounds_completed + " round(s) recorded.";
  }
  showRounds(d.rounds);
  return j.state === "queued" || j.state === "running";
}
let lastCompleted = -1;
// A coordinator without jobs answers /api/jobs with 404 once; the page then stops asking.
let hasJobs = true;
function fail(e){ const el = $("error"); el.textContent = "cannot reach the coordinator: " + e.message; el.style.display = "block"; }
function refresh(){
  if(JOB_ID){
    api("/api/jobs/" + JOB_ID).then(d => { $("error").style.display = "none"; return showJob(d); })
      .then(more => { if(more) setTimeout(refresh, 2000); }, e => { fail(e); setTimeout(refresh, 2000); });
    return;
  }
  api("/api/run").then(r => {
    $("error").style.display = "none";
    showRun(r);
    const rounds = r.rounds_completed !== lastCompleted
      ? api("/api/rounds").then(d => { showRounds(d); lastCompleted = r.rounds_completed; }) : null;
    const jobs = hasJobs ? api("/api/jobs", true).then(d => { hasJobs = d !== null; showJobs(d); }) : null;
    return Promise.all([rounds, jobs]);
  }).catch(fail).finally(() => setTimeout(refresh, 2000));
}
refresh();
)JS";
}

}  // namespace fedsmear
