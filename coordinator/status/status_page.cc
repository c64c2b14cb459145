#include "coordinator/status/status_page.h"

namespace fedsmear {

const char* StatusPageHtml() {
  return R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fedsmear run status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#222}
header{background:#243447;color:#fff;padding:10px 18px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
.stage{font-size:16px;font-weight:600}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:14px;padding:14px}
.wide{grid-column:1/-1}
section{background:#fff;border-radius:6px;padding:10px 14px;box-shadow:0 1px 2px #0002;overflow-x:auto}
h2{font-size:15px;margin:4px 0 8px}
table{border-collapse:collapse;width:100%}
td,th{padding:3px 6px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37}.warn{color:#b35900}.bad{color:#c62828}.muted{color:#888}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;margin-right:4px}
#error{background:#c62828;color:#fff;padding:6px 18px;display:none}
</style></head><body>
<header><h1>fedsmear</h1><span id="run">run …</span>
<span class="stage" id="stage">connecting…</span><span id="clock"></span></header>
<div id="error"></div>
<main>
<section><h2>Sites</h2><table id="sites"><thead><tr><th>site</th><th>state</th><th>last seen</th>
<th>train / val images</th><th>rounds</th></tr></thead><tbody></tbody></table>
<p class="muted" id="sitesum"></p></section>
<section><h2>Held-out accuracy and macro-F1 per round</h2><div id="plot"></div>
<div class="legend" id="legend"></div></section>
<section><h2>Bytes per round</h2><div id="bytes"></div>
<div class="legend"><span><i style="background:#3b78c2"></i>to sites</span><span><i style="background:#e08a2c"></i>from sites</span></div></section>
<section class="wide"><h2>Rounds</h2><table id="rounds"><thead><tr><th>round</th><th>accuracy</th><th>macro-F1</th>
<th>reported / selected</th><th>refusals</th><th>dropouts</th><th>MiB down / up</th><th>seconds</th>
</tr></thead><tbody></tbody></table></section>
<section><h2>Refusals and dropouts</h2><table id="events"><thead><tr><th>time</th><th>round</th>
<th>site</th><th>what</th><th>reason</th></tr></thead><tbody></tbody></table>
<p class="muted" id="eventsum"></p></section>
</main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const COLORS = ["#3b78c2","#e08a2c","#2e9e5b","#c43b3b","#8e5cc4","#7a5a3a","#d45fb0","#555"];
function api(path){
  const u = token ? path + "?token=" + encodeURIComponent(token) : path;
  return fetch(u, {cache:"no-store"}).then(r => { if(!r.ok) throw new Error(path + ": HTTP " + r.status); return r.json(); });
}
function esc(s){ return String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c])); }
function ago(s){ if(s < 0.5) return "just now"; if(s < 10) return s.toFixed(1) + " s ago"; if(s < 90) return Math.round(s) + " s ago";
  if(s < 5400) return Math.round(s/60) + " min ago"; return (s/3600).toFixed(1) + " h ago"; }
function fmt(x, d){ return (x === null || x === undefined) ? "–" : Number(x).toFixed(d); }
function mib(b){ return (b/1048576).toFixed(2); }
const stateClass = {reported:"ok", training:"ok", idle:"", refused:"warn", deadline:"bad", dropped:"bad", failed:"bad", disconnected:"bad"};
function showRun(r){
  document.getElementById("run").textContent = "run " + r.run_id + " · " + r.strategy +
    " · " + r.codec_down + " down / " + r.codec_up + " up" + (r.secure_aggregation ? " · SecAgg+" : "");
  const rd = r.round > 0 ? "round " + r.round + " of " + r.rounds_planned + ": " : "";
  document.getElementById("stage").textContent = rd + r.stage + (r.detail ? " (" + r.detail + ")" : "");
  document.getElementById("clock").textContent = "for " + ago(r.now - r.stage_since).replace(" ago","");
  const rows = r.sites.map(s => "<tr><td>" + esc(s.site) + "</td><td class='" + (stateClass[s.state]||"") +
    "' title='" + esc(s.detail) + "'>" + esc(s.state) + "</td><td>" + ago(s.last_seen_s_ago) + "</td><td>" +
    s.num_train + " / " + s.num_val + "</td><td>" + s.rounds_reported + "</td></tr>");
  document.querySelector("#sites tbody").innerHTML = rows.join("");
  document.getElementById("sitesum").textContent = r.sites_connected + " of " + r.sites.length +
    " site(s) connected; " + r.selected.length + " selected in the current round; " +
    r.rounds_completed + " round(s) completed.";
  const ev = r.events.slice().reverse().map(e => "<tr><td>" + new Date(e.time*1000).toLocaleTimeString() +
    "</td><td>" + e.round + "</td><td>" + esc(e.site) + "</td><td class='" + (stateClass[e.kind]||"") + "'>" +
    esc(e.kind) + "</td><td style='text-align:left;white-space:normal'>" + esc(e.reason) + "</td></tr>");
  document.querySelector("#events tbody").innerHTML = ev.join("");
  document.getElementById("eventsum").textContent = r.refusals + " refusal(s), " + r.dropouts +
    " dropout(s) in completed rounds; " + mib(r.bytes_sent) + " MiB sent, " + mib(r.bytes_received) + " MiB received.";
}
function svgEl(w, h, inner){ return "<svg width='100%' viewBox='0 0 " + w + " " + h + "'>" + inner + "</svg>"; }
// Grid, y labels and round numbers; xpos(i) places round i+1 (default: points spread edge to edge).
function axes(w, h, m, n, ymax, yfmt, xpos){
  let s = "";
  for(let i = 0; i <= 4; i++){ const y = m.t + (h - m.t - m.b) * (1 - i/4);
    s += "<line x1='" + m.l + "' x2='" + (w - m.r) + "' y1='" + y + "' y2='" + y + "' stroke='#e3e3e3'/>" +
      "<text x='" + (m.l - 6) + "' y='" + (y + 4) + "' font-size='11' text-anchor='end' fill='#666'>" + yfmt(ymax*i/4) + "</text>"; }
  const step = Math.max(1, Math.ceil(n / 12));
  const X = xpos || (i => m.l + (w - m.l - m.r) * (n === 1 ? 0.5 : i/(n - 1)));
  for(let i = 1; i <= n; i += step){ const x = X(i - 1);
    s += "<text x='" + x + "' y='" + (h - m.b + 15) + "' font-size='11' text-anchor='middle' fill='#666'>" + i + "</text>"; }
  return s + "<text x='" + ((w + m.l)/2) + "' y='" + (h - 2) + "' font-size='11' text-anchor='middle' fill='#666'>round</text>";
}
function plotMetrics(data){
  const w = 520, h = 240, m = {l:44, r:10, t:10, b:34};
  const rounds = data.rounds, n = rounds.length;
  if(n === 0){ document.getElementById("plot").innerHTML = "<p class='muted'>no completed round yet</p>"; return; }
  const series = [];
  const sets = data.holdouts.length ? data.holdouts : [];
  sets.forEach(name => {
    series.push({label: name + " accuracy", dash:"", get: r => r.central && r.central[name] ? r.central[name].accuracy : null});
    series.push({label: name + " macro-F1", dash:"5,3", get: r => r.central && r.central[name] ? r.central[name].macro_f1 : null});
  });
  if(!sets.length) series.push({label:"site validation accuracy", dash:"", get: r => r.site_val_accuracy});
  let s = axes(w, h, m, n, 1, v => v.toFixed(2));
  const X = i => m.l + (w - m.l - m.r) * (n === 1 ? 0.5 : i/(n - 1));
  const Y = v => m.t + (h - m.t - m.b) * (1 - v);
  let legend = "";
  series.forEach((se, k) => {
    const color = COLORS[Math.floor(k/2) % COLORS.length];
    const pts = rounds.map((r, i) => { const v = se.get(r); return v === null || v === undefined ? null : [X(i), Y(v)]; }).filter(p => p);
    s += "<polyline fill='none' stroke='" + color + "' stroke-width='2' stroke-dasharray='" + se.dash + "' points='" +
      pts.map(p => p[0].toFixed(1) + "," + p[1].toFixed(1)).join(" ") + "'/>";
    pts.forEach(p => { s += "<circle cx='" + p[0].toFixed(1) + "' cy='" + p[1].toFixed(1) + "' r='2.5' fill='" + color + "'/>"; });
    const swatch = se.dash ? "height:0;border-top:2px dashed " + color : "background:" + color;
    legend += "<span><i style='" + swatch + "'></i>" + esc(se.label) + "</span>";
  });
  document.getElementById("plot").innerHTML = svgEl(w, h, s);
  document.getElementById("legend").innerHTML = legend;
}
function plotBytes(data){
  const w = 520, h = 200, m = {l:54, r:10, t:10, b:34};
  const rounds = data.rounds, n = rounds.length;
  if(n === 0){ document.getElementById("bytes").innerHTML = "<p class='muted'>no completed round yet</p>"; return; }
  const down = rounds.map(r => (r.bytes_down||0) + (r.bytes_eval_down||0)), up = rounds.map(r => r.bytes_up||0);
  const ymax = Math.max(1, ...down, ...up) / 1048576;
  const slot = (w - m.l - m.r) / n, bw = Math.max(2, slot * 0.35);
  let s = axes(w, h, m, n, ymax, v => v.toFixed(v < 10 ? 1 : 0) + " MiB", i => m.l + slot * (i + 0.5));
  rounds.forEach((r, i) => {
    const x0 = m.l + slot * i + slot * 0.5 - bw;
    [[down[i], "#3b78c2"], [up[i], "#e08a2c"]].forEach(([b, c], k) => {
      const bh = (h - m.t - m.b) * (b / 1048576) / ymax;
      s += "<rect x='" + (x0 + k * bw).toFixed(1) + "' y='" + (h - m.b - bh).toFixed(1) + "' width='" + bw.toFixed(1) +
        "' height='" + bh.toFixed(1) + "' fill='" + c + "'><title>round " + r.round + ": " + mib(b) + " MiB</title></rect>";
    });
  });
  document.getElementById("bytes").innerHTML = svgEl(w, h, s);
}
function showRounds(data){
  const rows = data.rounds.slice().reverse().map(r => "<tr id='round-" + r.round + "'><td>round " + r.round + "</td><td>" +
    fmt(r.accuracy, 4) + "</td><td>" + fmt(r.macro_f1, 4) + "</td><td>" + (r.sites_reported||[]).length + " / " +
    (r.sites_selected||[]).length + "</td><td>" + (r.refusals||0) + "</td><td>" + (r.dropouts||0) + "</td><td>" +
    mib((r.bytes_down||0) + (r.bytes_eval_down||0)) + " / " + mib(r.bytes_up||0) + "</td><td>" + fmt(r.round_s, 1) + "</td></tr>");
  document.querySelector("#rounds tbody").innerHTML = rows.join("");
  plotMetrics(data);
  plotBytes(data);
}
let lastCompleted = -1;
function refresh(){
  api("/api/run").then(r => {
    document.getElementById("error").style.display = "none";
    showRun(r);
    if(r.rounds_completed !== lastCompleted){
      return api("/api/rounds").then(d => { showRounds(d); lastCompleted = r.rounds_completed; });
    }
  }).catch(e => { const el = document.getElementById("error"); el.textContent = "cannot reach the coordinator: " + e.message; el.style.display = "block"; })
    .finally(() => setTimeout(refresh, 2000));
}
refresh();
</script></body></html>
)HTML";
}

}  // namespace fedsmear
