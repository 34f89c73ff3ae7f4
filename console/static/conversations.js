"use strict";
// The conversations' live views: the list (rows moved to the top as
// conversations change) and one conversation's transcript with its panel.
// Everything received is inserted as text (textContent), never as markup.
(() => {
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const word = (s) => String(s || "").replace(/[^a-z_-]/g, "");

  // The list.
  const table = document.getElementById("convs");
  if (table && table.dataset.live) {
    const tbody = table.tBodies[0];
    const size = Math.max(Number(table.dataset.page) || 0, 50);
    const row = (r) => {
      const old = [...tbody.rows].find((tr) => tr.dataset.id === r.id);
      if (old) old.remove();
      if (!r.match) return;
      const empty = tbody.querySelector("tr.empty");
      if (empty) empty.remove();
      const tr = el("tr", "fresh");
      tr.dataset.id = r.id;
      const link = el("a", "", r.id);
      link.href = r.url;
      const cells = [
        [link],
        [document.createTextNode(r.channel || ""), r.from ? el("span", "muted", " " + r.from) : null],
        [document.createTextNode(r.language || "")],
        [document.createTextNode(r.category || "")],
        [el("span", "badge phase-" + word(r.phase), r.phaseLabel), r.operator ? el("span", "muted", " " + r.operator) : null],
        [document.createTextNode(r.driver || "")],
        [document.createTextNode(r.charger || "")],
        [el("time", "", r.active), el("span", "muted", " " + (r.activeAgo || ""))],
        [el("time", "", r.started)],
      ];
      for (const parts of cells) {
        const td = el("td");
        for (const p of parts) if (p) td.appendChild(p);
        tr.appendChild(td);
      }
      tbody.insertBefore(tr, tbody.firstChild);
      while (tbody.rows.length > size) tbody.deleteRow(-1);
    };
    window.consoleLive(table.dataset.live, {
      row,
      reload: () => { document.getElementById("convs-reload").hidden = false; },
    });
  }

  // One conversation.
  const conv = document.getElementById("conv");
  if (conv && conv.dataset.live) {
    const list = document.getElementById("transcript");
    const me = conv.dataset.me;
    const atBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.scrollTop = list.scrollHeight;
    const turn = (t) => {
      const seq = Number(t.seq);
      if (!Number.isSafeInteger(seq)) return;
      const follow = atBottom();
      let li = [...list.children].find((x) => Number(x.dataset.seq) === seq);
      if (!li) {
        li = el("li");
        li.dataset.seq = String(seq);
        const after = [...list.children].find((x) => Number(x.dataset.seq) > seq);
        list.insertBefore(li, after || null);
      }
      li.className = "turn " + word(t.role);
      li.replaceChildren(el("span", "who", t.who), document.createTextNode(" "), el("time", "", t.at), el("p", "text", t.text));
      if (follow) list.scrollTop = list.scrollHeight;
    };
    const panel = (p) => {
      for (const f of document.querySelectorAll("[data-field]")) {
        const v = p[f.dataset.field];
        if (v === undefined) continue;
        f.textContent = v === null ? "" : String(v);
        if (f.dataset.field === "phaseLabel") f.className = "badge phase-" + word(p.phase);
        if (f.dataset.field === "ticketId") {
          f.hidden = !p.ticketId;
          if (p.ticketUrl) f.href = p.ticketUrl;
        }
      }
      const evidence = document.getElementById("evidence");
      evidence.replaceChildren(...(p.evidence || []).map((e) => el("li", "", e)));
      const commands = document.getElementById("commands");
      commands.replaceChildren(...(p.commands || []).map((c) => {
        const tr = el("tr");
        const result = el("td", "", c.status);
        if (c.detail) result.appendChild(el("span", "muted", " " + c.detail));
        tr.append(el("td", "", c.at), el("td", "", c.kind), el("td", "", c.target), result);
        return tr;
      }));
      // What the signed-in operator may do now.
      const state = p.operator === "" ? (p.closed ? "closed" : "free") : (p.operator === me ? "mine" : "other");
      for (const c of document.querySelectorAll("#controls [data-when]")) c.hidden = c.dataset.when !== state;
    };
    window.consoleLive(conv.dataset.live, { turn, conversation: panel });
  }
})();
