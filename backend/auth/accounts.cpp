#include "accounts.h"

#include "../data/collections.h"
#include "../store/auditlog.h"
#include "../store/store.h"
#include "appusers.h"
#include "sessions.h"
#include "superusers.h"

namespace Outpost::Auth {

namespace {

bool isSuperuserCollection(const QString &idOrName)
{
    return idOrName == QLatin1String(Superusers::kCollectionName)
        || idOrName == QLatin1String(Superusers::kCollectionId);
}

Error invalidGrant(const QString &why, bool reused)
{
    return makeError(
        ErrorCode::InvalidArgument, why,
        QJsonObject {{QStringLiteral("error"), QStringLiteral("invalid_grant")}, {QStringLiteral("reused"), reused}});
}

Error missingCollection()
{
    return makeError(ErrorCode::NotFound, QStringLiteral("Missing or invalid auth collection context."));
}

// As Http::Caller::label() names the account (its collection by name when it still exists).
QString accountLabel(const Session &session, const Data::CollectionSet &set)
{
    if (isSuperuserCollection(session.collectionId))
        return QStringLiteral("superuser:") + session.recordId;
    const Data::Collection *c = set.find(session.collectionId);
    return QStringLiteral("user:%1:%2").arg(c ? c->name : session.collectionId, session.recordId);
}

} // namespace

Accounts::Accounts(Superusers &superusers, AppUsers &users, const Sessions &sessions, Store::Store &store,
                   const Data::Collections &collections, const Clock &clock)
    : m_superusers(superusers)
    , m_users(users)
    , m_sessions(sessions)
    , m_store(store)
    , m_collections(collections)
    , m_clock(clock)
{
}

Result<Accounts::Grant> Accounts::passwordLogin(const QString &collection, const QString &identity,
                                                const QByteArray &password, const QString &address)
{
    Grant grant;
    if (isSuperuserCollection(collection)) {
        auto user = m_superusers.login(identity, password, address);
        if (!user)
            return user.error();
        auto refresh = m_superusers.startSession(*user, address);
        if (!refresh)
            return refresh.error();
        return Grant {m_superusers.issueToken(*user), *refresh, user->toRecord(),
                      QStringLiteral("superuser:") + user->id, user->sessionId};
    }
    auto set = m_collections.snapshot();
    if (!set)
        return set.error();
    const Data::Collection *c = (*set)->find(collection);
    if (!c || c->type != u"auth")
        return missingCollection();
    QByteArray refreshToken;
    auto user = m_users.login(**set, *c, identity, password, address, &refreshToken);
    if (!user)
        return user.error();
    return Grant {m_users.issueToken(*user), refreshToken, user->record,
                  QStringLiteral("user:%1:%2").arg(c->name, user->id), user->sessionId};
}

void Accounts::audit(const Store::AuditActor &actor, const QString &sessionId, const QString &reason, bool success)
{
    m_store.auditLog().append(Store::AuditEntry {m_clock.nowMs(), actor.label, QStringLiteral("session.revoke"),
                                                 sessionId, actor.address, success,
                                                 QJsonObject {{QStringLiteral("reason"), reason}}});
}

Result<Accounts::Grant> Accounts::refresh(QByteArrayView refreshToken, const QString &address)
{
    auto set = m_collections.snapshot();
    if (!set)
        return set.error();
    Sessions::Refreshed refreshed;
    std::optional<AppUser> user;
    Status s = m_store.write([&](Store::Database &db) -> Status {
        auto r = m_sessions.refresh(db, refreshToken);
        if (!r)
            return r.error();
        refreshed = *r;
        const Session &session = refreshed.issued.session;
        if (refreshed.outcome != Sessions::Outcome::Rotated || isSuperuserCollection(session.collectionId))
            return {};
        const Data::Collection *c = (*set)->find(session.collectionId);
        auto loaded = c ? m_users.load(db, **set, *c, session.recordId) : Result<AppUser>(missingCollection());
        if (!loaded) // the account or its collection is gone: the session cannot go on
            return m_sessions.revoke(db, session.id, QStringLiteral("account_removed"));
        user = *loaded;
        return {};
    });
    if (!s)
        return s.error();
    switch (refreshed.outcome) {
    case Sessions::Outcome::Invalid:
        return invalidGrant(QStringLiteral("The refresh token is invalid, expired or revoked."), false);
    case Sessions::Outcome::Reused:
        // The one who presented it is not known; the session it belonged to is.
        audit({accountLabel(refreshed.issued.session, **set), address}, refreshed.issued.session.id,
              QStringLiteral("refresh_token_reuse"));
        return invalidGrant(QStringLiteral("The refresh token was already used; its session has been revoked."), true);
    case Sessions::Outcome::Rotated:
        break;
    }
    const Session &session = refreshed.issued.session;
    if (isSuperuserCollection(session.collectionId)) {
        auto account = m_superusers.find(session.recordId);
        if (!account)
            return invalidGrant(QStringLiteral("The account no longer exists."), false);
        account->sessionId = session.id;
        return Grant {m_superusers.issueToken(*account), refreshed.issued.refreshToken, account->toRecord(),
                      QStringLiteral("superuser:") + account->id, session.id};
    }
    if (!user)
        return invalidGrant(QStringLiteral("The account no longer exists."), false);
    user->sessionId = session.id;
    return Grant {m_users.issueToken(*user), refreshed.issued.refreshToken, user->record,
                  QStringLiteral("user:%1:%2").arg(user->collectionName, user->id), session.id};
}

Status Accounts::logout(const QString &sessionId, const QString &reason, const Store::AuditActor &actor)
{
    Status s = m_store.write([&](Store::Database &db) { return m_sessions.revoke(db, sessionId, reason); });
    if (s)
        audit(actor, sessionId, reason);
    return s;
}

Status Accounts::logoutByRefreshToken(QByteArrayView refreshToken, const Store::AuditActor &actor)
{
    QString ended;
    Status s = m_store.write([&](Store::Database &db) -> Status {
        auto session = m_sessions.sessionOfRefreshToken(db, refreshToken);
        if (!session)
            return session.error().code == ErrorCode::NotFound ? Status() : Status(session.error());
        ended = session->id;
        return m_sessions.revoke(db, session->id, QStringLiteral("revoked"));
    });
    if (s && !ended.isEmpty())
        audit(actor, ended, QStringLiteral("revoked"));
    return s;
}

} // namespace Outpost::Auth
