#include "openapiparts.h"

// The API key admin API (keyscontroller.h) and the `apiKey` security scheme with its scopes
// (auth/scopes.h). The key's shape is Auth::ApiKey::toJson().
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;
using Auth::Permission;

namespace {

const QString kIdentifierPattern = u"[A-Za-z_][A-Za-z0-9_]{0,62}"_s; // Data::isValidIdentifier

struct ScopeText
{
    Permission permission;
    QString grants;
};

QList<ScopeText> scopeTexts()
{
    return {
        {Permission::RecordsRead, u"list, view and export records"_s},
        {Permission::RecordsWrite,
         u"create, update, delete and import records, and batches (it does not imply "
         "`records:read`)"_s},
        {Permission::CollectionsManage, u"collection definitions, and this document"_s},
        {Permission::AccountsManage, u"superuser and app-user accounts"_s},
        {Permission::KeysManage, u"API keys (a key can only grant scopes it holds itself)"_s},
        {Permission::LogsRead, u"the audit and request logs"_s},
        {Permission::MetricsRead, u"metrics"_s},
        {Permission::SettingsManage, u"run-time settings (rate limits)"_s},
    };
}

bool isRecords(Permission p)
{
    return p == Permission::RecordsRead || p == Permission::RecordsWrite;
}

QJsonObject scopeSchema()
{
    QStringList alternatives;
    for (const ScopeText &s : scopeTexts()) {
        const QString name = Auth::permissionName(s.permission);
        alternatives << (isRecords(s.permission) ? QString(name + u"(:"_s + kIdentifierPattern + u")?"_s) : name);
    }
    return with(typed(u"string"_s,
                      u"A scope (see the `apiKey` security scheme); `records:read:NAME` and "
                      "`records:write:NAME` name one collection. Input is trimmed and its prefix lower-cased."_s),
                u"pattern"_s, QString(u"^("_s + alternatives.join(u'|') + u")$"_s));
}

QJsonObject blankDate(const QString &description)
{
    return with(blankable(with(typed(u"string"_s), u"pattern"_s, kDatePattern), u""_s), u"description"_s, description);
}

QJsonObject keyName()
{
    return with(with(typed(u"string"_s, u"Trimmed; at most 100 characters."_s), u"minLength"_s, 1), u"maxLength"_s,
                100);
}

// The members create and update take (NewApiKey, ApiKeyPatch).
QJsonObject keyInput(const QString &clearing)
{
    return {
        {u"name"_s, keyName()},
        {u"scopes"_s, with(with(arrayOf(schemaRef(u"ApiKeyScope"_s)), u"minItems"_s, 1), u"uniqueItems"_s, true)},
        {u"expiresAt"_s,
         nullable(u"string"_s,
                  u"When the key stops working, in the future: `2030-01-31 00:00:00.000Z` or RFC 3339. "_s + clearing)},
        {u"allowedCidrs"_s,
         arrayOf(typed(u"string"_s),
                 u"The addresses it may be used from: ranges such as `10.0.0.0/8` and `::1/128`, or single addresses "
                 "(`192.168.1.7`). Empty: any."_s)},
    };
}

QJsonObject issuedResponse(const QString &description)
{
    return jsonResponse(description, schemaRef(u"IssuedApiKey"_s));
}

} // namespace

void addKeySchemas(QJsonObject &schemas)
{
    const QJsonObject count = bounded(u"integer"_s, 0);
    schemas.insert(u"ApiKeyScope"_s, scopeSchema());
    const QJsonObject key {
        {u"id"_s, with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern)},
        {u"name"_s, keyName()},
        {u"prefix"_s,
         typed(u"string"_s, u"The secret's first 12 characters (`opk_` and 8 more), to tell keys apart."_s)},
        {u"scopes"_s, arrayOf(schemaRef(u"ApiKeyScope"_s))},
        {u"allowedCidrs"_s, arrayOf(typed(u"string"_s), u"Address ranges as `address/bits`; empty: any address."_s)},
        {u"createdBy"_s, typed(u"string"_s, u"Who created it: `superuser:ID`, `apikey:ID` or `cli`."_s)},
        {u"created"_s, dateString(u"Creation time (UTC)."_s)},
        {u"expires"_s, blankDate(u"When it stops working; empty: never."_s)},
        {u"revoked"_s, blankDate(u"When it was revoked; empty: it was not."_s)},
        {u"lastUsedAt"_s, blankDate(u"Its last use (saved every few seconds); empty: never used."_s)},
        {u"lastUsedFrom"_s, typed(u"string"_s, u"The client address of its last use."_s)},
        {u"requestCount"_s, count}};
    schemas.insert(u"ApiKey"_s, objectSchema(key, key.keys(), u"An API key, never its secret."_s));
    schemas.insert(u"ApiKeyList"_s,
                   objectSchema({{u"items"_s, arrayOf(schemaRef(u"ApiKey"_s))}, {u"totalItems"_s, count}},
                                {u"items"_s, u"totalItems"_s}, u"Every key, newest first, revoked ones included."_s));
    const QJsonObject secret = with(typed(u"string"_s, u"The secret, shown this once: send it as `X-API-Key`."_s),
                                    u"pattern"_s, u"^opk_[0-9A-Za-z]{38}$"_s);
    schemas.insert(u"IssuedApiKey"_s,
                   QJsonObject {{u"description"_s, u"A key and its secret."_s},
                                {u"allOf"_s,
                                 QJsonArray {schemaRef(u"ApiKey"_s), objectSchema({{u"key"_s, secret}}, {u"key"_s})}}});
    schemas.insert(u"NewApiKey"_s, objectSchema(keyInput(u"Null or empty: never."_s), {u"name"_s, u"scopes"_s}));
    schemas.insert(u"ApiKeyPatch"_s,
                   objectSchema(keyInput(u"Null or empty clears it."_s), {}, u"The members to change."_s));
    schemas.insert(u"ApiKeyRotation"_s,
                   objectSchema({{u"graceSeconds"_s,
                                  with(with(bounded(u"integer"_s, 0, 604800), u"default"_s, 0), u"description"_s,
                                       u"How long the old secret keeps working; at most 7 days."_s)}}));
}

