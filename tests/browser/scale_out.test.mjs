// Two `flin start` servers on one PostgreSQL database (data.md §10): a note added in a
// browser on server A appears within a second in a live page a browser has open on
// server B. Needs FLIN_TEST_POSTGRES_URL (tools/pg/start; `.ci/run` sets it); skipped
// without it. Run by `cargo test -p flin --test browser`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeBrowser, live, open, readmeExample, serve, until } from './harness.mjs';

after(closeBrowser);

const text = (page, selector) => page.locator(selector).first().textContent();
const url = process.env.FLIN_TEST_POSTGRES_URL;

test('a write on one server re-runs a live page on the other within a second', { skip: !url && 'FLIN_TEST_POSTGRES_URL is not set' }, async () => {
  const schema = `browser_${process.pid}`;
  execFileSync('psql', [url, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`]);
  const scoped = `${url}${url.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
  const saved = { ...process.env };
  process.env.FLIN_DATABASE_URL = scoped;
  process.env.FLIN_SECRET_KEY = 'the-secret-key-both-servers-of-this-test-share';
  const files = { 'app/index.flin': readmeExample() };
  let a = null;
  let b = null;
  try {
    a = await serve(files, { command: 'start' });
    b = await serve(files, { command: 'start' });
    const onA = await open(a.url);
    const onB = await open(b.url);
    await live(onA);
    await live(onB);
    assert.equal(await text(onB, 'h1'), '0 notes');
    await onA.fill('input[placeholder="Write something"]', 'Hello from A');
    await onA.click('button');
    await until(async () => (await text(onA, 'h1')) === '1 notes', 3000, 'the note on A');
    const started = Date.now();
    await until(async () => (await text(onB, 'h1')) === '1 notes', 1000, 'the note on B');
    assert.ok(Date.now() - started <= 1000);
    assert.deepEqual(onA.errors, []);
    assert.deepEqual(onB.errors, []);
  } finally {
    process.env = saved;
    if (a) await a.stop();
    if (b) await b.stop();
    execFileSync('psql', [url, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`]);
  }
});
