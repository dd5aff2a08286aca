// Outpost's tokens through the jose library (https://github.com/panva/jose), for tst_jose.cpp.
//
//   OUTPOST_TOKEN=… OUTPOST_HMAC_KEY=… OUTPOST_SECRET=… OUTPOST_KID=… node tokens.mjs
//
// OUTPOST_TOKEN is a token the server issued, OUTPOST_HMAC_KEY (base64url) the exact key it signs
// that account's tokens with, OUTPOST_SECRET (base64url) the install's signing secret alone, and
// OUTPOST_KID the install's key id. Verifies the token as any HS256
// consumer would, then signs look-alikes that copy its header and claims (whatever they are) and
// prints them as one JSON object, {"verified": {header, payload}, "forged": {name: token}}; the
// test sends each to the server. Exit code 0, or 1 with the reason on stderr.
import { SignJWT, UnsecuredJWT, base64url, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { randomBytes } from 'node:crypto';

function fail(message) {
    console.error(`tokens.mjs: ${message}`);
    process.exit(1);
}

const token = process.env.OUTPOST_TOKEN;
const kid = process.env.OUTPOST_KID;
if (!token || !process.env.OUTPOST_HMAC_KEY || !process.env.OUTPOST_SECRET || !kid)
    fail('OUTPOST_TOKEN, OUTPOST_HMAC_KEY, OUTPOST_SECRET and OUTPOST_KID must be set');
const key = base64url.decode(process.env.OUTPOST_HMAC_KEY);
const secret = base64url.decode(process.env.OUTPOST_SECRET);
const now = Math.floor(Date.now() / 1000);

// 1. The issued token verifies with the account's key: HS256 only, exp and iat present and sane.
let verified;
try {
    verified = await jwtVerify(token, key, { algorithms: ['HS256'], typ: 'JWT', requiredClaims: ['iat', 'exp'] });
} catch (e) {
    fail(`jwtVerify refused the server's token: ${e.code ?? ''} ${e.message}`);
}
const { payload, protectedHeader } = verified;
if (protectedHeader.alg !== 'HS256' || protectedHeader.kid !== kid)
    fail(`unexpected header ${JSON.stringify(protectedHeader)} (kid should be ${kid})`);
if (!Number.isInteger(payload.iat) || !Number.isInteger(payload.exp))
    fail(`iat and exp must be integers (NumericDate): ${JSON.stringify(payload)}`);
// jwtVerify has already refused an exp in the past; the server's clock is this machine's.
if (payload.iat > now + 5 || payload.iat < now - 300 || payload.exp <= payload.iat)
    fail(`iat/exp out of range at ${now}: ${JSON.stringify(payload)}`);

// 2. Look-alikes: the same header and claims, fresh iat/exp, signed otherwise.
const header = decodeProtectedHeader(token);
const claims = decodeJwt(token);
const lifetime = claims.exp - claims.iat;
for (const name of ['iat', 'exp', 'nbf'])
    delete claims[name];

const signed = (signingKey, iat = now, exp = now + lifetime) =>
    new SignJWT(claims).setProtectedHeader(header).setIssuedAt(iat).setExpirationTime(exp).sign(signingKey);

const unsecured = new UnsecuredJWT(claims).setIssuedAt(now).setExpirationTime(now + lifetime).encode();
// jose writes {"alg":"none"} alone; with our kid and typ the server cannot refuse it for the key id.
const unsecuredWithKid = [
    base64url.encode(JSON.stringify({ ...header, alg: 'none' })),
    unsecured.split('.')[1],
    '',
].join('.');

const forged = {
    unsecured,
    unsecuredWithKid,
    wrongKey: await signed(randomBytes(key.length)),
    // The install's secret without the account's suffix: a key that is right for no account.
    secretOnly: await signed(secret),
    expired: await signed(key, now - 3600 - lifetime, now - 3600),
    valid: await signed(key),
};
process.stdout.write(JSON.stringify({ verified: { header: protectedHeader, payload }, forged }) + '\n');
