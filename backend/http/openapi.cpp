#include "openapi.h"

#include <QJsonArray>
#include <QJsonDocument>

#include "openapiparts.h"

namespace Outpost::Http {

using namespace Qt::StringLiterals;
using namespace OpenApi;

namespace {

// The project declares no licence yet; add an SPDX `identifier` next to the name when it does.
const QString kLicenseName = u"Proprietary"_s;

const QString kFixedTags[][2] = {
    {u"system"_s, u"Health and this document."_s},
    {u"auth"_s, u"Superuser authentication (PocketBase's `_superusers` auth collection)."_s},
    {u"collections"_s, u"Collection definitions: fields, indexes and access rules."_s},
    {u"batch"_s, u"Several record requests in one transaction."_s},
    {u"keys"_s, u"API keys: scoped, revocable credentials for programs. Every change is recorded in the audit log."_s},
    {u"logs"_s, u"The audit log (logins and changes to accounts, keys and data) and the request log. Read-only."_s},
    {u"metrics"_s, u"Request metrics: a Prometheus exposition and JSON summaries. Read-only."_s},
    {u"settings"_s, u"Run-time settings: the per-caller rate limits."_s},
    {u"superusers"_s,
     u"Superuser accounts and their roles (PocketBase's `_superusers` records). At least one owner always "
     "remains."_s},
};

QJsonObject info(const QString &version)
{
    const QString description
        = u"The HTTP API of an Outpost server, in PocketBase's (v0.23+) wire format.\n\n"
          "**Authentication.** Log in with `POST /api/collections/_superusers/auth-with-password` and send the "
          "token as `Authorization: Bearer TOKEN` (the bare token is accepted too). Each operation says whether it "
          "needs a superuser; record operations follow the collection's access rules, quoted in each (there an "
          "invalid or expired token counts as none, as in PocketBase). Programs may send an API key instead "
          "(`X-API-Key: opk_...`, see the `apiKey` scheme): an operation that takes one names the scope it needs "
          "in `x-outpost-scope`.\n\n"
          "**Errors** are RFC 9457 `application/problem+json` bodies that also carry PocketBase's `message` and "
          "`data`. Besides the statuses listed per operation, the request guard answers any request that breaks "
          "its limits: 400 (malformed), 405 (wrong method, with `Allow`), 408 (too slow), 413 (body over 16 MiB), "
          "414 (request line over 8 KiB), 431 (head over 32 KiB or 64 fields), 501 (unknown method) or 505 (not "
          "HTTP/1.1).\n\n"
          "**Values.** Dates are UTC strings like `2006-01-02 15:04:05.000Z`; record ids are 15 characters of "
          "`[a-z0-9]`."_s;
    return {{u"title"_s, u"Outpost"_s},
            {u"version"_s, version},
            {u"description"_s, description},
            {u"license"_s, QJsonObject {{u"name"_s, kLicenseName}}}};
}

QJsonArray servers(QString url)
{
    while (url.size() > 1 && url.endsWith(u'/'))
        url.chop(1); // redocly no-server-trailing-slash
    return {QJsonObject {{u"url"_s, url.isEmpty() ? u"/"_s : url}}};
}

QJsonObject components(const QJsonObject &schemas)
{
    const QJsonObject bearer {{u"type"_s, u"http"_s},
                              {u"scheme"_s, u"bearer"_s},
                              {u"bearerFormat"_s, u"JWT"_s},
                              {u"description"_s,
                               u"`Authorization: Bearer TOKEN` with a token from auth-with-password or auth-refresh "
                               "(HS256, valid one hour); the bare token is accepted too."_s}};
    return {{u"schemas"_s, schemas},
            {u"parameters"_s, sharedParameters()},
            {u"responses"_s, sharedResponses()},
            {u"headers"_s, sharedHeaders()},
            {u"securitySchemes"_s, QJsonObject {{u"bearerAuth"_s, bearer}, {u"apiKey"_s, apiKeyScheme()}}}};
}

// Drops the components nothing refers to (redocly no-unused-components, spectral
// oas3-unused-component), e.g. the record parameters when there is no collection.
void pruneUnusedComponents(QJsonObject &document)
{
    QJsonObject components = document.value(u"components"_s).toObject();
    for (bool removed = true; removed;) {
        removed = false;
        document.insert(u"components"_s, components);
        const QByteArray text = QJsonDocument(document).toJson(QJsonDocument::Compact);
        for (const QString &kind : {u"schemas"_s, u"parameters"_s, u"responses"_s, u"headers"_s}) {
            QJsonObject group = components.value(kind).toObject();
            for (const QString &name : group.keys()) {
                if (!text.contains(QString(u"\"#/components/"_s + kind + u'/' + name + u'"').toUtf8())) {
                    group.remove(name);
                    removed = true;
                }
            }
            components.insert(kind, group);
        }
    }
}

} // namespace

QJsonObject buildOpenApiDocument(const QList<Data::Collection> &collections, const QString &serverUrl,
                                 const QString &version)
{
    QJsonObject schemas, paths;
    addProblemSchemas(schemas);
    addAdminSchemas(schemas);
    addAdminPaths(paths);
    addAuthSchemas(schemas);
    addAuthPaths(paths);
    addKeySchemas(schemas);
    addKeyPaths(paths);
    addLogSchemas(schemas);
    addLogPaths(paths);
    addMetricsSchemas(schemas);
    addMetricsPaths(paths);
    addSettingsSchemas(schemas);
    addSettingsPaths(paths);
    addSuperuserSchemas(schemas);
    addSuperuserPaths(paths);
    QJsonArray tags;
    QStringList tagNames;
    for (const auto &tag : kFixedTags) {
        tags.append(QJsonObject {{u"name"_s, tag[0]}, {u"description"_s, tag[1]}});
        tagNames.append(tag[0]);
    }
    addCollectionParts(collections, tagNames, schemas, paths, tags);
    QJsonObject document {{u"openapi"_s, u"3.1.0"_s},
                          {u"info"_s, info(version)},
                          {u"servers"_s, servers(serverUrl)},
                          {u"tags"_s, tags},
                          {u"paths"_s, paths},
                          {u"security"_s, QJsonArray {QJsonObject {{u"bearerAuth"_s, QJsonArray()}}}},
                          {u"components"_s, components(schemas)}};
    pruneUnusedComponents(document);
    return document;
}

} // namespace Outpost::Http
