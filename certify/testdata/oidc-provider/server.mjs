// node oidc-provider, unmodified, configured the way a vendor would put it in
// front of one single-page app, for the certify tests of refreshsuite
// (cmd/refreshsuite/certify_oidcprovider_test.go). Everything not set here is
// the provider's own default: refresh tokens only for offline_access asked
// with prompt=consent, rotation of a public client's refresh tokens with the
// whole grant revoked when a rotated-out one comes back, PKCE required of
// public clients, CORS for the origins of a public client's redirect URIs,
// SameSite=Lax session cookies, and the built-in development login and
// consent pages, which take any login and password.
//
// oidc-provider 9 is meant for Node.js 22 LTS and later and warns
// "Unsupported runtime" on Node.js 20 (lib/index.js); no 9.x says so in an
// engines field, and what it uses (URL.parse, crypto.hash) Node.js 20.20 has.
//
//   PORT=9000 REDIRECT_URI=http://127.0.0.1:8080/index.html,http://127.0.0.1:8080/silent-callback.html node server.mjs
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const redirectURIs = (process.env.REDIRECT_URI ?? '').split(',').filter(Boolean);
if (!Number.isInteger(port) || port <= 0 || redirectURIs.length === 0) {
  console.error('server.mjs: PORT and REDIRECT_URI (comma-separated) are required');
  process.exit(2);
}
const issuer = `http://localhost:${port}`;

// A deployment's own signing key and cookie keys rather than the package's
// published development ones; new at every start, as nothing here outlives
// the process (the default adapter keeps everything in memory).
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'spa',
    client_name: 'refreshsuite reference SPA',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: redirectURIs,
  }],
  jwks: { keys: [{ ...signingKey, use: 'sig', kid: randomBytes(8).toString('hex') }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // The SPA asks for profile; the claims behind it are the login's name.
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
  async findAccount(ctx, sub) {
    return { accountId: sub, claims: async () => ({ sub, name: sub, preferred_username: sub }) };
  },
  // A logout from the SPA revokes its refresh token (RFC 7009).
  features: { revocation: { enabled: true } },
});

// One line per request, for the test's log when it fails: no query string or
// body, which carry codes and tokens.
provider.use(async (ctx, next) => {
  await next();
  console.log(`${ctx.method} ${ctx.path} ${ctx.status}`);
});

createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening, issuer ${issuer}`);
});
