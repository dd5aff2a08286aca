#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include "../data/collection.h"

namespace Outpost::Http {

// An OpenAPI 3.1 document describing the whole HTTP API (served as GET /api/openapi.json) for the
// given live collections:
//  - the fixed routes (health, superuser auth, the collections API, batch, API keys, this document)
//    and, for each collection, concrete paths under /api/collections/<name>/ (records list/create,
//    records/{id} view/update/delete, export, import) tagged with the collection's name;
//  - components: a Problem schema (RFC 9457, as Response::problem() writes it) and a response per
//    error status; the collection object with one schema per FieldType behind a `type`
//    discriminator; the API key (Auth::ApiKey::toJson()) and its scopes; per collection <Name>Record,
//    <Name>RecordList, <Name>CreateBody and <Name>UpdateBody, where <Name> is the collection name in
//    PascalCase (made unique);
//  - the `bearerAuth` scheme (a superuser's token) and the `apiKey` scheme (X-API-Key, its
//    description lists the scopes). Superuser-only operations require one of them (and say so in
//    `x-outpost-access`); an operation that takes API keys lists `apiKey` and names the scope it
//    needs in `x-outpost-scope`, as its route's Policy does (tests/integration/tst_openapiroutes
//    checks the document against Router::routes()). Record operations, export (listRule) and
//    import (createRule) follow the collection's rules: null means superusers and API keys only
//    (403), otherwise the credentials are optional; the rule is quoted in the description and in
//    `x-outpost-rule`.
// Every operation has a unique operationId, a summary, one tag and at least one 4xx response; the
// document holds no unused component, so that `redocly lint` and `spectral lint` (spectral:oas)
// pass with no error (tests/openapi/lint.sh). It describes what the controllers do (records,
// collections, transfer, auth, health, keys): change it with them. The parts are in openapiparts.h.
//
// `serverUrl` becomes the single entry of `servers` (a trailing "/" is dropped; empty means "/");
// `version` is info.version. `collections` must be valid definitions (as Data::Collections
// returns them); relation fields whose target is not among them are described as plain ids.
// A pure function of its arguments: thread-safe, no I/O. Measured (RelWithDebInfo, this project's
// 2-core machine): ~6 ms plus ~1 ms per collection of a dozen fields (50 collections: ~50 ms and
// 650 KB of JSON). Build it off the network threads and cache it per schema change.
QJsonObject buildOpenApiDocument(const QList<Data::Collection> &collections, const QString &serverUrl,
                                 const QString &version);

} // namespace Outpost::Http
