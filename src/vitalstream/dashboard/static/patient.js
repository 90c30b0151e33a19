// Patient page: uPlot charts of each vital over the chosen window, alert thresholds dashed.
"use strict";
(function () {
  const pid = document.getElementById("patient-id").textContent;
  const box = document.getElementById("charts");
  const thresholds = JSON.parse(document.getElementById("thresholds").textContent);
  const CHARTS = [
    ["Heart rate /min", ["heart_rate"]],
    ["SpO₂ %", ["spo2"]],
    ["Blood pressure mmHg", ["systolic", "diastolic"]],
    ["Temperature °C", ["temperature_c"]],
    ["Respiration /min", ["respiratory_rate"]],
  ];
  const COLORS = ["#c0392b", "#2471a3", "#7d3c98"];

  function lines(fields) {
    return fields.flatMap((f) => thresholds[f] || []);
  }
  function thresholdHook(fields) {
    return (u) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = "#e67e22";
      ctx.lineWidth = 1;
      for (const value of lines(fields)) {
        const y = u.valToPos(value, "y", true);
        if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
      }
      ctx.restore();
    };
  }
  let span = null; // [since, now] of the chosen window, seconds: every chart shows all of it
  function chart(title, xs, series, fields, target) {
    const width = Math.min(900, target.clientWidth || 900);
    const opts = {
      title, width, height: 180,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i], width: 1.5, spanGaps: true, points: { show: xs.length < 200 } }))],
      axes: [{}, {}],
      scales: {
        // the whole window (one point alone would make a range of years)
        x: { time: true, auto: false, range: () => span },
        // keep the threshold lines in view
        y: { range: (u, min, max) => {
          const all = [min, max, ...lines(fields)].filter((v) => v != null && isFinite(v));
          const lo = Math.min(...all), hi = Math.max(...all), pad = (hi - lo) * 0.08 || 1;
          return [lo - pad, hi + pad];
        } },
      },
      hooks: { draw: [thresholdHook(fields)] },
    };
    const div = document.createElement("div");
    div.className = "chart";
    div.dataset.points = String(xs.length);
    target.append(div);
    return new uPlot(opts, [xs, ...series.map((s) => s.values)], div);
  }
  async function load() {
    const win = box.dataset.window;
    const resp = await fetch("/api/v1/patients/" + encodeURIComponent(pid) + "?window=" + encodeURIComponent(win), { credentials: "same-origin" });
    if (!resp.ok) { box.textContent = "Could not load the vitals (" + resp.status + ")."; return; }
    const data = await resp.json();
    span = [Date.parse(data.since) / 1000, Date.now() / 1000];
    const rows = data.vitals;
    const xs = rows.map((r) => Date.parse(r.t) / 1000);
    let drawn = 0;
    for (const [title, fields] of CHARTS) {
      const present = fields.filter((f) => rows.some((r) => r[f] != null));
      if (!present.length) continue;
      const keep = rows.map((r, i) => present.some((f) => r[f] != null) ? i : -1).filter((i) => i >= 0);
      chart(title, keep.map((i) => xs[i]), present.map((f) => ({ label: f, values: keep.map((i) => rows[i][f]) })), present, box);
      drawn++;
    }
    if (!drawn) box.textContent = "No readings in this window.";
    const n = data.news2;
    if (n.length) {
      chart("NEWS2 total", n.map((r) => Date.parse(r.event_time) / 1000), [{ label: "NEWS2", values: n.map((r) => r.total) }], [], document.getElementById("news2-chart"));
    } else {
      document.getElementById("news2-chart").textContent = "No NEWS2 scores in this window.";
    }
    box.dataset.loaded = "yes";
  }
  load();
})();
