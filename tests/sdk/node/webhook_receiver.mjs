// A webhook receiver on loopback that verifies every request's signature
// with the published `standardwebhooks` package (not with onboard's code)
// and records what it got.
//
// Environment:
//   PORT     the port to listen on (127.0.0.1)
//   SECRETS  a JSON array of whsec_ secrets; each request is verified with each
//   PLAN     a JSON object: {"status": 500, "first": 3} answers the first 3
//            requests 500; {"status": 400} answers every request 400; {}: 204;
//            "delayMs": 2000 answers each request that much later (a slow
//            endpoint); "unique": true makes EXPECT count distinct webhook-ids,
//            so duplicates do not end the wait early
//   EXPECT   how many requests answered 2xx to wait for (or, with a failing
//            plan and no 2xx, how many requests in all)
//   LINGER   milliseconds to keep listening after that, for duplicates
//   DEADLINE milliseconds to wait at most
// Prints one JSON line per request: {n, status, verified: [bool per secret],
// id, timestamp, signatures, body}, then {"done": true, "timedOut": bool}.
import http from 'node:http';
import { Webhook } from 'standardwebhooks';

const port = Number(process.env.PORT);
const secrets = JSON.parse(process.env.SECRETS);
const plan = JSON.parse(process.env.PLAN || '{}');
const expect = Number(process.env.EXPECT);
const linger = Number(process.env.LINGER || '500');
const deadline = Number(process.env.DEADLINE || '60000');
const unique = plan.unique === true;
const acceptedIds = new Set();

const hooks = secrets.map((s) => new Webhook(s));
let n = 0;
let accepted = 0;
let finishing = false;
const got = [];

function finish(timedOut) {
  for (const line of got) {
    process.stdout.write(JSON.stringify(line) + '\n');
  }
  process.stdout.write(JSON.stringify({ done: true, timedOut }) + '\n');
  process.exit(0);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    n += 1;
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': req.headers['webhook-id'],
      'webhook-timestamp': req.headers['webhook-timestamp'],
      'webhook-signature': req.headers['webhook-signature'],
    };
    const verified = hooks.map((h) => {
      try {
        h.verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    let status = 204;
    if (plan.status && (plan.first === undefined || n <= plan.first)) {
      status = plan.status;
    }
    // A request no secret verifies is refused, as a real receiver would.
    if (!verified.some(Boolean)) {
      status = 401;
    }
    let parsed = null;
    try {
      parsed = JSON.parse(body);
    } catch {}
    got.push({
      n,
      status,
      verified,
      id: headers['webhook-id'],
      timestamp: headers['webhook-timestamp'],
      signatures: String(headers['webhook-signature'] || '').split(' ').length,
      method: req.method,
      contentType: req.headers['content-type'],
      body: parsed,
    });
    setTimeout(() => answer(res, status, headers['webhook-id']), plan.delayMs || 0);
  });
});

function answer(res, status, id) {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(status < 300 ? '' : 'no');
  if (status < 300) {
    acceptedIds.add(id);
    accepted = unique ? acceptedIds.size : accepted + 1;
  }
  const enough = accepted >= expect || (plan.status && plan.first === undefined && n >= expect);
  if (enough && !finishing) {
    finishing = true;
    setTimeout(() => finish(false), linger);
  }
}

server.listen(port, '127.0.0.1', () => {
  process.stderr.write(`listening on ${port}\n`);
});
setTimeout(() => finish(true), deadline);
