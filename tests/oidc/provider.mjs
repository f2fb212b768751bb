// A real OpenID provider (the `oidc-provider` package) for deskhost's
// end-to-end tests, laid out like the Microsoft identity platform:
// `http://127.0.0.1:PORT/common/v2.0/.well-known/openid-configuration`.
//
// Environment:
//   PORT           port to listen on, on 127.0.0.1 only (required)
//   REDIRECT_URI   the relying party's callback (required)
//   ACCESS_TTL     access token lifetime in seconds (default 3600)
//   CLIENT_ID      default "deskhost-test"
//   CLIENT_SECRET  default "deskhost-test-secret"
//   OIDC_DEBUG     when set, oidc-provider's own notices go to stderr
//   OIDC_EXIT_WITH_STDIN  when set, exit once standard input closes
//
// Standard output carries only these lines, which the tests read:
//   ready                  the provider is listening
//   grant <grant_type>     a token request succeeded
//   revoked                a token was revoked at the revocation endpoint
//
// Every token lives in memory: restarting the process forgets them all.


function fail(message) {
  process.stderr.write(`oidc test provider: ${message}\n`);
  process.exit(2);
}

const port = Number.parseInt(process.env.PORT ?? '', 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail('PORT is required');
const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) fail('REDIRECT_URI is required');
const accessTtl = Number.parseInt(process.env.ACCESS_TTL ?? '3600', 10);
if (!Number.isInteger(accessTtl) || accessTtl <= 0) fail('ACCESS_TTL must be a positive integer');
const clientId = process.env.CLIENT_ID || 'deskhost-test';
const clientSecret = process.env.CLIENT_SECRET || 'deskhost-test-secret';

// oidc-provider prints development notices with console.info (standard
// output) and console.warn: keep standard output for the lines above.
const debug = Boolean(process.env.OIDC_DEBUG);
console.info = debug ? (...args) => console.error(...args) : () => {};
console.warn = debug ? (...args) => console.error(...args) : () => {};
const say = (line) => process.stdout.write(`${line}\n`);

// Imported only now so that the notices they print on import (such as
// "Unsupported runtime" on Node.js 20, which works) stay quiet too.
const { default: express } = await import('express');
const { default: Provider } = await import('oidc-provider');

const tenantPath = '/common/v2.0';
const issuer = `http://127.0.0.1:${port}${tenantPath}`;

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  responseTypes: ['code'],
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email', 'email_verified'],
  },
  // Put the scope-requested claims (name, email) in the ID token too, as
  // Microsoft does, instead of only at the userinfo endpoint.
  conformIdTokenClaims: false,
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: 'Lee Lead',
          email: 'lee@teams.example.com',
          email_verified: true,
        };
      },
    };
  },
  pkce: { required: () => true },
  // Everything runs on one clock: let tokens expire exactly at their `exp`
  // (the default tolerance keeps them 15 s longer).
  clockTolerance: 0,
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  // Confidential clients' refresh tokens are by default only rotated once
  // 70% of their lifetime has passed: rotate on every use.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Grant: 14 * 24 * 60 * 60,
    Session: 14 * 24 * 60 * 60,
    RefreshToken: 14 * 24 * 60 * 60,
  },
};

const provider = new Provider(issuer, configuration);

provider.on('grant.success', (ctx) => {
  say(`grant ${ctx.oidc.params?.grant_type ?? 'unknown'}`);
});

// Authorization requests as Microsoft takes them:
// - OpenID Connect Core lets a provider ignore `offline_access` unless the
//   request has prompt=consent, and oidc-provider does; Microsoft issues a
//   refresh token whenever `offline_access` is asked for. So add `consent`
//   to the prompt of requests that ask for it (unless prompt=none).
// - oidc-provider refuses prompt=select_account (Microsoft's "pick an
//   account"); take it as `login`, which shows the login page.
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/auth') {
    const params = new URLSearchParams(ctx.querystring);
    const prompts = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
    const scopes = (params.get('scope') ?? '').split(' ');
    if (prompts.delete('select_account')) prompts.add('login');
    if (scopes.includes('offline_access') && !prompts.has('none')) prompts.add('consent');
    if (prompts.size) params.set('prompt', [...prompts].join(' '));
    ctx.querystring = params.toString();
  }
  await next();
});

// oidc-provider has no revocation event: note a revocation request that
// found and destroyed a token (an unknown token also gets a 200).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'revocation' && ctx.status === 200) {
    const { AccessToken, RefreshToken } = ctx.oidc.entities ?? {};
    if (AccessToken || RefreshToken) say('revoked');
  }
});

provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc test provider: server error: ${err?.stack ?? err}\n`);
});

const app = express();
// Microsoft lets token requests name scopes of other resources (Graph's
// Chat.ReadWrite...) next to the OpenID ones, and wants them on refresh;
// oidc-provider refuses a refresh whose scope names anything the refresh
// token lacks (invalid_scope). Drop the scopes it does not know from token
// requests, as it already does for authorization requests. (oidc-provider
// then reads the body parsed here.)
const knownScopes = new Set(configuration.scopes);
app.post(`${tenantPath}/token`, express.urlencoded({ extended: false }), (req, _res, next) => {
  if (typeof req.body?.scope === 'string') {
    const scope = req.body.scope.split(' ').filter((s) => knownScopes.has(s)).join(' ');
    if (scope) req.body.scope = scope;
    else delete req.body.scope;
  }
  next();
});
app.use(tenantPath, provider.callback());

const server = app.listen(port, '127.0.0.1', () => say('ready'));
server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}

// Started by the tests with a pipe as standard input: exit when it closes,
// so that a test process killed outright leaves no provider behind.
if (process.env.OIDC_EXIT_WITH_STDIN) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
