"use strict";
// The charger page's live view: connector statuses, the connection and
// the timeline follow the charger's events (Server-Sent Events from
// /console/chargers/{id}/events) without a reload. Everything the server
// sends is put in the page as text, never as markup.

(function () {
  const live = document.getElementById("live");
  if (!live || !window.EventSource || !window.consoleLive) return;
  const maxRows = 100;
  const state = document.getElementById("live-state");
  const setState = (text) => { if (state) state.textContent = text; };

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function setBadge(el, text, cls) {
    el.textContent = text;
    el.className = "badge " + (cls || "unknown");
  }

  // A connector's row, made when the charger reports a new connector.
  function connectorRow(id) {
    const body = document.getElementById("connectors");
    if (!body) return null;
    let row = body.querySelector('tr[data-connector="' + String(Number(id)) + '"]');
    if (row) return row;
    row = document.createElement("tr");
    row.setAttribute("data-connector", String(Number(id)));
    row.appendChild(cell(id === 0 ? "0 (charger)" : String(id)));
    const st = document.createElement("td");
    const badge = document.createElement("span");
    badge.setAttribute("data-field", "status");
    st.appendChild(badge);
    row.appendChild(st);
    for (const f of ["errorCode", "info", "at"]) {
      const td = cell("");
      td.setAttribute("data-field", f);
      row.appendChild(td);
    }
    const rows = Array.from(body.rows);
    const after = rows.find((r) => Number(r.getAttribute("data-connector")) > id);
    body.insertBefore(row, after || null);
    return row;
  }

  function onConnector(c) {
    const row = connectorRow(c.id);
    if (!row) return;
    setBadge(row.querySelector('[data-field="status"]'), c.status, c.class);
    row.querySelector('[data-field="errorCode"]').textContent = c.errorCode || "";
    row.querySelector('[data-field="info"]').textContent = c.info || "";
    row.querySelector('[data-field="at"]').textContent = c.at || "";
    row.classList.add("live-changed");
    setTimeout(() => row.classList.remove("live-changed"), 1500);
  }

  function onConnection(x) {
    const el = document.getElementById("conn-state");
    if (el) setBadge(el, x.connected ? "connected" : "offline", x.connected ? "ok" : "bad");
  }

  function onFrame(e) {
    const body = document.getElementById("timeline");
    if (!body) return;
    const row = document.createElement("tr");
    row.className = "live-changed";
    row.appendChild(cell(e.at));
    row.appendChild(cell(e.direction === "in" ? "← in" : "→ out"));
    row.appendChild(cell(e.type));
    row.appendChild(cell(e.action || ""));
    const td = document.createElement("td");
    if (e.pretty) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = e.summary;
      const pre = document.createElement("pre");
      pre.textContent = e.pretty;
      details.appendChild(summary);
      details.appendChild(pre);
      td.appendChild(details);
    }
    row.appendChild(td);
    body.insertBefore(row, body.firstChild);
    setTimeout(() => row.classList.remove("live-changed"), 1500);
    while (body.rows.length > maxRows) body.deleteRow(body.rows.length - 1);
  }

  function onGap(g) {
    const el = document.getElementById("live-gap");
    if (!el) return;
    el.textContent = "The live view missed " + Number(g.missed) + " event(s); reload the page to see everything.";
    el.hidden = false;
  }

  const src = window.consoleLive(live.getAttribute("data-events"), {
    connector: onConnector,
    connection: onConnection,
    frame: onFrame,
    gap: onGap,
  });
  src.addEventListener("open", () => setState("live"));
  src.addEventListener("error", () => {
    setState(src.readyState === EventSource.CLOSED ? "live view off: reload the page" : "live view reconnecting…");
  });
})();
