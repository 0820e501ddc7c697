// An independent OAuth 2.0 authorization server for picoauth's interop test:
// panva's oidc-provider (OpenID Certified), pinned in package.json, over HTTPS.
//
// Environment (all set by tests/tests/interop.rs):
//   INTEROP_CERT, INTEROP_KEY  PEM files: the leaf certificate (chain) and its key
//   INTEROP_CA                 PEM file: the CA that signed the leaf (this script's own
//                              authorization requests trust only it)
//   INTEROP_HOST               address to listen on and name in the issuer (127.0.0.1)
//   INTEROP_PORT               port (0 = any free one; the chosen one is reported)
//
// Protocol on stdout, one JSON object a line (logs go to stderr):
//   {"ready":true,"port":N,"issuer":"...","version":"x.y.z"}
// then, for each line {"id":N,"op":"authorize",...} read on stdin, one line
//   {"id":N,"code":"..."} or {"id":N,"error":"..."}
//
// "authorize" drives the real authorization endpoint (GET /auth, the interaction,
// the resume) with a fresh cookie jar; the test-only interaction below logs the
// user in and grants the requested scope at once, without a page.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

import Provider from 'oidc-provider';

const require = createRequire(import.meta.url);
const { version } = require('oidc-provider/package.json');

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) {
    process.stderr.write(`interop server: ${name} is not set\n`);
    process.exit(2);
  }
  return v;
};

const cert = readFileSync(env('INTEROP_CERT'));
const key = readFileSync(env('INTEROP_KEY'));
const ca = readFileSync(env('INTEROP_CA'));
const host = env('INTEROP_HOST', '127.0.0.1');
const wantPort = Number(env('INTEROP_PORT', '0'));

// The clients. The odd one's id and secret hold every character RFC 6749 §2.3.1
// form-encoding changes (space, ':', '%', '+', '/', '='), so a client that skips the
// encoding, or encodes ' ' as '%20' but forgets '+', fails to authenticate.
const ODD_ID = 'odd id:100%+/=';
const ODD_SECRET = 'odd secret: 50%+50%/2==1';
const PLAIN_ID = 'plain-client';
const PLAIN_SECRET = 'plain-secret-0123456789';
const PUBLIC_ID = 'public-pkce-client';
const REDIRECT = 'https://client.example/cb';
const SCOPES = ['api:read', 'api:write'];

const clients = [
  {
    client_id: ODD_ID,
    client_secret: ODD_SECRET,
    // client_secret_basic clients of oidc-provider also accept client_secret_post.
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [REDIRECT],
  },
  {
    client_id: PLAIN_ID,
    client_secret: PLAIN_SECRET,
    token_endpoint_auth_method: 'client_secret_post',
    // No client_credentials: asking for it is refused for this client.
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT],
  },
  {
    client_id: PUBLIC_ID,
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [REDIRECT],
  },
];

function configuration({ clientCredentials }) {
  return {
    clients: clients.filter((c) => clientCredentials || c.client_id === PLAIN_ID),
    scopes: ['openid', 'offline_access', ...SCOPES],
    cookies: { keys: ['picoauth-interop-cookie-key'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: clientCredentials },
      introspection: { enabled: false },
      revocation: { enabled: false },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // PKCE for the public client (RFC 9700 §2.1.1); the confidential clients also
    // exchange codes without it.
    pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
    findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    // Refresh tokens for every code exchange of a client allowed the grant, with no
    // offline_access/prompt=consent dance, and not tied to the browser session.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    ttl: { AuthorizationCode: 120, AccessToken: 600, ClientCredentials: 600, RefreshToken: 3600, Interaction: 120, Session: 600, Grant: 3600 },
  };
}

const log = (msg) => process.stderr.write(`interop server: ${msg}\n`);

const server = https.createServer({ cert, key });
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(wantPort, host, resolve);
});
const { port } = server.address();
const origin = `https://${host}:${port}`;

// The main provider, and one at /strict that does not support client_credentials
// at all (for a genuine `unsupported_grant_type`).
const provider = new Provider(origin, configuration({ clientCredentials: true }));
const strict = new Provider(`${origin}/strict`, configuration({ clientCredentials: false }));
for (const p of [provider, strict]) {
  p.on('server_error', (ctx, err) => log(`server_error: ${err.stack}`));
  p.on('grant.error', (ctx, err) => log(`grant.error: ${err.message} (${err.error_description ?? ''})`));
}

// The test-only interaction: approve at once, whatever is asked.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { params, prompt } = details;
  const accountId = 'interop-user';
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  if (params.scope) {
    grant.addOIDCScope(params.scope);
  }
  const grantId = await grant.save();
  const result = { login: { accountId }, consent: { grantId } };
  log(`interaction ${details.uid}: prompt ${prompt.name}, approving ${params.scope ?? ''}`);
  const to = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(to);
  return undefined;
});

const main = provider.callback();
const strictApp = strict.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/strict/')) {
    req.url = req.url.slice('/strict'.length);
    strictApp(req, res);
  } else {
    main(req, res);
  }
});

// One HTTPS GET to our own server, trusting only the test's CA.
function get(url, jar) {
  return new Promise((resolve, reject) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const req = https.request(url, {
      method: 'GET',
      ca,
      headers: cookie ? { cookie } : {},
      timeout: 5000,
    }, (res) => {
      for (const c of res.headers['set-cookie'] ?? []) {
        const [pair] = c.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        // An expired cookie is a deletion.
        if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') {
          jar.delete(name);
        } else {
          jar.set(name, value);
        }
      }
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

async function authorize(cmd) {
  const url = new URL(`${origin}/auth`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', cmd.client_id);
  url.searchParams.set('redirect_uri', cmd.redirect_uri ?? REDIRECT);
  url.searchParams.set('state', 'interop-state');
  if (cmd.scope) url.searchParams.set('scope', cmd.scope);
  if (cmd.code_challenge) {
    url.searchParams.set('code_challenge', cmd.code_challenge);
    url.searchParams.set('code_challenge_method', 'S256');
  }
  const jar = new Map();
  let next = url;
  for (let hop = 0; hop < 8; hop += 1) {
    const res = await get(next, jar);
    if (res.status < 300 || res.status > 399 || !res.location) {
      throw new Error(`GET ${next.pathname} answered ${res.status} without a redirect`);
    }
    const to = new URL(res.location, next);
    if (to.href.startsWith(cmd.redirect_uri ?? REDIRECT)) {
      const code = to.searchParams.get('code');
      if (!code) {
        throw new Error(`redirected without a code: ${to.search}`);
      }
      return code;
    }
    next = to;
  }
  throw new Error('too many redirects');
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let id = null;
  try {
    const cmd = JSON.parse(line);
    id = cmd.id ?? null;
    if (cmd.op !== 'authorize') {
      throw new Error(`unknown op ${cmd.op}`);
    }
    const code = await authorize(cmd);
    process.stdout.write(`${JSON.stringify({ id, code })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ id, error: String(err.message ?? err) })}\n`);
  }
});
// The test closed our stdin (it ended, or died): stop.
rl.on('close', () => {
  server.close();
  process.exit(0);
});

process.stdout.write(`${JSON.stringify({ ready: true, port, issuer: origin, version })}\n`);
