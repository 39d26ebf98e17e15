// The end-to-end test of the built app, driven through WebDriver
// (tauri-driver + WebKitWebDriver) under Xvfb, against a real Redis and a
// temporary library. run.sh prepares all of that and sets the variables
// read below; this script only drives and checks.
//
// The story: the list shows the projects; Run OCR previews and starts a
// batch (the app itself recognises no pages: 0 workers, so that the test
// decides when pages finish); a `kdesk worker` moves the progress view on
// and is killed; closing the window hides the app to the tray; a second
// launch shows the same window; the app is then quit for good and launched
// again, and opens on the same batch, which it resumes; another `kdesk
// worker` finishes it; the end is announced once on the session D-Bus.
// Then a batch started with `kdesk ocr` shows as a live badge and is
// announced too. Screenshots of each screen go to the artifacts folder,
// and the latency from a page finishing to the view showing it, and the
// app's memory, go to measurements.json.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

import { Builder, By, until } from "selenium-webdriver";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run tests/e2e/run.sh instead of this script`);
  return value;
};
const APP = env("KDESK_E2E_APP");
const KDESK = env("KDESK_E2E_KDESK");
const XWINDOW = env("KDESK_E2E_XWINDOW");
const DRIVER_URL = env("KDESK_E2E_DRIVER_URL");
const ARTIFACTS = env("KDESK_E2E_ARTIFACTS");
const LIBRARY = env("KDESK_LIBRARY");
const REDIS_PORT = env("KDESK_E2E_REDIS_PORT");
const NOTIFY_LOG = env("KDESK_E2E_NOTIFY_LOG");
const SETTINGS_FILE = env("KDESK_E2E_SETTINGS_FILE");
const DRIVER_PID = Number(env("KDESK_E2E_DRIVER_PID"));
const WORK = env("KDESK_E2E_WORK");

const WINDOW_TITLE = "Kalanjiyam Desk";
const SLUG = "san-tulasi";
const TITLE = "तुलसीविवाहविधिः";
const OTHER_SLUG = "tam-books";
const OTHER_TITLE = "பழைய தமிழ் நூல்கள்";
const PAGES = 4;
const WAIT = 30_000;

const measurements = { latency_ms: {}, memory_kib: {} };
const children = new Set();

function step(text) {
  console.log(`e2e: ${text}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what, check, timeout = WAIT, every = 50) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(every);
  }
}

function redis(...args) {
  return execFileSync("redis-cli", ["-p", REDIS_PORT, "--raw", ...args]).toString().trim();
}

function xwindow(command) {
  try {
    return execFileSync(XWINDOW, [command, WINDOW_TITLE]).toString().trim();
  } catch (error) {
    return (error.stdout ?? "").toString().trim() || `failed (${error.status})`;
  }
}

