#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>

#include "router.h"

class QThreadPool;

namespace Outpost {
class Clock;
}
namespace Outpost::Auth {
class Superusers;
}
namespace Outpost::Store {
class Store;
}

namespace Outpost::Http {

// The superuser accounts, as PocketBase's record API for its `_superusers` collection (permission
// accounts:manage: owners and admins, or API keys with that scope):
//   GET    /api/collections/_superusers/records         a page of accounts: page, perPage (default 30,
//                                                      at most 500), sort and filter over id, email,
//                                                      role, created and updated, skipTotal
//   GET    /api/collections/_superusers/records/{id}    one account
//   POST   /api/collections/_superusers/records         {email, password, passwordConfirm, role}
//   PATCH  /api/collections/_superusers/records/{id}    {email?, role?, password and passwordConfirm?}
//   DELETE /api/collections/_superusers/records/{id}    204
// An account is Auth::Superuser::toRecord(). Who may touch owners, and that the last owner stays,
// are Auth::Superusers' rules; a superuser acts with its role, an API key as an admin. The routes
// shadow the generic records routes for this collection: register them first. The work (password
// hashing, reads, writes) runs on `pool`; the audit entries carry clientAddress() with
// `trustedProxies`. Every reference must outlive the controller and the pool's jobs.
class SuperusersController
{
public:
    SuperusersController(Auth::Superusers &superusers, Store::Store &store, const Clock &clock,
                         QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *pool);
    void registerRoutes(Router &router) const;

private:
    void list(const Request &request, const Responder &responder) const;
    void view(const Request &request, const Responder &responder) const;
    void create(const Request &request, const Responder &responder) const;
    void update(const Request &request, const Responder &responder) const;
    void remove(const Request &request, const Responder &responder) const;

    Auth::Superusers &m_superusers;
    Store::Store &m_store;
    const Clock &m_clock;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    QThreadPool *m_pool;
};

} // namespace Outpost::Http
