"use strict";
// The console's little script: confirmations for forms that act on a
// charger or a driver, and live views fed by Server-Sent Events.

// Forms with data-confirm ask before they are sent.
document.addEventListener("submit", (e) => {
  const msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});

// console.live(url, handlers) opens an event stream and calls
// handlers[type](data) for each named event; it reconnects on its own.
window.consoleLive = function (url, handlers) {
  const src = new EventSource(url);
  for (const [type, fn] of Object.entries(handlers)) {
    src.addEventListener(type, (ev) => fn(JSON.parse(ev.data)));
  }
  return src;
};

// csrfToken is the session's token, for requests sent with fetch.
window.csrfToken = function () {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : "";
};