/** Starts a `kdesk` process of ours; its log goes to the work folder. */
function kdesk(name, args) {
  const log = join(WORK, `${name}.log`);
  const out = { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "kdesk_core=debug,warn" } };
  const child = spawn(KDESK, args, out);
  let text = "";
  child.stderr.on("data", (chunk) => {
    text += chunk;
    writeFileSync(log, text);
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  child.logText = () => text;
  return child;
}

function stopChild(child, signal = "SIGTERM") {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

/** Processes descended from `pid`, by reading /proc (ours only: pid lineage). */
function descendants(pid) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found = [];
  const walk = (parent) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function isApp(pid) {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return cmdline.split("\0")[0] === APP && state !== "Z";
  } catch {
    return false;
  }
}

/** The running app's pid (started by tauri-driver's WebKitWebDriver). */
function appPid() {
  return descendants(DRIVER_PID).find(isApp);
}

/** Resident memory of a process, and the proportional size of it and its children. */
function memory(pid) {
  const kib = (file, field) => {
    try {
      const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(field));
      return Number(line?.split(/\s+/)[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const all = [pid, ...descendants(pid)];
  return {
    app_rss: kib(`/proc/${pid}/status`, "VmRSS:"),
    app_and_webkit_pss: all.reduce((sum, p) => sum + kib(`/proc/${p}/smaps_rollup`, "Pss:"), 0),
    processes: all.length,
  };
}

function notifications() {
  if (!existsSync(NOTIFY_LOG)) return [];
  const blocks = readFileSync(NOTIFY_LOG, "utf8").split(/^method call /m).slice(1);
  return blocks
    .filter((block) => block.includes("member=Notify"))
    .map((block) => {
      const strings = [...block.matchAll(/^\s+string "(.*)"$/gm)].map((m) => m[1]);
      return { app: strings[0], title: strings[2], body: strings[3] };
    });
}

async function session() {
  const driver = await new Builder()
    .usingServer(DRIVER_URL)
    .withCapabilities({ browserName: "wry", "tauri:options": { application: APP } })
    .build();
  await driver.manage().setTimeouts({ implicit: 0, script: 10_000 });
  return driver;
}

function page(driver) {
  const find = (css) => driver.wait(until.elementLocated(By.css(css)), WAIT, `no ${css}`);
  const text = async (css) => (await find(css)).getText();
  const click = async (css) => (await find(css)).click();
  const shot = async (name) => {
    await sleep(300);
    writeFileSync(join(ARTIFACTS, name), await driver.takeScreenshot(), "base64");
    step(`screenshot ${name}`);
  };
  return { find, text, click, shot };
}

/** The whole screen, notifications included (ImageMagick). */
function screen(name) {
  execFileSync("import", ["-window", "root", join(ARTIFACTS, name)]);
  step(`screenshot ${name} (whole screen)`);
}

async function main() {
  // Launch: the list shows both projects.
  step("launching the app");
  let driver = await session();
  let ui = page(driver);
  await ui.find("[data-testid=project-row]");
  await waitUntil("both projects", async () => (await driver.findElements(By.css("[data-testid=project-row]"))).length === 2);
  const listText = await ui.text("[data-testid=project-list]");
  for (const expected of [TITLE, SLUG, OTHER_TITLE, OTHER_SLUG, "san", "tam"]) {
    assert.ok(listText.includes(expected), `the list shows ${expected}: ${listText}`);
  }
  assert.match(await ui.text("[data-testid=redis-status]"), /Redis connected/);
  await sleep(1500);
  const pid = appPid();
  assert.ok(pid, "the app's process is found under tauri-driver");
  measurements.memory_kib.idle = memory(pid);
  await ui.shot("01-projects.png");

  // The project: thumbnails with each page's state.
  await (await (await ui.find(`[data-slug=${SLUG}]`)).findElement(By.css("[data-testid=open-project]"))).click();
  await waitUntil("four page thumbnails", async () => (await driver.findElements(By.css("[data-testid=page-thumb]"))).length === PAGES);
  const states = await Promise.all(
    (await driver.findElements(By.css("[data-testid=page-thumb]"))).map((t) => t.getAttribute("data-state")),
  );
  assert.deepEqual(states, ["not_done", "not_done", "not_done", "not_done"]);
  await waitUntil("thumbnails drawn", () =>
    driver.executeScript("return [...document.querySelectorAll('[data-testid=page-thumb] img')].every(i => i.complete && i.naturalWidth > 0)"),
  );
  await ui.shot("02-project.png");

  // Run OCR: the preview says how many pages will run.
  await ui.click("[data-testid=run-ocr]");
  await waitUntil("the preview", async () => (await ui.text("[data-testid=preview-to-run]")) === String(PAGES));
  assert.match(await ui.text("[data-testid=preview-summary]"), /4 of 4 pages will be recognised/);
  assert.equal(await (await ui.find("[data-testid=language]")).getAttribute("value"), "san");
  await ui.shot("03-run-ocr.png");
  await ui.click("[data-testid=start]");

  const view = await ui.find("[data-testid=progress-view]");
  const taskId = await view.getAttribute("data-task-id");
  assert.match(taskId, /^kdesk-/);
  step(`batch ${taskId} started`);
  await waitUntil("the total", async () => (await ui.text("[data-testid=count-total]")) === "4 pages");
  assert.equal(await ui.text("[data-testid=count-done]"), "0");

  // A worker moves the progress on; it is killed after the first page.
  const first = kdesk("worker-1", ["worker", "--jobs", "1"]);
  await waitUntil("a first page done in Redis", () => Number(redis("HGET", `kdesk:task:${taskId}`, "done") || 0) >= 1, WAIT, 10);
  stopChild(first, "SIGKILL");
  const doneBefore = Number(await waitUntil("the view to show the page", async () => {
    const done = Number(await ui.text("[data-testid=count-done]"));
    return done >= 1 ? String(done) : null;
  }));
  assert.ok(doneBefore < PAGES, `the batch must still run (done ${doneBefore})`);
  assert.notEqual(await ui.text("[data-testid=percent]"), "0%");
  measurements.memory_kib.during_batch = memory(pid);
  await ui.shot("04-progress.png");

  // Closing the window while the batch runs hides the app to the tray.
  assert.equal(xwindow("state"), "viewable");
  assert.equal(xwindow("close"), "");
  await waitUntil("the window hidden", () => xwindow("state") === "hidden", 10_000);
  await sleep(500);
  assert.ok(isApp(pid), "the app keeps running in the tray");
  screen("05-closed-to-tray.png");

  // A second launch shows the running app's window, on the same batch.
  execFileSync(APP, [], { timeout: 20_000 });
  await waitUntil("the window shown again", () => xwindow("state") === "viewable", 10_000);
  assert.ok(isApp(pid), "the first app still runs");
  assert.equal(await (await ui.find("[data-testid=progress-view]")).getAttribute("data-task-id"), taskId);

  // Quit for good (the tray's Quit ends the process the same way), then
  // launch again: the app finds the batch in Redis and opens on it.
  process.kill(pid, "SIGTERM");
  await waitUntil("the app gone", () => !isApp(pid), 10_000);
  await driver.quit().catch(() => undefined);
  step("app quit; launching it again");
  driver = await session();
  ui = page(driver);
  const reopened = await ui.find("[data-testid=progress-view]");
  assert.equal(await reopened.getAttribute("data-task-id"), taskId, "the relaunched app opens on the same batch");
  await waitUntil("the batch's counts", async () => Number(await ui.text("[data-testid=count-done]")) >= doneBefore);
  const pid2 = appPid();
  assert.ok(pid2 && pid2 !== pid, "a new app process");
  await waitUntil("the batch resumed by the app", async () => {
    const owner = redis("HGET", `kdesk:task:${taskId}`, "owner");
    return owner.includes(`:${pid2}:`);
  });
  await ui.shot("06-relaunched-on-progress.png");

  // Results that reached Redis before the quit are taken in on resuming;
  // the pages left are finished by a new worker, and timed.
  await sleep(1000);
  const baseline = Number(redis("HGET", `kdesk:task:${taskId}`, "done"));
  await waitUntil("the view at the baseline", async () => Number(await ui.text("[data-testid=count-done]")) === baseline);
  assert.ok(baseline < PAGES, `pages are left for the second worker (done ${baseline})`);
  await driver.executeScript(`
    window.__e2eTimeline = [];
    const target = document.querySelector('[data-testid=count-done]');
    new MutationObserver(() => window.__e2eTimeline.push({ done: Number(target.textContent), at: Date.now() }))
      .observe(target, { characterData: true, childList: true, subtree: true });
  `);
  const second = kdesk("worker-2", ["worker", "--jobs", "1"]);
  let sampled = null;
  await waitUntil(
    "the batch to succeed",
    async () => {
      if (!sampled && Number(await ui.text("[data-testid=count-done]")) > baseline) {
        sampled = memory(pid2);
      }
      return (await ui.text("[data-testid=batch-state]")) === "Succeeded";
    },
    90_000,
  );
  measurements.memory_kib.during_batch_after_relaunch = sampled;
  stopChild(second);
  assert.equal(await ui.text("[data-testid=count-done]"), String(PAGES));
  assert.equal(await ui.text("[data-testid=percent]"), "100%");
  await ui.shot("07-finished.png");

  // The end is announced once, with the project's title and the counts.
  const wanted = { title: `OCR finished: ${TITLE}`, body: `${PAGES} pages OCR'd, 0 failed` };
  await waitUntil("the notification on D-Bus", () => notifications().some((n) => n.title === wanted.title), 10_000);
  await sleep(1000);
  const ours = notifications().filter((n) => n.title === wanted.title);
  assert.equal(ours.length, 1, `one notification for the batch: ${JSON.stringify(notifications())}`);
  assert.equal(ours[0].body, wanted.body);
  screen("08-notification.png");

  // Latency from a page finishing to the view showing it.
  const timeline = await driver.executeScript("return window.__e2eTimeline");
  measurements.latency_ms = latencies(timeline, second.logText(), baseline);
  step(`latency: ${JSON.stringify(measurements.latency_ms)}`);

  // The page's text beside its image.
  await ui.click("[data-testid=nav-projects]");
  await (await (await ui.find(`[data-slug=${SLUG}]`)).findElement(By.css("[data-testid=open-project]"))).click();
  await ui.click('[data-testid=page-thumb][data-page="001"]');
  const pageText = await ui.text("[data-testid=page-text]");
  assert.match(pageText, /[\u0900-\u097F]/, "Devanagari text beside the image");
  await waitUntil("the page image drawn", () =>
    driver.executeScript("const i = document.querySelector('[data-testid=page-view] img'); return i && i.complete && i.naturalWidth > 0"),
  );
  await ui.shot("09-page-text.png");

  // A batch started with `kdesk ocr` shows as a live badge, and its end is
  // announced too.
  await ui.click("[data-testid=nav-projects]");
  await ui.find(`[data-slug=${OTHER_SLUG}]`);
  await driver.executeScript(`
    window.__e2eBadge = [];
    const row = document.querySelector('[data-slug="${OTHER_SLUG}"]');
    const note = () => {
      const badge = row.querySelector('[data-testid=badge]');
      window.__e2eBadge.push({ text: badge ? badge.textContent.trim() : '', at: Date.now() });
    };
    new MutationObserver(note).observe(row, { characterData: true, childList: true, subtree: true });
  `);
  const cli = kdesk("kdesk-ocr", ["ocr", OTHER_SLUG, "--jobs", "1"]);
  const badge = await waitUntil("the live badge", async () => {
    const row = await ui.find(`[data-slug=${OTHER_SLUG}]`);
    const found = await row.findElements(By.css("[data-testid=badge]"));
    return found.length > 0 ? found[0] : null;
  });
  assert.match(await badge.getText(), /%$/);
  await ui.shot("10-list-live-badge.png");
  await waitUntil("the kdesk batch's end", () => cli.exitCode !== null, 120_000, 200);
  assert.equal(cli.exitCode, 0, `kdesk ocr succeeded: ${cli.logText()}`);
  await waitUntil("its notification", () => notifications().some((n) => n.title === `OCR finished: ${OTHER_TITLE}`), 15_000);
  const otherRow = await ui.find(`[data-slug=${OTHER_SLUG}]`);
  await waitUntil("the badge gone", async () => (await otherRow.findElements(By.css("[data-testid=badge]"))).length === 0);
  measurements.latency_ms.kdesk_batch_page_text_written_to_badge = badgeLatencies(
    await driver.executeScript("return window.__e2eBadge"),
  );
  step(`latency through Redis: ${JSON.stringify(measurements.latency_ms.kdesk_batch_page_text_written_to_badge)}`);

  // History and settings (an invalid value gets a message at its field).
  await ui.click("[data-testid=nav-history]");
  await waitUntil("two finished batches", async () => (await driver.findElements(By.css("[data-testid=history-row]"))).length === 2);
  await ui.shot("11-history.png");
  await ui.click("[data-testid=nav-settings]");
  const workers = await ui.find("[data-testid=workers]");
  await workers.clear();
  await workers.sendKeys("lots");
  await ui.click("[data-testid=save]");
  assert.match(await ui.text("[data-testid=error-workers]"), /'lots' is not a number of workers/);
  await ui.shot("12-settings.png");

  await driver.quit();
  writeFileSync(join(ARTIFACTS, "measurements.json"), `${JSON.stringify(measurements, null, 2)}\n`);
  step(`memory: ${JSON.stringify(measurements.memory_kib)}`);
}

/**
 * For each page finished after the relaunch: from the worker's "page
 * recognised" log line, and from the page's output being written (its
 * meta's finished_at), to the view's done count showing it.
 */
function latencies(timeline, workerLog, doneBefore) {
  const shown = new Map();
  for (const { done, at } of timeline) if (!shown.has(done)) shown.set(done, at);
  const recognised = [...workerLog.matchAll(/^(\S+Z)\s+DEBUG .*page recognised.*page=(\S+).*ok=true/gm)]
    .map((m) => Date.parse(m[1]))
    .sort((a, b) => a - b);
  const ocr = join(LIBRARY, SLUG, "ocr");
  const written = readdirSync(ocr)
    .filter((name) => name.endsWith(".json"))
    .map((name) => Date.parse(JSON.parse(readFileSync(join(ocr, name), "utf8")).finished_at))
    .sort((a, b) => a - b)
    .slice(doneBefore);
  const fromWorker = [];
  const fromOutput = [];
  for (let k = 0; k < written.length; k++) {
    const at = shown.get(doneBefore + k + 1);
    if (at === undefined) continue;
    fromOutput.push(at - written[k]);
    if (recognised[k] !== undefined) fromWorker.push(at - recognised[k]);
  }
  const summary = (values) =>
    values.length === 0
      ? null
      : { pages: values.length, min: Math.min(...values), max: Math.max(...values), values };
  return {
    page_recognised_by_worker_to_view: summary(fromWorker),
    page_text_written_to_view: summary(fromOutput),
  };
}

/**
 * For the batch `kdesk ocr` ran (two pages, seen through Redis): from each
 * page's output being written to the list's badge showing it (50%, then
 * the badge going away when the batch ends).
 */
function badgeLatencies(changes) {
  const ocr = join(LIBRARY, OTHER_SLUG, "ocr");
  const written = readdirSync(ocr)
    .filter((name) => name.endsWith(".json"))
    .map((name) => Date.parse(JSON.parse(readFileSync(join(ocr, name), "utf8")).finished_at))
    .sort((a, b) => a - b);
  // The first change at or after each page's text was written that shows
  // it: 50% for the first page; 100%, or the badge gone, for the second.
  const shows = (c, k) => (k === 0 ? c.text === "50%" : c.text === "100%" || c.text === "");
  const values = written
    .map((at, k) => changes.find((c) => c.at >= at && shows(c, k)))
    .map((change, k) => change && change.at - written[k])
    .filter((v) => v !== undefined);
  const gone = changes.find((c) => c.text === "" && c.at >= (written[1] ?? Infinity));
  return {
    pages: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    values,
    last_page_text_written_to_badge_gone: gone ? gone.at - written[1] : null,
  };
}

try {
  await main();
  step("passed");
} catch (error) {
  console.error(`e2e: FAILED: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  for (const child of children) stopChild(child, "SIGKILL");
}
