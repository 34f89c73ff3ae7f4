'use strict';
// An OCPP 1.6 / 2.0.1 central system on ocpp-rpc's RPCServer in strict mode
// (every message in both directions validated against the official JSON
// schemas), for chargedesk's proxy-mode tests: it plays the network's
// existing central system behind chargedesk.
//
// Usage: node centralsystem.js [--port N] (0, the default, picks one)
// The password chargers must present (HTTP Basic) comes from OCPP_PASSWORD.
//
// stdout, one JSON object a line:
//   {"event":"listening","port":N}
//   {"event":"connected","identity":..,"protocol":..}
//   {"event":"call","identity":..,"messageId":..,"method":..,"params":..}
//   {"event":"result","ref":..,"result":..} / {"event":"error","ref":..,"error":..}
//   {"event":"disconnected","identity":..}
// stdin, one JSON object a line: {"ref":..,"identity":..,"method":..,"params":..}
// sends a CALL to a connected charger; its answer comes back as a result or
// an error line with the same ref. stdin closing ends the process.

const { RPCServer } = require('ocpp-rpc');
const readline = require('node:readline');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const password = process.env.OCPP_PASSWORD || '';
const clients = new Map();
let nextTx = 200;

function answer(method, params) {
  const now = new Date().toISOString();
  switch (method) {
    case 'BootNotification':
      return { status: 'Accepted', currentTime: now, interval: 88 };
    case 'Heartbeat':
      return { currentTime: now };
    case 'Authorize':
      return params.idTag !== undefined ? { idTagInfo: { status: 'Accepted' } } : { idTokenInfo: { status: 'Accepted' } };
    case 'StartTransaction':
      return { transactionId: nextTx++, idTagInfo: { status: 'Accepted' } };
    case 'StopTransaction':
      return params.idTag !== undefined ? { idTagInfo: { status: 'Accepted' } } : {};
    case 'TransactionEvent':
      return params.idToken !== undefined ? { idTokenInfo: { status: 'Accepted' } } : {};
    default:
      return {}; // StatusNotification, MeterValues, and the like
  }
}

async function main() {
  const server = new RPCServer({ protocols: ['ocpp1.6', 'ocpp2.0.1'], strictMode: true });
  server.auth((accept, reject, handshake) => {
    if (handshake.password === undefined || handshake.password.toString() !== password) {
      reject(401, 'Unauthorized');
      return;
    }
    accept();
  });
  server.on('client', (client) => {
    clients.set(client.identity, client);
    out({ event: 'connected', identity: client.identity, protocol: client.protocol });
    client.on('close', () => {
      if (clients.get(client.identity) === client) clients.delete(client.identity);
      out({ event: 'disconnected', identity: client.identity });
    });
    client.handle(({ method, params, messageId }) => {
      out({ event: 'call', identity: client.identity, messageId, method, params });
      return answer(method, params);
    });
  });
  const http = await server.listen(Number(arg('--port', '0')), '127.0.0.1');
  out({ event: 'listening', port: http.address().port });

  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch (err) {
      return;
    }
    const client = clients.get(cmd.identity);
    if (!client) {
      out({ event: 'error', ref: cmd.ref, error: 'not connected' });
      return;
    }
    try {
      out({ event: 'result', ref: cmd.ref, result: await client.call(cmd.method, cmd.params) });
    } catch (err) {
      out({ event: 'error', ref: cmd.ref, error: String(err && err.message ? err.message : err) });
    }
  });
  rl.on('close', async () => {
    await server.close({ force: true }).catch(() => {});
    process.exit(0);
  });
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
