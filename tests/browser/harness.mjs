// Helpers of the browser tests: a FLIN app written into a temporary folder and served
// by the real `flin` binary (FLIN_BIN) on 127.0.0.1, and headless Chromium (the Debian
// package, CHROMIUM or /usr/bin/chromium) driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.FLIN_BIN || join(ROOT, 'target', 'debug', 'flin');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** The files of an example app (`examples/<name>`), as `{path: text}`. */
export function example(name) {
  const base = join(ROOT, 'examples', name);
  const files = {};
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith('.')) continue;
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else files[relative(base, full)] = readFileSync(full, 'utf8');
    }
  };
  walk(base);
  return files;
}

/** The first ```flin block of the README. */
export function readmeExample() {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /```flin\n([\s\S]*?)```/.exec(text);
  if (!match) throw new Error('README.md has no flin example');
  return match[1];
}

/**
 * Serves `files` (`{path: text}`) with `flin dev` (or `flin start`): `{url, dir, port,
 * stop(), start(), write(path, text), log()}`.
 */
export async function serve(files, { command = 'dev', port = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'flin-browser-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const app = { dir, port, url: null, child: null, output: '' };
  app.start = async () => {
    const child = spawn(BIN, [command, dir, '--port', String(app.port)], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.child = child;
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('flin did not start:\n' + app.output)), 30000);
      const read = (chunk) => {
        app.output += chunk.toString();
        const m = /on (http:\/\/[0-9.]+:[0-9]+)[ \n]/.exec(app.output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stderr.on('data', read);
      child.stdout.on('data', read);
      child.on('exit', (code) => reject(new Error(`flin exited (${code}):\n${app.output}`)));
    });
    app.url = url;
    app.port = Number(new URL(url).port);
    return app;
  };
  app.stop = async () => {
    if (!app.child || app.child.exitCode !== null) return;
    const exited = new Promise((resolve) => app.child.once('exit', resolve));
    app.child.kill('SIGKILL');
    await exited;
  };
  app.write = (path, text) => writeFileSync(join(dir, path), text);
  app.log = () => app.output;
  await app.start();
  return app;
}

let shared = null;

/** One headless Chromium for the whole file. */
export async function browser() {
  if (!shared) {
    shared = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
  return shared;
}

export async function closeBrowser() {
  if (shared) await shared.close();
  shared = null;
}

/** A new page in a context of its own; its errors fail the test through `errors`. */
export async function open(url, options = {}) {
  const context = await (await browser()).newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  if (url) await page.goto(url);
  return page;
}

/** Waits until the page's live runtime has mounted its view. */
export async function live(page) {
  await page.waitForSelector('html[data-flin-live="connected"]', { state: 'attached', timeout: 10000 });
}

/** Polls `check` until it is true (or fails after `ms`). */
export async function until(check, ms = 5000, what = 'the condition') {
  const started = Date.now();
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
