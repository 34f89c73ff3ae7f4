// driver.js runs Debian's Chromium (headless) and does what a test tells
// it, one JSON command per line on standard input, answering one JSON line
// per command on standard output: {"ok":true,...} or {"ok":false,"error":"..."}.
// It lets a Go test drive a page step by step while it acts elsewhere (a
// driver writing in the web chat while an operator watches the console).
//
// Commands ("op" and its fields):
//   goto      url                     open a page; answers status and url
//   fill      selector, value         type into a field
//   click     selector                click (and wait for a navigation it starts)
//   select    selector, value         pick an option
//   waitText  selector, text          wait until an element matching selector contains text
//   text      selector                answers the texts of all matching elements
//   download  selector                click a link that downloads; answers the file's text
//   screenshot path                   a full-page PNG
//   dialogs   accept                  accept (true) or dismiss confirm() dialogs from now on
//   quit
"use strict";
const readline = require("readline");
const { chromium } = require("playwright-core");

async function main() {
  const timeout = Number(process.env.BROWSER_TIMEOUT_MS || 20000);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  let acceptDialogs = true;
  page.on("dialog", (d) => (acceptDialogs ? d.accept() : d.dismiss()));
  const consoleErrors = [];
  // Script errors, and failed loads of anything but the page itself (a
  // page may be an error page on purpose: a refused sign-in is a 401).
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("response", (r) => {
    if (r.status() >= 400 && r.request().resourceType() !== "document") consoleErrors.push(r.status() + " " + r.url());
  });

  const ops = {
    async goto(c) {
      const res = await page.goto(c.url);
      return { status: res ? res.status() : 0, url: page.url() };
    },
    async fill(c) { await page.fill(c.selector, c.value); return {}; },
    async select(c) { await page.selectOption(c.selector, c.value); return {}; },
    async click(c) {
      await Promise.all([page.waitForLoadState("load"), page.click(c.selector)]);
      return { url: page.url() };
    },
    async waitText(c) {
      try {
        await page.waitForFunction(([sel, text]) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes(text)),
          [c.selector, c.text], { timeout: c.timeoutMs || timeout });
      } catch (e) {
        // Say what the page shows instead, to tell why.
        const shown = await page.evaluate(() => document.body ? document.body.innerText.slice(0, 600) : "");
        throw new Error(e.message + " — the page shows: " + JSON.stringify(shown));
      }
      return {};
    },
    async text(c) { return { texts: await page.$$eval(c.selector, (els) => els.map((e) => e.textContent.trim())) }; },
    async download(c) {
      const [dl] = await Promise.all([page.waitForEvent("download"), page.click(c.selector)]);
      const path = await dl.path();
      return { name: dl.suggestedFilename(), text: require("fs").readFileSync(path, "utf8") };
    },
    async screenshot(c) { await page.screenshot({ path: c.path, fullPage: true }); return {}; },
    async dialogs(c) { acceptDialogs = !!c.accept; return {}; },
  };

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let c;
    try { c = JSON.parse(line); } catch (e) { console.log(JSON.stringify({ ok: false, error: "bad command: " + e.message })); continue; }
    if (c.op === "quit") break;
    const fn = ops[c.op];
    if (!fn) { console.log(JSON.stringify({ ok: false, error: "unknown op " + c.op })); continue; }
    try {
      const out = await fn(c);
      console.log(JSON.stringify({ ok: true, url: page.url(), consoleErrors: consoleErrors.splice(0), ...out }));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, url: page.url(), error: String(e.message || e), consoleErrors: consoleErrors.splice(0) }));
    }
  }
  await browser.close();
}

main().catch((err) => { console.error(err.stack || String(err)); process.exit(1); });
