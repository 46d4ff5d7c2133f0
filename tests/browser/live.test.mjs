// Live pages in a real browser (web.md §2, §3, §9): headless Chromium against the real
// `flin` binary. Run by `cargo test -p flin --test browser` (or `node --test` here, with
// FLIN_BIN set).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeBrowser, example, live, open, readmeExample, serve, until } from './harness.mjs';

after(closeBrowser);

const text = (page, selector) => page.locator(selector).first().textContent();

test('the README example works: type, add, the count goes up, the field clears', async () => {
  const app = await serve({ 'app/index.flin': readmeExample() });
  try {
    const page = await open(app.url);
    await live(page);
    assert.equal(await text(page, 'h1'), '0 notes');
    await page.fill('input[placeholder="Write something"]', 'Hello');
    await page.click('button');
    await until(async () => (await text(page, 'h1')) === '1 notes', 3000, 'one note');
    await until(async () => (await page.inputValue('input[placeholder="Write something"]')) === '', 3000, 'the field to clear');
    assert.deepEqual(page.errors, []);
  } finally {
    await app.stop();
  }
});

test('a counter counts in the browser', async () => {
  const app = await serve({ 'app/index.flin': 'count = 0\n\n<h1>{count}</h1>\n<button click={count++}>+1</button>\n' });
  try {
    const page = await open(app.url);
    await live(page);
    for (let i = 0; i < 3; i++) await page.click('button');
    await until(async () => (await text(page, 'h1')) === '3', 3000, 'count 3');
  } finally {
    await app.stop();
  }
});

test('todo: add, toggle, filter and delete without reloading; two browsers see each other', async () => {
  const app = await serve(example('todo'));
  try {
    const first = await open(app.url);
    const second = await open(app.url);
    await live(first);
    await live(second);
    let loads = 0;
    first.on('load', () => loads++);
    const input = 'form.add input[placeholder]';
    await first.fill(input, 'Buy milk');
    await first.press(input, 'Enter');
    await until(async () => (await first.locator('ul.todos li span').count()) === 1, 3000, 'one todo');
    await first.fill(input, 'Walk the dog');
    await first.click('form.add button');
    await until(async () => (await first.locator('ul.todos li span').count()) === 2, 3000, 'two todos');
    assert.equal(await first.inputValue(input), '');
    assert.equal(await first.title(), 'Todo (2 left)');
    // The other browser saw both, within a second.
    const started = Date.now();
    await until(async () => (await second.locator('ul.todos li span').count()) === 2, 1000, 'the other browser');
    assert.ok(Date.now() - started < 1000);
    // Toggle "Buy milk" (the older one, second in the list).
    await first.locator('ul.todos li').nth(1).locator('button.check').click();
    await until(async () => (await first.locator('ul.todos li.done').count()) === 1, 3000, 'a done todo');
    assert.equal(await text(first, 'h1'), '1 left');
    await until(async () => (await second.locator('ul.todos li.done').count()) === 1, 1000, 'the toggle elsewhere');
    // Filters.
    await first.click('nav.filters button:has-text("Done")');
    await until(async () => (await first.locator('ul.todos li span').allTextContents()).join() === 'Buy milk', 3000, 'the done filter');
    await first.click('nav.filters button:has-text("Active")');
    await until(async () => (await first.locator('ul.todos li span').allTextContents()).join() === 'Walk the dog', 3000, 'the active filter');
    await first.click('nav.filters button:has-text("All")');
    await until(async () => (await first.locator('ul.todos li span').count()) === 2, 3000, 'all');
    // Delete "Walk the dog".
    await first.locator('ul.todos li').nth(0).locator('button.delete').click();
    await until(async () => (await first.locator('ul.todos li span').allTextContents()).join() === 'Buy milk', 3000, 'the delete');
    await until(async () => (await second.locator('ul.todos li span').count()) === 1, 1000, 'the delete elsewhere');
    assert.equal(loads, 0, 'no reload');
    assert.deepEqual(first.errors, []);
  } finally {
    await app.stop();
  }
});

