#pragma once

#include <QJsonObject>

#include "../core/clock.h"
#include "../core/result.h"
#include "../data/records.h"
#include "router.h"

namespace Outpost::Auth {
class Superusers;
}

namespace Outpost::Http {

// What every data route needs to know about a request before it does anything: who the caller
// is (request.caller, which the gate set) in the terms rules use.
//
// A superuser passes every rule and sees hidden fields. So does an API key, but only on the
// collections its scopes grant (openCollectionRoute() and the batch route check that first); a
// guest is held to the rules. An invalid or expired token makes a guest, as in PocketBase, so that
// public data stays readable with a stale token.
struct RequestContext
{
    Data::Access access;
    bool sentToken = false; // an Authorization header was present
};

// The caller's identity and the @request.* values rules may read. With `schema`, the headers and
// query objects are only built when one of its rules mentions them.
RequestContext contextFor(const Request &request, const Clock &clock, const Data::CollectionSet *schema = nullptr);

// Reads the body as a JSON object into `out`: an empty body is {}. Returns the error response
// (400 for malformed JSON or a non-object, 415 for a Content-Type other than JSON) or nullopt.
std::optional<Response> parseJsonBody(const Request &request, QJsonObject &out);

// Adds a strong ETag (a 64-bit hash of the body) to a 200 response; when the request's
// If-None-Match names it (or is "*"), the answer becomes 304 without a body.
Response withETag(Response response, const Request &request);

// 404 "Missing collection context.": the answer when a route's collection does not exist.
Response missingCollection();

// What every route under /api/collections/{c}/ starts with.
struct CollectionRoute
{
    Data::CollectionSnapshot snapshot; // keeps `collection` alive
    const Data::Collection *collection = nullptr;
    RequestContext context;
};
using RuleOf = std::optional<QString> Data::Collection::*;

// The collection the route names (its first path parameter, {c}) in the current schema snapshot,
// the caller's context and, with `rule`, that rule's first check (a null rule admits superusers
// only). When any of it fails the error is answered here and the result is empty.
// `permission` is what an API key must hold for this collection (records:read or records:write).
std::optional<CollectionRoute> openCollectionRoute(const Data::Collections &collections, const Clock &clock,
                                                   const Request &request, const Responder &responder,
                                                   Auth::Permission permission, RuleOf rule = nullptr);

// 403 unless an API key caller's scopes grant `permission` on `collection` (other callers pass).
std::optional<Response> checkKeyScope(const Request &request, Auth::Permission permission, const QString &collection);

// The query's fields/expand parameters.
Data::Shape shapeOf(const Request &request);

} // namespace Outpost::Http
