#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include "../core/clock.h"
#include "../core/result.h"

namespace Outpost::Data {
class Collections;
}
namespace Outpost::Store {
class Store;
struct AuditActor;
} // namespace Outpost::Store

namespace Outpost::Auth {

class AppUsers;
class Sessions;
class Superusers;

// The sessions of both kinds of accounts (superusers and app users) behind one front, for the
// login, refresh and logout routes: password login starts a session; an OAuth 2.0 refresh
// (Sessions::refresh) rotates its refresh token and issues a new access token; logout ends it.
// Every session that ends here, and every refresh-token reuse, is written to the audit log
// (action session.revoke, target the session id, details.reason).
//
// Threads: every method reads or writes data.db and passwordLogin() hashes: call them on a worker
// thread. Thread-safe.
class Accounts
{
public:
    Accounts(Superusers &superusers, AppUsers &users, const Sessions &sessions, Store::Store &store,
             const Data::Collections &collections, const Clock &clock);

    struct Grant
    {
        QByteArray accessToken;
        QByteArray refreshToken; // empty when not rotated (auth-refresh)
        QJsonObject record; // the account as its owner sees it
        QString actor; // "superuser:ID" or "user:COLLECTION:ID", for audit entries
        QString sessionId;
    };

    // `collection` is "_superusers" (or its id) or an auth collection. NotFound (404) for another
    // collection; InvalidArgument "Failed to authenticate." for a wrong identity or password.
    Result<Grant> passwordLogin(const QString &collection, const QString &identity, const QByteArray &password,
                                const QString &address);

    // InvalidArgument with details {"error": "invalid_grant", "reused": bool} when the token is
    // unknown, spent, expired or its session ended; a spent one has revoked its whole session.
    Result<Grant> refresh(QByteArrayView refreshToken, const QString &address);

    // Ends the session `sessionId`. Not an error when it already ended.
    Status logout(const QString &sessionId, const QString &reason, const Store::AuditActor &actor);
    // Ends the session of a refresh token (RFC 7009); unknown tokens are not an error.
    Status logoutByRefreshToken(QByteArrayView refreshToken, const Store::AuditActor &actor);

private:
    void audit(const Store::AuditActor &actor, const QString &sessionId, const QString &reason, bool success = true);

    Superusers &m_superusers;
    AppUsers &m_users;
    const Sessions &m_sessions;
    Store::Store &m_store;
    const Data::Collections &m_collections;
    const Clock &m_clock;
};

} // namespace Outpost::Auth
