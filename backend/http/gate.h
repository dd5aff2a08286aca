#pragma once

#include "router.h"

namespace Outpost::Auth {
class ApiKeys;
class AppUsers;
class ClientTokens;
class Superusers;
} // namespace Outpost::Auth

namespace Outpost::Data {
class Collections;
}

namespace Outpost::Http {

// The one place that decides who a request comes from and whether its route lets it in (see
// Policy), before any handler runs.
//
// Credentials, in this order:
//   X-API-Key: opk_...  or  Authorization: Bearer opk_... (or the bare key)   an API key
//   Authorization: Bearer <jwt> (or the bare token), by the token's claims:
//     a client-credentials token (Auth::ClientTokens)                         that API key
//     a token of the _superusers collection                                   a superuser
//     a token of an auth collection                                           an app user
// A key, or a key's token, that does not check out is refused at once with 401 (malformed,
// unknown, expired, revoked) or 403 (used from an address its CIDRs exclude), whatever the route:
// a client that presents a credential learns it is bad. A user or superuser token that does not
// verify (bad signature, expired, its session ended) makes a guest, as in PocketBase.
//
// App users pass routes with a rules() policy (the collection's rules decide) and are refused
// (403) on every needs() route.
//
// Threads: admit() runs on network threads; it reads two or three rows for a user or superuser
// token (the thread's reader) and nothing for a key (ApiKeys' cache).
class Gate
{
public:
    Gate(const Auth::Superusers &superusers, Auth::ApiKeys &keys, const Auth::AppUsers &users,
         const Auth::ClientTokens &clientTokens, const Data::Collections &collections);

    std::optional<Response> admit(Request &request, const Policy &policy) const;
    // Makes `router` call admit() before every handler. The gate must outlive the router's use.
    void install(Router &router) const;

private:
    std::optional<Response> identify(Request &request) const;
    void identifyToken(Request &request, QByteArrayView authorization) const;

    const Auth::Superusers &m_superusers;
    Auth::ApiKeys &m_keys;
    const Auth::AppUsers &m_users;
    const Auth::ClientTokens &m_clientTokens;
    const Data::Collections &m_collections;
};

} // namespace Outpost::Http
