// The OpenAPI description of authentication: password login, token refresh and logout for
// superusers and auth collections, and the OAuth 2.0 token and revocation endpoints.
#include <QJsonArray>

#include "openapiparts.h"

namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;

namespace {

QJsonObject formBody(const QJsonObject &schema, const QString &description)
{
    return QJsonObject {{u"description"_s, description},
                        {u"required"_s, true},
                        {u"content"_s, content(u"application/x-www-form-urlencoded"_s, schema)}};
}

QJsonObject oauthError(const QString &description)
{
    return jsonResponse(description, schemaRef(u"OAuthError"_s));
}

QJsonObject throttled()
{
    QJsonObject r = problemResponse(u"Too many failed logins for this account or from this address: try again "
                                    "after `Retry-After` seconds (no password is checked meanwhile)."_s);
    r.insert(u"headers"_s,
             QJsonObject {{u"Retry-After"_s,
                           QJsonObject {{u"description"_s, u"Seconds until the next attempt is accepted."_s},
                                        {u"schema"_s, typed(u"integer"_s)}}}});
    return r;
}

} // namespace

void addAuthSchemas(QJsonObject &schemas)
{
    const QJsonObject token
        = typed(u"string"_s, u"An access token: a JWT (HS256) valid for 15 minutes, until its session ends."_s);
    const QJsonObject refresh
        = typed(u"string"_s, u"An opaque refresh token (`opr_…`) for POST /api/oauth2/token; each one works once."_s);
    schemas.insert(u"AuthResponse"_s,
                   objectSchema({{u"token"_s, token},
                                 {u"record"_s,
                                  typed(u"object"_s,
                                        u"The account's record (a `_superusers` record or "
                                        "a record of the auth collection)."_s)},
                                 {u"refreshToken"_s, refresh}},
                                {u"token"_s, u"record"_s}));
    schemas.insert(u"PasswordAuth"_s,
                   objectSchema({{u"identity"_s, typed(u"string"_s, u"The account's e-mail address."_s)},
                                 {u"password"_s, with(typed(u"string"_s), u"format"_s, u"password"_s)}},
                                {u"identity"_s, u"password"_s}));
    schemas.insert(
        u"TokenRequest"_s,
        objectSchema(
            {{u"grant_type"_s, enumOf({u"client_credentials"_s, u"refresh_token"_s})},
             {u"client_id"_s, typed(u"string"_s, u"client_credentials: the API key's id (or use HTTP Basic)."_s)},
             {u"client_secret"_s, typed(u"string"_s, u"client_credentials: the API key itself."_s)},
             {u"scope"_s,
              typed(u"string"_s,
                    u"client_credentials: space-separated scopes, a subset of the "
                    "key's; all of them when absent."_s)},
             {u"refresh_token"_s, typed(u"string"_s, u"refresh_token: the refresh token to spend."_s)}},
            {u"grant_type"_s}));
    schemas.insert(u"TokenResponse"_s,
                   objectSchema({{u"access_token"_s, token},
                                 {u"token_type"_s, enumOf({u"Bearer"_s})},
                                 {u"expires_in"_s, typed(u"integer"_s, u"Seconds the access token is valid."_s)},
                                 {u"scope"_s, typed(u"string"_s, u"client_credentials: the token's scopes."_s)},
                                 {u"refresh_token"_s, refresh},
                                 {u"record"_s, typed(u"object"_s, u"refresh_token: the account's record."_s)}},
                                {u"access_token"_s, u"token_type"_s, u"expires_in"_s}));
    schemas.insert(u"OAuthError"_s,
                   objectSchema({{u"error"_s,
                                  enumOf({u"invalid_request"_s, u"invalid_client"_s, u"invalid_grant"_s,
                                          u"invalid_scope"_s, u"unsupported_grant_type"_s})},
                                 {u"error_description"_s, typed(u"string"_s)}},
                                {u"error"_s}, u"An OAuth 2.0 error (RFC 6749 §5.2)."_s));
    schemas.insert(u"RevokeRequest"_s,
                   objectSchema({{u"token"_s,
                                  typed(u"string"_s,
                                        u"A refresh token, or the access token also sent "
                                        "as `Authorization`."_s)}},
                                {u"token"_s}));
}

