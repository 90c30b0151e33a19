// The live patient board: rows from the page, then changed rows pushed over server-sent events.
"use strict";
(function () {
  const rows = new Map();
  const tbody = document.getElementById("rows");
  const search = document.getElementById("search");
  const sourceSel = document.getElementById("source");
  const device = document.getElementById("device");
  const live = document.getElementById("live");
  const csrf = document.getElementById("csrf").value;
  const mayAck = document.getElementById("may-ack").value === "yes";
  const SEV = { critical: 4, high: 3, medium: 2, low: 1 };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }
  function ago(iso) {
    if (!iso) return "";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 90) return Math.round(s) + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    if (s < 172800) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }
  function vital(row, field, fmt) {
    const v = row.vitals[field];
    if (!v) return el("td", { class: "empty", text: "–" });
    return el("td", { title: v.t }, el("b", { text: fmt ? fmt(v.v) : String(v.v) }), el("small", { text: " " + ago(v.t) }));
  }
  function risk(r) {
    const sev = Math.max(0, ...r.alerts.map((a) => SEV[a.severity] || 0));
    return [sev, r.news2 ? r.news2.total : -1];
  }
  function compare(a, b) {
    const [sa, na] = risk(a), [sb, nb] = risk(b);
    return sb - sa || nb - na || a.patient_id.localeCompare(b.patient_id);
  }
  function ackButton(a) {
    const b = el("button", { class: "ack", type: "button", "data-alert": a.alert_id, text: "Acknowledge" });
    b.addEventListener("click", async () => {
      b.disabled = true;
      const resp = await fetch("/alerts/" + encodeURIComponent(a.alert_id) + "/ack", {
        method: "POST", headers: { "X-CSRF-Token": csrf, Accept: "application/json" }, credentials: "same-origin",
      });
      if (!resp.ok) { b.disabled = false; b.textContent = "Failed (" + resp.status + ")"; }
    });
    return b;
  }
  function render(r) {
    const tr = el("tr", { "data-patient": r.patient_id });
    tr.append(el("td", {}, el("a", { href: "/patients/" + encodeURIComponent(r.patient_id), text: r.patient_id })));
    const n = r.news2;
    tr.append(n ? el("td", { class: "news2" }, el("span", { class: "band band-" + n.band, text: n.total + " " + n.band }),
      n.partial ? el("em", { class: "partial", title: "missing: " + n.missing.join(", "), text: " partial" }) : null)
      : el("td", { class: "empty", text: "–" }));
    const alerts = el("td", { class: "alerts" });
    for (const a of r.alerts) {
      alerts.append(el("div", { class: "alert sev-" + a.severity, "data-rule": a.rule },
        el("span", { text: a.rule + " · " + a.severity + " · " + ago(a.since) }),
        a.acked_by ? el("span", { class: "acked", text: " ✓ " + a.acked_by }) : (mayAck ? ackButton(a) : null)));
    }
    tr.append(alerts);
    tr.append(vital(r, "heart_rate"), vital(r, "spo2"));
    const s = r.vitals.systolic, d = r.vitals.diastolic;
    tr.append(s ? el("td", { title: s.t }, el("b", { text: s.v + "/" + (d ? d.v : "?") }), el("small", { text: " " + ago(s.t) }))
      : el("td", { class: "empty", text: "–" }));
    tr.append(vital(r, "temperature_c", (v) => Number(v).toFixed(1)), vital(r, "respiratory_rate"),
      vital(r, "consciousness"), vital(r, "fall_detected", (v) => (v ? "FALL" : "no")));
    tr.append(el("td", { class: "src", text: r.sources.join(", ") + (r.devices.length ? " · " + r.devices.join(", ") : "") }));
    return tr;
  }
  function visible(r) {
    const q = search.value.trim().toLowerCase();
    if (q && !r.patient_id.toLowerCase().includes(q)) return false;
    if (sourceSel.value && !r.sources.includes(sourceSel.value)) return false;
    const dv = device.value.trim().toLowerCase();
    if (dv && !r.devices.some((x) => x.toLowerCase().includes(dv))) return false;
    return true;
  }
  function redraw() {
    const shown = [...rows.values()].filter(visible).sort(compare);
    tbody.replaceChildren(...shown.slice(0, 500).map(render));
    document.getElementById("count").textContent = shown.length + " of " + rows.size + " patients";
    const sources = new Set([...rows.values()].flatMap((r) => r.sources));
    for (const s of sources) {
      if (![...sourceSel.options].some((o) => o.value === s)) sourceSel.append(el("option", { value: s, text: s }));
    }
  }
  let pending = false;
  function schedule() {
    if (!pending) { pending = true; setTimeout(() => { pending = false; redraw(); }, 50); }
  }
  for (const r of JSON.parse(document.getElementById("initial-rows").textContent)) rows.set(r.patient_id, r);
  redraw();
  for (const input of [search, sourceSel, device]) input.addEventListener("input", redraw);
  const es = new EventSource("/live/board");
  es.addEventListener("open", () => { live.textContent = "live"; live.className = "live on"; });
  es.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "live"; });
  es.addEventListener("rows", (ev) => {
    for (const r of JSON.parse(ev.data)) rows.set(r.patient_id, r);
    schedule();
  });
  setInterval(schedule, 30000); // keep the "ago" times honest when nothing changes
})();