test('the notes example: bind enables the button, add and delete, components render', async () => {
  const app = await serve(example('notes'));
  try {
    const page = await open(app.url);
    await live(page);
    const button = page.locator('form button');
    assert.equal(await button.isDisabled(), true);
    await page.type('input[placeholder="Write something"]', 'A note with enough words', { delay: 5 });
    await until(() => button.isEnabled(), 3000, 'the button to enable');
    await button.click();
    await until(async () => (await text(page, 'h1')) === '1 notes', 3000, 'one note');
    assert.equal(await page.locator('ul li .badge').count(), 1);
    await page.locator('ul li button').first().click();
    await until(async () => (await text(page, 'h1')) === '0 notes', 3000, 'no note');
    assert.equal(await text(page, 'ul li'), 'Nothing yet.');
  } finally {
    await app.stop();
  }
});

test('a component keeps its state when its parent renders again', async () => {
  const app = await serve({
    'components/Counter.flin': 'count = 0\n<span class="counter" click={count++}>{props.label}: {count}</span>\n',
    'app/index.flin': 'title = "a"\n\n<h1 click={title = title + "a"}>{title}</h1>\n<Counter label={title} />\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.click('.counter');
    await page.click('.counter');
    await until(async () => (await text(page, '.counter')) === 'a: 2', 3000, 'the counter at 2');
    await page.click('h1');
    await until(async () => (await text(page, 'h1')) === 'aa', 3000, 'the parent to change');
    await until(async () => (await text(page, '.counter')) === 'aa: 2', 3000, 'new props, same state');
  } finally {
    await app.stop();
  }
});

test('focus and caret stay in a bound input while patches arrive', async () => {
  const app = await serve({
    'entities/Ping.flin': 'entity Ping {\n    n: int\n}\n',
    'app/index.flin': 'name = ""\npings = Ping.count\n\n<input bind={name}>\n<p class="shout">{name.upper}</p>\n<p class="pings">{pings}</p>\n',
    'app/api/ping.flin': 'route POST {\n    save Ping { n: 1 }\n    "ok"\n}\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    const input = page.locator('input');
    await input.click();
    // Typing slowly: patches of the echo arrive between keys.
    await input.pressSequentially('hello world', { delay: 60 });
    await until(async () => (await text(page, '.shout')) === 'HELLO WORLD', 3000, 'the echo');
    assert.equal(await input.inputValue(), 'hello world');
    // The caret in the middle; a patch from elsewhere arrives.
    await page.evaluate(() => document.querySelector('input').setSelectionRange(5, 5));
    await page.request.post(app.url + '/api/ping', { headers: { 'content-type': 'application/json' }, data: '{}' });
    await until(async () => (await text(page, '.pings')) === '1', 3000, 'the patch');
    const state = await page.evaluate(() => {
      const el = document.querySelector('input');
      return { focused: document.activeElement === el, start: el.selectionStart, value: el.value };
    });
    assert.deepEqual(state, { focused: true, start: 5, value: 'hello world' });
    // Typing goes on at the caret.
    await page.keyboard.type('!');
    await until(async () => (await text(page, '.shout')) === 'HELLO! WORLD', 3000, 'typing at the caret');
  } finally {
    await app.stop();
  }
});

test('a keyed list that moves keeps the focused element', async () => {
  const app = await serve({
    'entities/Item.flin': 'entity Item {\n    name: text\n    rank: int\n}\n',
    'app/index.flin': 'items = Item.order(rank)\n\n<ul>{for i in items key i.id}<li><input class="i{i.id}" value={i.name}></li>{/for}</ul>\n',
    'app/api/seed.flin': 'route POST {\n    save [Item { name: "a", rank: 1 }, Item { name: "b", rank: 2 }, Item { name: "c", rank: 3 }]\n    "ok"\n}\n',
    'app/api/flip.flin': 'route POST {\n    for i in Item.all {\n        i.rank = 10 - i.rank\n        save i\n    }\n    "ok"\n}\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.request.post(app.url + '/api/seed', { headers: { 'content-type': 'application/json' }, data: '{}' });
    await until(async () => (await page.locator('li').count()) === 3, 3000, 'three items');
    await page.focus('input.i1');
    await page.evaluate(() => { document.querySelector('input.i1').flinMark = 'same node'; });
    await page.request.post(app.url + '/api/flip', { headers: { 'content-type': 'application/json' }, data: '{}' });
    await until(async () => (await page.locator('li input').first().getAttribute('class')) === 'i3', 3000, 'the new order');
    const state = await page.evaluate(() => {
      const el = document.activeElement;
      return { cls: el.className, mark: el.flinMark, last: document.querySelector('li:last-child input') === el };
    });
    assert.deepEqual(state, { cls: 'i1', mark: 'same node', last: true });
  } finally {
    await app.stop();
  }
});

test('a dropped socket reconnects, with a notice, and keeps what was typed', async () => {
  const app = await serve({
    'app/index.flin': 'name = ""\ncount = 0\n\n<input bind={name}>\n<p class="echo">{name}</p>\n<button click={count++}>{count}</button>\n',
  });
  try {
    const page = await open(null);
    let client = null;
    await page.routeWebSocket(/\/_flin\/live$/, (ws) => {
      client = ws;
      ws.connectToServer();
    });
    await page.goto(app.url);
    await live(page);
    const first = client;
    await first.close({ code: 1006 }).catch(() => first.close());
    await page.waitForSelector('[data-flin-notice="connection"]', { timeout: 3000 });
    // Typed while the socket is down: sent again with the new view.
    await page.fill('input', 'kept');
    await until(() => client !== first, 5000, 'a new socket');
    await live(page);
    await until(async () => (await text(page, '.echo')) === 'kept', 3000, 'the typed text after the reconnect');
    await until(async () => (await page.locator('[data-flin-notice="connection"]').count()) === 0, 3000, 'the notice to go');
    await page.click('button');
    await until(async () => (await text(page, 'button')) === '1', 3000, 'events again');
  } finally {
    await app.stop();
  }
});

test('the server restarting: the page reconnects; a code change in dev reloads it', async () => {
  const app = await serve({
    'app/index.flin': 'count = 0\n\n<h1>v1</h1>\n<button click={count++}>{count}</button>\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await app.stop();
    await page.waitForSelector('html[data-flin-live="reconnecting"]', { state: 'attached', timeout: 5000 });
    await page.waitForSelector('[data-flin-notice="connection"]', { timeout: 5000 });
    // A click while down is not silently lost: it says so.
    await page.click('button');
    await page.waitForSelector('[data-flin-notice="error"]', { timeout: 3000 });
    await app.start();
    await live(page);
    await page.click('button');
    await until(async () => (await text(page, 'button')) === '1', 5000, 'events after the restart');
    // Saving the page's file reloads it with the new code.
    let loads = 0;
    page.on('load', () => loads++);
    app.write('app/index.flin', 'count = 0\n\n<h1>v2</h1>\n<button click={count++}>{count}</button>\n');
    await until(async () => (await text(page, 'h1')) === 'v2', 10000, 'the new code');
    assert.ok(loads >= 1);
  } finally {
    await app.stop();
  }
});

test('a failing handler shows a notice and writes nothing', async () => {
  const app = await serve({
    'entities/Note.flin': 'entity Note {\n    body: text @required\n}\n',
    'app/index.flin': 'count = Note.count\n\nfn bad() {\n    save Note { body: "kept?" }\n    error(409, "That clashes with another note")\n}\n\n<p class="count">{count}</p>\n<button click={bad()}>go</button>\n',
    'app/api/count.flin': 'route GET {\n    Note.count\n}\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.click('button');
    const notice = page.locator('[data-flin-notice="error"]');
    await notice.waitFor({ timeout: 3000 });
    assert.match(await notice.textContent(), /That clashes with another note/);
    assert.equal(await text(page, '.count'), '0');
    const count = await (await page.request.get(app.url + '/api/count')).text();
    assert.equal(count, '0');
    // Dismissible.
    await notice.locator('button').click();
    assert.equal(await notice.count(), 0);
  } finally {
    await app.stop();
  }
});

test('a form with a submit handler works without JavaScript', async () => {
  const app = await serve(example('todo'));
  try {
    const page = await open(app.url, { javaScriptEnabled: false });
    await page.fill('form.add input[placeholder]', 'No script needed');
    await page.click('form.add button');
    await page.waitForURL(app.url + '/');
    assert.equal(await page.locator('ul.todos li span').count(), 1);
    await page.locator('ul.todos li button.check').click();
    await until(async () => (await page.locator('ul.todos li.done').count()) === 1, 3000, 'the toggle');
    assert.equal(await text(page, 'h1'), '0 left');
  } finally {
    await app.stop();
  }
});

test('on_mount runs when the page and its components appear in a connected view', async () => {
  const app = await serve({
    'components/Tick.flin': 'ready = false\non_mount {\n    ready = true\n}\n<span class="tick">{ready ? "mounted" : "static"}</span>\n',
    'app/index.flin': 'status = "static"\nshow = false\non_mount {\n    status = "connected"\n}\n\n<p class="status">{status}</p>\n<button click={show = true}>show</button>\n{if show}<Tick />{/if}\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await until(async () => (await text(page, '.status')) === 'connected', 3000, 'the page on_mount');
    await page.click('button');
    await until(async () => (await text(page, '.tick')) === 'mounted', 3000, 'the component on_mount');
  } finally {
    await app.stop();
  }
});

test('login inside a handler: the session is the browser\'s from then on', async () => {
  const app = await serve({
    'entities/User.flin': 'entity User {\n    name: text\n}\n',
    'app/index.flin': 'me = current_user()\n\nfn enter() {\n    u = User { name: "Ada" }\n    save u\n    login(u)\n}\n\n<p class="me">{me?.name ?? "nobody"}</p>\n<button click={enter()}>log in</button>\n',
    'app/private.flin': 'guard auth\n\n<p class="who">{current_user().name}</p>\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.click('button');
    await until(async () => {
      const cookies = await page.context().cookies();
      return cookies.some((c) => c.name === 'flin_session' && c.value.length > 0);
    }, 3000, 'the session cookie');
    await page.goto(app.url + '/private');
    assert.equal(await text(page, '.who'), 'Ada');
  } finally {
    await app.stop();
  }
});

test('a forged handler id runs nothing; another site cannot open the socket', async () => {
  const app = await serve({ 'app/index.flin': 'count = 0\n\n<h1>{count}</h1>\n<button click={count++}>+1</button>\n' });
  const other = await serve({ 'app/index.flin': '<h1>elsewhere</h1>\n' });
  try {
    const page = await open(app.url);
    await live(page);
    await page.evaluate(() => document.querySelector('button').setAttribute('data-flin-click', 'forged'));
    await page.click('button');
    await page.waitForSelector('[data-flin-notice="error"]', { timeout: 3000 });
    assert.equal(await text(page, 'h1'), '0');
    // A page of another origin tries the socket.
    const foreign = await open(other.url);
    const outcome = await foreign.evaluate((url) => new Promise((resolve) => {
      const ws = new WebSocket(url.replace('http', 'ws') + '/_flin/live');
      ws.onopen = () => resolve('opened');
      ws.onerror = () => resolve('refused');
    }), app.url);
    assert.equal(outcome, 'refused');
  } finally {
    await app.stop();
    await other.stop();
  }
});

test('browsers get HTML error pages, in the app\'s layout', async () => {
  const app = await serve({
    'layouts/default.flin': '<header>My app</header>\n<main>{children}</main>\n',
    'app/index.flin': '<h1>home</h1>\n',
  });
  try {
    const page = await open(null);
    const response = await page.goto(app.url + '/nowhere');
    assert.equal(response.status(), 404);
    assert.equal(await text(page, 'header'), 'My app');
    assert.match(await text(page, 'main'), /Not found/);
  } finally {
    await app.stop();
  }
});

test('bind keeps inputs of every kind and their variables equal, both ways', async () => {
  const app = await serve({
    'app/index.flin': [
      'name = "Ada"', 'age = 36', 'score = 1.5', 'agreed = false', 'color = "green"', 'size = "m"', 'bio = "line"', '',
      'fn reset() {', '    name = ""', '    age = 0', '    agreed = true', '    color = "red"', '    size = "l"', '    bio = ""', '}', '',
      '<input class="name" bind={name}>',
      '<input class="age" type="number" bind={age}>',
      '<input class="score" type="number" step="0.1" bind={score}>',
      '<input class="agreed" type="checkbox" bind={agreed}>',
      '<select class="color" bind={color}><option value="red">Red</option><option value="green">Green</option></select>',
      '<input class="s" type="radio" name="size" value="s" bind={size}><input class="m" type="radio" name="size" value="m" bind={size}><input class="l" type="radio" name="size" value="l" bind={size}>',
      '<textarea class="bio" bind={bio}></textarea>',
      '<p class="out">{name}|{age + 1}|{score * 2}|{agreed}|{color}|{size}|{bio}</p>',
      '<button click={reset()}>reset</button>',
      '',
    ].join('\n'),
  });
  try {
    const page = await open(app.url);
    await live(page);
    // The server's values show in the page as rendered.
    assert.equal(await page.inputValue('.name'), 'Ada');
    assert.equal(await page.inputValue('.color'), 'green');
    assert.equal(await page.isChecked('.m'), true);
    assert.equal(await page.inputValue('.bio'), 'line');
    // The browser's values reach the variables, converted to their types.
    await page.fill('.name', 'Grace');
    await page.fill('.age', '41');
    await page.fill('.score', '2.5');
    await page.check('.agreed');
    await page.selectOption('.color', 'red');
    await page.check('.s');
    await page.fill('.bio', 'two\nlines');
    await until(async () => (await text(page, '.out')) === 'Grace|42|5.0|true|red|s|two\nlines', 3000, 'every bound value');
    // A value the variable's type cannot take is not set.
    await page.fill('.age', '');
    await page.type('.age', 'x');
    await page.waitForTimeout(300);
    assert.match(await text(page, '.out'), /\|42\|/);
    // The server's changes reach the inputs.
    await page.click('button');
    await until(async () => (await text(page, '.out')) === '|1|5.0|true|red|l|', 3000, 'the reset');
    assert.equal(await page.inputValue('.name'), '');
    assert.equal(await page.isChecked('.agreed'), true);
    assert.equal(await page.inputValue('.color'), 'red');
    assert.equal(await page.isChecked('.l'), true);
    assert.equal(await page.inputValue('.bio'), '');
  } finally {
    await app.stop();
  }
});

test('a function prop is a handler the component calls', async () => {
  const app = await serve({
    'components/Confirm.flin': '<button class="confirm" click={props.onPress()}>{props.label}</button>\n',
    'entities/Item.flin': 'entity Item {\n    name: text\n    archived: bool = false\n}\n',
    'app/index.flin': 'items = Item.where(archived == false).order(name)\nrenders = 0\n\nfn archive(i: Item) {\n    i.archived = true\n    save i\n}\n\n<ul>{for i in items key i.id}<li>{i.name} <Confirm label="archive {i.name}" onPress={archive(i)} /></li>{/for}</ul>\n',
    'app/api/seed.flin': 'route POST {\n    save [Item { name: "a" }, Item { name: "b" }]\n    "ok"\n}\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.request.post(app.url + '/api/seed', { headers: { 'content-type': 'application/json' }, data: '{}' });
    await until(async () => (await page.locator('li').count()) === 2, 3000, 'two items');
    await page.click('button:has-text("archive b")');
    await until(async () => (await page.locator('li').allTextContents()).join() === 'a archive a', 3000, 'b archived');
  } finally {
    await app.stop();
  }
});

test('an entity being edited is not overwritten by a commit elsewhere until it is saved', async () => {
  const app = await serve({
    'entities/Note.flin': 'entity Note {\n    body: text\n}\n',
    'app/index.flin': 'note = Note.first\nall = Note.count\n\n{if note}<input class="body" bind={note.body}><button click={save note}>save</button>{/if}\n<p class="count">{all}</p>\n',
    'app/api/seed.flin': 'route POST {\n    save Note { body: "first" }\n    "ok"\n}\n',
    'app/api/touch.flin': 'route POST {\n    n = Note.first ?? not_found()\n    n.body = "changed elsewhere"\n    save n\n    save Note { body: "another" }\n    "ok"\n}\n',
    'app/api/body.flin': 'route GET {\n    Note.first?.body ?? ""\n}\n',
  });
  try {
    await (await open(null)).request.post(app.url + '/api/seed', { headers: { 'content-type': 'application/json' }, data: '{}' });
    const page = await open(app.url);
    await live(page);
    await page.fill('.body', 'my edit');
    await page.waitForTimeout(400);
    await page.request.post(app.url + '/api/touch', { headers: { 'content-type': 'application/json' }, data: '{}' });
    await until(async () => (await text(page, '.count')) === '2', 3000, 'the other commit');
    assert.equal(await page.inputValue('.body'), 'my edit');
    await page.click('button');
    await until(async () => (await (await page.request.get(app.url + '/api/body')).text()) === '"my edit"', 3000, 'the save');
  } finally {
    await app.stop();
  }
});

test('redirect() and not_found() in handlers; on_unmount when a component goes', async () => {
  const app = await serve({
    'entities/Log.flin': 'entity Log {\n    what: text\n}\n',
    'components/Panel.flin': 'on_unmount {\n    save Log { what: "panel gone" }\n}\n<div class="panel">panel</div>\n',
    'app/index.flin': 'open = true\n\n<button class="go" click={redirect("/other")}>go</button>\n<button class="missing" click={not_found()}>missing</button>\n<button class="close" click={open = false}>close</button>\n{if open}<Panel />{/if}\n',
    'app/other.flin': '<h1>other page</h1>\n',
    'app/api/logs.flin': 'route GET {\n    Log.count\n}\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.click('.close');
    await until(async () => (await page.locator('.panel').count()) === 0, 3000, 'the panel to go');
    await until(async () => (await (await page.request.get(app.url + '/api/logs')).text()) === '1', 3000, 'on_unmount');
    await page.click('.go');
    await page.waitForURL(app.url + '/other');
    assert.equal(await text(page, 'h1'), 'other page');
    await page.goto(app.url);
    await live(page);
    await page.click('.missing');
    await until(async () => /Not found/.test(await page.textContent('body')), 3000, 'the 404 page');
  } finally {
    await app.stop();
  }
});

test('a layout is live too: its handlers and values, beside the page\'s', async () => {
  const app = await serve({
    'layouts/default.flin': 'clicks = 0\n\n<nav><button class="nav" click={clicks++}>nav {clicks}</button></nav>\n<main>{children}</main>\n',
    'app/index.flin': 'count = 0\n\n<button class="page" click={count++}>page {count}</button>\n',
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.click('.nav');
    await page.click('.nav');
    await page.click('.page');
    await until(async () => (await text(page, '.nav')) === 'nav 2' && (await text(page, '.page')) === 'page 1', 3000, 'both counters');
  } finally {
    await app.stop();
  }
});

// A 1×1 PNG.
const DOT = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f0005fe02fea7d6a4780000000049454e44ae426082',
  'hex',
);

test('a file input with bind uploads the file, then a handler saves it', async () => {
  const app = await serve({
    'entities/photo.flin': 'entity Photo {\n    title: text\n    image: file @types("image/*")\n}\n',
    'app/index.flin': `picked: file? = none
title = ""
photos = Photo.all

fn add() {
    if picked is file {
        save Photo { title: title, image: picked }
    }
    picked = none
    title = ""
}

<form submit={add()}>
    <input bind={title} placeholder="Title">
    <input type="file" bind={picked}>
    <button>Add</button>
</form>
<p id="picked">{picked?.name ?? "nothing picked"} {picked?.type ?? ""}</p>
<ul>
    {for p in photos}
        <li><img src={p.image.url} alt={p.title}>{p.title} ({p.image.size} bytes)</li>
    {/for}
</ul>
`,
  });
  try {
    const page = await open(app.url);
    await live(page);
    await page.fill('input[placeholder=Title]', 'A dot');
    await page.setInputFiles('input[type=file]', { name: 'dot.png', mimeType: 'image/png', buffer: DOT });
    await until(async () => (await text(page, '#picked')).trim() === 'dot.png image/png', 5000, 'the picked file');
    await page.click('button');
    await until(async () => (await page.locator('li img').count()) === 1, 5000, 'the saved photo');
    assert.equal((await text(page, 'li')).trim(), `A dot (${DOT.length} bytes)`);
    const src = await page.locator('li img').getAttribute('src');
    const served = await page.request.get(new URL(src, app.url).toString());
    assert.equal(served.status(), 200);
    assert.equal(served.headers()['content-type'], 'image/png');
    assert.deepEqual([...(await served.body())], [...DOT]);
    assert.equal((await text(page, '#picked')).trim(), 'nothing picked');
    assert.deepEqual(page.errors, []);
  } finally {
    await app.stop();
  }
});