void addAuthPaths(QJsonObject &paths)
{
    const QString loginFailed = u"A blank identity or password (named in `data`), or wrong credentials: a wrong "
                                "password and an unknown account get the same answer after the same work."_s;
    const QJsonArray collection = parameterRefs({u"AuthCollection"_s});
    addOperations(
        paths,
        {
            {.method = u"post"_s,
             .path = u"/api/collections/{collection}/auth-with-password"_s,
             .id = u"authWithPassword"_s,
             .summary = u"Log in with a password"_s,
             .description = u"Exchanges an account's e-mail address and password for an access token and a "
                            "refresh token, starting a session. Every attempt is recorded in the audit log."_s,
             .access = Access::Public,
             .parameters = collection,
             .requestBody = jsonBody(schemaRef(u"PasswordAuth"_s), u"The credentials."_s),
             .responses = {{u"200"_s, jsonResponse(u"Logged in."_s, schemaRef(u"AuthResponse"_s))},
                           {u"400"_s, problemResponse(loginFailed)},
                           {u"404"_s, problemResponse(u"Not an auth collection."_s)},
                           {u"429"_s, throttled()}}},
            {.method = u"post"_s,
             .path = u"/api/collections/{collection}/auth-refresh"_s,
             .id = u"authRefresh"_s,
             .summary = u"Get a new access token for the session"_s,
             .description = u"A new access token for the account and session of the (still valid) token sent."_s,
             .access = Access::Account,
             .parameters = collection,
             .responses = {{u"200"_s, jsonResponse(u"A new token."_s, schemaRef(u"AuthResponse"_s))},
                           {u"404"_s, problemResponse(u"Not an auth collection."_s)}}},
            {.method = u"post"_s,
             .path = u"/api/collections/{collection}/auth-logout"_s,
             .id = u"authLogout"_s,
             .summary = u"Log out"_s,
             .description = u"Ends the session of the token sent: its access and refresh tokens stop working."_s,
             .access = Access::Account,
             .parameters = collection,
             .responses = {{u"204"_s, QJsonObject {{u"description"_s, u"The session has ended."_s}}},
                           {u"404"_s, problemResponse(u"Not an auth collection."_s)}}},
            {.method = u"post"_s,
             .path = u"/api/oauth2/token"_s,
             .id = u"oauth2Token"_s,
             .summary = u"Get an access token (OAuth 2.0)"_s,
             .description = u"`client_credentials`: an API key's id and secret for a short-lived token with its "
                            "scopes (it stops working when the key is revoked). `refresh_token`: spends a "
                            "refresh token for a new access token and refresh token; presenting a spent one "
                            "again revokes its whole session."_s,
             .access = Access::Public,
             .requestBody = formBody(schemaRef(u"TokenRequest"_s), u"RFC 6749 parameters."_s),
             .responses = {{u"200"_s, jsonResponse(u"The token."_s, schemaRef(u"TokenResponse"_s))},
                           {u"400"_s, oauthError(u"A bad request, grant or scope."_s)},
                           {u"401"_s, oauthError(u"The client (API key) did not authenticate."_s)}}},
            {.method = u"post"_s,
             .path = u"/api/oauth2/revoke"_s,
             .id = u"oauth2Revoke"_s,
             .summary = u"Revoke a token (RFC 7009)"_s,
             .description = u"Ends the session of a refresh token (or of the access token also sent as "
                            "`Authorization`). Unknown tokens are answered the same way."_s,
             .access = Access::Public,
             .requestBody = formBody(schemaRef(u"RevokeRequest"_s), u"The token."_s),
             .responses = {{u"200"_s, QJsonObject {{u"description"_s, u"Revoked (or unknown)."_s}}},
                           {u"400"_s, oauthError(u"`token` is missing."_s)}}},
        },
        u"auth"_s);
}

} // namespace Outpost::Http::OpenApi
