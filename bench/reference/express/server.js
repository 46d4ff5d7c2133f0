// The Node.js reference for FLIN's web benchmark (bench/reference/README.md): Express +
// better-sqlite3 + EJS serving the same two pages as the FLIN app and the axum server.
//
// - GET /fortunes: the 12 fortunes of the database, one more added in memory, sorted by
//   message, rendered as an HTML table (the TechEmpower "fortunes" test).
// - GET /list: the 100 most expensive items of category "c3" out of 10,000, as a list.
//
// Usage: NODE_ENV=production node server.js --db FILE [--port 3000] [--workers 1]
// The database (SQLite, WAL) is created and seeded at start when it is empty. With
// --workers N > 1 the primary process forks N workers (node:cluster) sharing the port,
// each with its own connection.
'use strict';

const cluster = require('node:cluster');
const path = require('node:path');
const express = require('express');
const Database = require('better-sqlite3');

const FORTUNES = [
  'fortune: No such file or directory',
  "A computer scientist is someone who fixes things that aren't broken.",
  'After enough decimal places, nobody gives a damn.',
  'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1',
  'A computer program does what you tell it to do, not what you want it to do.',
  'Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen',
  'Any program using relational databases is doomed to fail.',
  'A list is only as strong as its weakest link. — Donald Knuth',
  'Feature: A bug with seniority.',
  'Computers make very fast, very accurate mistakes.',
  '<script>alert("This should not be displayed in a browser alert box.");</script>',
  'フレームワークのベンチマーク',
];

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS item (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price INTEGER NOT NULL,
    category TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS item_price ON item (price);
  CREATE INDEX IF NOT EXISTS item_category_price ON item (category, price);
`;

function parseArgs(argv) {
  const options = { db: null, port: 3000, workers: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--db' && value) options.db = value;
    else if (flag === '--port' && value) options.port = Number(value);
    else if (flag === '--workers' && value) options.workers = Number(value);
    else usage();
  }
  if (!options.db || !Number.isInteger(options.port) || !(options.workers >= 1)) usage();
  return options;
}

function usage() {
  console.error('usage: node server.js --db FILE [--port 3000] [--workers 1]');
  process.exit(2);
}

function open(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

// Creates the tables and seeds them when they are empty.
function seed(db) {
  db.exec(SCHEMA);
  db.transaction(() => {
    if (db.prepare('SELECT count(*) AS n FROM fortune').get().n === 0) {
      const insert = db.prepare('INSERT INTO fortune (message) VALUES (?)');
      for (const message of FORTUNES) insert.run(message);
    }
    if (db.prepare('SELECT count(*) AS n FROM item').get().n === 0) {
      const insert = db.prepare('INSERT INTO item (name, price, category) VALUES (?, ?, ?)');
      for (let i = 0; i < 10000; i++) insert.run(`item ${i}`, (i * 7919) % 1000, `c${i % 10}`);
    }
  })();
}

function serve(options) {
  const db = open(options.db);
  const allFortunes = db.prepare('SELECT id, message FROM fortune');
  // Ties in price come by id, newest first, as FLIN orders them.
  const topItems = db.prepare(
    'SELECT name, price FROM item WHERE category = ? ORDER BY price DESC, id DESC LIMIT 100',
  );

  const app = express();
  app.set('views', path.join(__dirname, 'views'));
  app.set('view engine', 'ejs');
  app.disable('x-powered-by');
  // The other two servers send no ETag: don't hash every body here either.
  app.set('etag', false);

  app.get('/fortunes', (req, res) => {
    const fortunes = allFortunes.all();
    fortunes.push({ id: 0, message: 'Additional fortune added at request time.' });
    fortunes.sort((a, b) => (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
    res.render('fortunes', { fortunes });
  });

  app.get('/list', (req, res) => {
    res.render('list', { items: topItems.all('c3') });
  });

  app.listen(options.port, '127.0.0.1', (err) => {
    if (err) {
      console.error(`cannot listen on 127.0.0.1:${options.port}: ${err.message}`);
      process.exit(1);
    }
    console.log(`listening on http://127.0.0.1:${options.port} (pid ${process.pid})`);
  });
}

const options = parseArgs(process.argv.slice(2));
if (cluster.isPrimary) {
  const db = open(options.db);
  seed(db);
  db.close();
  if (options.workers > 1) {
    for (let i = 0; i < options.workers; i++) cluster.fork();
    cluster.on('exit', (worker, code) => {
      console.error(`worker ${worker.process.pid} exited (${code})`);
      process.exit(1);
    });
  } else {
    serve(options);
  }
} else {
  serve(options);
}
