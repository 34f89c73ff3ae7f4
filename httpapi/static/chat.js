"use strict";
// The web chat: the driver writes, the agent answers. Every turn stored in
// the conversation reaches the page, in order, through the conversation's
// event stream (and a read of the transcript after each message, should
// the stream be down): the agent's answers, and what a person of the
// support team writes once they have taken the conversation over.
(() => {
  const texts = {
    en: { title: "Charging help", ph: "Describe the problem: charger number, what you see…", send: "Send", wait: "Working on it…", err: "Something went wrong: " },
    fr: { title: "Aide à la recharge", ph: "Décrivez le problème : numéro de la borne, ce que vous voyez…", send: "Envoyer", wait: "Je m'en occupe…", err: "Un problème est survenu : " },
    es: { title: "Ayuda con la carga", ph: "Describa el problema: número del cargador, lo que ve…", send: "Enviar", wait: "Estoy en ello…", err: "Algo salió mal: " },
  };
  const log = document.getElementById("log"), form = document.getElementById("form");
  const input = document.getElementById("text"), send = document.getElementById("send"), lang = document.getElementById("lang");
  let conversation = null; // the conversation's id: the driver's only credential for it
  let lastSeq = 0; // the last turn shown
  let stream = null;
  let pending = []; // the driver's bubbles shown before their turn was stored

  function t() { return texts[lang.value] || texts.en; }
  function relabel() {
    document.getElementById("title").textContent = t().title;
    document.title = t().title;
    input.placeholder = t().ph; send.textContent = t().send;
    document.documentElement.lang = lang.value;
  }
  function add(role, text) {
    const div = document.createElement("div");
    div.className = "turn " + role;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }
  // show adds a stored turn once, in order: the driver's own message
  // takes the place of its bubble (with the text as stored: a card
  // number masked).
  function show(turn) {
    if (!turn || typeof turn.seq !== "number" || turn.seq <= lastSeq) return;
    lastSeq = turn.seq;
    const text = String(turn.text || "");
    switch (turn.role) {
      case "driver": {
        const mine = pending.shift();
        if (mine) { mine.textContent = text; return; }
        add("driver", text);
        return;
      }
      case "operator":
        add("operator", text);
        return;
      case "agent":
        if (text) add("agent", text);
        return;
    }
  }
  async function call(method, path, body) {
    const init = { method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
    return data;
  }
  function path(suffix) { return "/chat/api/conversations/" + encodeURIComponent(conversation) + suffix; }
  function listen() {
    if (stream) { stream.close(); stream = null; }
    if (!conversation || !window.EventSource) return;
    stream = new EventSource(path("/events?after=" + lastSeq));
    stream.addEventListener("turn", (ev) => {
      try { show(JSON.parse(ev.data)); } catch (_) { /* not a turn */ }
    });
  }
  async function sync() {
    const data = await call("GET", path(""));
    for (const turn of data.turns || []) show(turn);
  }
  async function start() {
    const data = await call("POST", "/chat/api/conversations", { language: lang.value });
    conversation = data.id; lastSeq = 0; pending = [];
    for (const turn of data.turns || []) show(turn);
    listen();
  }
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = ""; send.disabled = true;
    pending.push(add("driver", text));
    const note = add("note", t().wait);
    try {
      if (!conversation) await start();
      const data = await call("POST", path("/messages"), { text });
      const before = lastSeq;
      await sync().catch(() => {
        // The transcript could not be read: the answer as returned.
        if (lastSeq === before && data.reply) add("agent", data.reply);
      });
    } catch (err) {
      add("note", t().err + err.message);
    } finally {
      note.remove();
      send.disabled = false; input.focus();
    }
  });
  lang.addEventListener("change", () => {
    relabel();
    // A new language before anything was said: greet again in it.
    if (conversation && log.querySelectorAll(".turn.driver").length === 0) {
      log.textContent = ""; conversation = null;
      if (stream) { stream.close(); stream = null; }
      start().catch((err) => add("note", t().err + err.message));
    }
  });
  const preferred = (navigator.language || "en").slice(0, 2);
  if (texts[preferred]) lang.value = preferred;
  relabel();
  start().catch((err) => add("note", t().err + err.message));
})();