void addKeyPaths(QJsonObject &paths)
{
    const QString keys = u"/api/keys"_s, key = u"/api/keys/{id}"_s;
    const QJsonArray id {
        parameter(u"id"_s, u"path"_s, with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern), u"The key's id."_s)};
    const QString noEscalation = u" A key that manages keys can only grant scopes it holds itself (403)."_s;
    const QJsonObject location {{u"Location"_s,
                                 QJsonObject {{u"description"_s, u"The new key's path, `/api/keys/ID`."_s},
                                              {u"schema"_s, typed(u"string"_s)}}}};
    const QList<Operation> operations {
        {.method = u"post"_s,
         .path = keys,
         .id = u"createApiKey"_s,
         .summary = u"Create an API key"_s,
         .description = u"Issues a key with the scopes given, and optionally an expiry and the addresses it may be "
                        "used from. The answer holds the secret, `key`, this once: only its hash is kept."_s
             + noEscalation,
         .requestBody = jsonBody(schemaRef(u"NewApiKey"_s), u"The new key."_s),
         .responses = {{u"201"_s, with(issuedResponse(u"The new key and its secret."_s), u"headers"_s, location)}},
         .shared = {400, 415}},
        {.method = u"get"_s,
         .path = keys,
         .id = u"listApiKeys"_s,
         .summary = u"List API keys"_s,
         .description = u"Every key, newest first, revoked ones included; never their secrets."_s,
         .responses = {{u"200"_s, jsonResponse(u"The keys."_s, schemaRef(u"ApiKeyList"_s))}}},
        {.method = u"get"_s,
         .path = key,
         .id = u"getApiKey"_s,
         .summary = u"View an API key"_s,
         .description = u"One key, without its secret."_s,
         .parameters = id,
         .responses = {{u"200"_s, jsonResponse(u"The key."_s, schemaRef(u"ApiKey"_s))}},
         .shared = {404}},
        {.method = u"patch"_s,
         .path = key,
         .id = u"updateApiKey"_s,
         .summary = u"Update an API key"_s,
         .description
         = u"Changes the members sent and keeps the others. A revoked key cannot be changed (400)."_s + noEscalation,
         .parameters = id,
         .requestBody = jsonBody(schemaRef(u"ApiKeyPatch"_s), u"The members to change."_s),
         .responses = {{u"200"_s, jsonResponse(u"The updated key."_s, schemaRef(u"ApiKey"_s))}},
         .shared = {400, 404, 415}},
        {.method = u"delete"_s,
         .path = key,
         .id = u"revokeApiKey"_s,
         .summary = u"Revoke an API key"_s,
         .description = u"Revokes the key for good, from the next request on. Revoking it again is not an error."_s,
         .parameters = id,
         .responses = {{u"204"_s, QJsonObject {{u"description"_s, u"Revoked."_s}}}},
         .shared = {404}},
        {.method = u"post"_s,
         .path = key + u"/rotate"_s,
         .id = u"rotateApiKey"_s,
         .summary = u"Rotate an API key's secret"_s,
         .description = u"Issues a new secret, shown this once. The old one keeps working for `graceSeconds`, so "
                        "that clients can switch over (by default it stops at once)."_s,
         .parameters = id,
         .requestBody = with(jsonBody(schemaRef(u"ApiKeyRotation"_s), u"Optional."_s), u"required"_s, false),
         .responses = {{u"200"_s, issuedResponse(u"The key and its new secret."_s)}},
         .shared = {400, 404, 415}},
    };
    addOperations(paths, operations, u"keys"_s, Permission::KeysManage);
}

QJsonObject apiKeyScheme()
{
    QStringList scopes;
    for (const ScopeText &s : scopeTexts()) {
        const QString name = Auth::permissionName(s.permission);
        scopes << u"- %1%2: %3"_s.arg(
            code(name), isRecords(s.permission) ? u", "_s + code(name + u":NAME"_s) : QString(), s.grants);
    }
    const QString description
        = u"`X-API-Key: opk_...` (or `Authorization: Bearer opk_...`) with a key made by `POST /api/keys`. A key "
          "may call an operation when one of its scopes grants the operation's `x-outpost-scope`; a `:NAME` scope "
          "grants it for the collection NAME alone. On record operations a key then passes the collection's rules "
          "as a superuser does. Scopes:\n\n"_s
        + scopes.join(u'\n')
        + u"\n\nA key that is malformed, unknown, expired or revoked is refused with 401 on every operation, one used "
          "from an address outside its `allowedCidrs` with 403."_s;
    return {
        {u"type"_s, u"apiKey"_s}, {u"in"_s, u"header"_s}, {u"name"_s, u"X-API-Key"_s}, {u"description"_s, description}};
}

} // namespace Outpost::Http::OpenApi
