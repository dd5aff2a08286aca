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

// What every data route needs to know about a request before it does anything.
//
// The caller: a valid superuser token (Authorization: Bearer <jwt>, or the bare token) makes a
// superuser; no token makes a guest. An invalid or expired token also makes a guest, as in
// PocketBase, so that public data stays readable with a stale token; routes that need an
// identity answer 401 then (see requireSuperuser()).
struct RequestContext
{
    Data::Access access;
    bool sentToken = false; // an Authorization header was present
};

RequestContext contextFor(const Request &request, const Auth::Superusers &superusers, const Clock &clock);

// 401 when no valid token was sent, 403 for a valid non-superuser identity; nullopt when allowed.
std::optional<Response> requireSuperuser(const RequestContext &context);

// Reads the body as a JSON object into `out`: an empty body is {}. Returns the error response
// (400 for malformed JSON or a non-object, 415 for a Content-Type other than JSON) or nullopt.
std::optional<Response> parseJsonBody(const Request &request, QJsonObject &out);

// Adds a strong ETag (a 64-bit hash of the body) to a 200 response; when the request's
// If-None-Match names it (or is "*"), the answer becomes 304 without a body.
Response withETag(Response response, const Request &request);

// The query's fields/expand parameters.
Data::Shape shapeOf(const Request &request);

} // namespace Outpost::Http
