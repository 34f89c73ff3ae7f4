// chat.js drives chargedesk's web chat in a real browser (Debian's
// Chromium, headless) the way a driver would: open the page, pick a
// language, type messages, wait for each answer. It prints one JSON line
// with the transcript shown on the page and a screenshot path.
//
// Usage: node chat.js --url http://127.0.0.1:8080/chat --lang en \
//          --message "..." [--message "..."] [--screenshot out.png]
"use strict";
const { chromium } = require("playwright-core");

function parse(argv) {
  const o = { messages: [], lang: "en", timeout: 90000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === "--url") { o.url = v; i++; }
    else if (a === "--lang") { o.lang = v; i++; }
    else if (a === "--message") { o.messages.push(v); i++; }
    else if (a === "--screenshot") { o.screenshot = v; i++; }
    else if (a === "--timeout") { o.timeout = Number(v); i++; }
    else throw new Error("unknown argument " + a);
  }
  if (!o.url || o.messages.length === 0) throw new Error("--url and at least one --message are required");
  return o;
}

async function main() {
  const o = parse(process.argv.slice(2));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(o.timeout);
    await page.goto(o.url);
    await page.waitForSelector(".turn.agent"); // the greeting
    await page.selectOption("#lang", o.lang);
    // Changing the language before anything is said greets again in it.
    if (o.lang !== "en") await page.waitForFunction(() => document.querySelectorAll(".turn.agent").length === 1);
    for (const m of o.messages) {
      const before = await page.locator(".turn.agent").count();
      await page.fill("#text", m);
      await page.click("#send");
      // The answer has come when the "working on it…" note is gone: then
      // there is a new agent bubble, or an error note.
      await page.waitForFunction((n) => ![...document.querySelectorAll(".turn.note")].some((e) => e.textContent.endsWith("…")) &&
        (document.querySelectorAll(".turn.agent").length > n ||
         [...document.querySelectorAll(".turn.note")].length > 0), before);
    }
    const turns = await page.$$eval(".turn", (els) => els.map((e) => ({ role: e.className.replace("turn ", ""), text: e.textContent })));
    if (o.screenshot) await page.screenshot({ path: o.screenshot, fullPage: true });
    console.log(JSON.stringify({ turns, title: await page.title() }));
  } finally {
    await browser.close();
  }
}

main().catch((err) => { console.error(err.stack || String(err)); process.exit(1); });
