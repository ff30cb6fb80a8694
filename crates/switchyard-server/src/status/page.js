// Refreshes the status page from /status every 5 seconds. Builds rows with textContent only,
// the same cells the server renders.
"use strict";
(function () {
  const pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(1) + " %");
  const ms = (v) => (v === null || v === undefined ? "–" : Math.round(v) + " ms");
  const secs = (v) => (v === null || v === undefined ? "–" : v.toFixed(1) + " s");
  const usd = (v) => (v === null || v === undefined ? "–" : "$" + v.toFixed(4));
  function cell(text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }
  function fill(id, rows) {
    const body = document.querySelector("#" + id + " tbody");
    body.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement("tr");
      cells.forEach((c) => tr.appendChild(Array.isArray(c) ? cell(c[0], c[1]) : cell(c)));
      return tr;
    }));
  }
  const targetCells = (t) => [
    t.model, t.provider, [t.breaker || "–", "breaker-" + (t.breaker || "none")],
    ms(t.latency_ms_avg), pct(t.recent_error_rate), String(t.recent_attempts), secs(t.cooldown_seconds),
  ];
  function render(s) {
    document.getElementById("version").textContent = s.version;
    document.getElementById("uptime").textContent = s.uptime_seconds + " s";
    document.getElementById("in-flight").textContent =
      s.in_flight.requests + " requests, " + s.in_flight.streams + " streams";
    document.getElementById("config-sha").textContent = s.config.sha256 || "(embedded default)";
    document.getElementById("config-generation").textContent = String(s.config.generation);
    document.getElementById("config-loaded").textContent = s.config.loaded_at;
    const err = document.getElementById("last-error");
    err.textContent = s.last_reload_error
      ? s.last_reload_error.time + ": " + s.last_reload_error.errors.join("; ")
      : "none";
    document.getElementById("window").textContent = Math.round(s.error_window_seconds) + " s";
    fill("routes", s.routes.flatMap((r) => r.targets.map((t, i) => [
      i === 0 ? r.name : "", i === 0 ? r.strategy + (r.when ? " (when)" : "") : "", String(i + 1),
    ].concat(targetCells(t)))));
    fill("targets", s.targets.map(targetCells));
    fill("keys", s.keys.map((k) => [
      k.id, usd(k.spent_usd_since_start),
      k.budget ? usd(k.budget.usd) + " " + k.budget.period : "–",
      k.budget ? usd(k.budget.spent) : "–", k.budget ? usd(k.budget.remaining) : "–",
      k.budget && k.budget.resets_at ? k.budget.resets_at : "–",
    ]));
    fill("reloads", s.reloads.map((e) => [
      e.time, [e.result, "reload-" + e.result], String(e.generation),
      e.sha256 ? e.sha256.slice(0, 12) : "–", (e.errors || []).join("; "),
    ]));
    document.getElementById("updated").textContent = new Date().toISOString();
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  }
  async function refresh() {
    try {
      const r = await fetch("status", { cache: "no-store" });
      if (!r.ok) throw new Error("HTTP " + r.status);
      render(await r.json());
      document.getElementById("stale").hidden = true;
    } catch (e) {
      const s = document.getElementById("stale");
      s.hidden = false;
      s.textContent = "refresh failed: " + e.message;
    }
  }
  setInterval(refresh, 5000);
  refresh();
})();
