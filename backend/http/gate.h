#pragma once

#include "router.h"

namespace Outpost::Auth {
class ApiKeys;
class Superusers;
} // namespace Outpost::Auth

namespace Outpost::Http {

// The one place that decides who a request comes from and whether its route lets it in (see
// Policy), before any handler runs.
//
// Credentials, in this order:
//   X-API-Key: opk_...  or  Authorization: Bearer opk_... (or the bare key)   an API key
//   Authorization: Bearer <jwt> (or the bare token)                           a superuser
// A key that does not check out is refused at once with 401 (malformed, unknown, expired, revoked)
// or 403 (used from an address its CIDRs exclude), whatever the route: a client that presents a
// credential learns it is bad. A token that does not verify makes a guest, as in PocketBase.
//
// Threads: admit() runs on network threads; it reads one row for a token (the thread's reader)
// and nothing for a key (ApiKeys' cache).
class Gate
{
public:
    Gate(const Auth::Superusers &superusers, Auth::ApiKeys &keys);

    std::optional<Response> admit(Request &request, const Policy &policy) const;
    // Makes `router` call admit() before every handler. The gate must outlive the router's use.
    void install(Router &router) const;

private:
    std::optional<Response> identify(Request &request) const;

    const Auth::Superusers &m_superusers;
    Auth::ApiKeys &m_keys;
};

} // namespace Outpost::Http
