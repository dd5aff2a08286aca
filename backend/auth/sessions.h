#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include "../core/clock.h"
#include "../core/result.h"
#include "../store/sqlite.h"

namespace Outpost::Auth {

// A login: what a password login (or an OAuth 2.0 refresh) starts and what logout ends. Every
// access token carries its session's id (`sid`) and is only accepted while the session is live,
// so ending a session ends its access tokens on the next request.
struct Session
{
    QString id;
    QString collectionId; // the account's collection (_superusers or an auth collection)
    QString recordId; // the account
    qint64 expires = 0; // Unix ms: a session lives at most kSessionTtlMs, however often refreshed
};

// Sessions and their refresh tokens in data.db (`_sessions`, `_refresh_tokens`), following the
// OAuth 2.0 Security BCP (RFC 9700 §4.14.2): refresh tokens are opaque ("opr_" + 43 base64url
// characters, 256 random bits), stored only as SHA-256, and rotated on every use: a refresh spends
// the presented token and issues a new one in the same session (the "family"). Presenting a spent
// token again means it was copied, so the whole session is revoked and every token of the family
// stops working.
//
// Threads: the Database& functions that change state run inside a data.db write job (Store::write
// or submitWrite) and never commit; isLive() runs on any connection, typically a network thread's
// reader. Stateless apart from the clock: thread-safe.
class Sessions
{
public:
    static constexpr qint64 kAccessTtlSeconds = 15 * 60; // access tokens (JWTs)
    static constexpr qint64 kSessionTtlMs = 30LL * 24 * 3600 * 1000; // absolute session lifetime

    explicit Sessions(const Clock &clock);

    struct Issued
    {
        Session session;
        QByteArray refreshToken; // the secret: shown to the client once, stored as a hash
    };
    Result<Issued> start(Store::Database &db, const QString &collectionId, const QString &recordId,
                         const QString &address) const;

    enum class Outcome { Rotated, Invalid, Reused };
    struct Refreshed
    {
        Outcome outcome = Outcome::Invalid;
        Issued issued; // Rotated: the session and its new refresh token; Reused: the revoked session
    };
    // Not an error for an unknown, spent, expired or revoked token: the outcome says which, so
    // that the revocation a reuse causes commits with the job.
    Result<Refreshed> refresh(Store::Database &db, QByteArrayView refreshToken) const;

    // The session a refresh token belongs to (spent or not); NotFound when none.
    Result<Session> sessionOfRefreshToken(Store::Database &db, QByteArrayView refreshToken) const;

    // Revoking twice is not an error; `reason` is kept for the audit trail ("logout", ...).
    Status revoke(Store::Database &db, const QString &sessionId, const QString &reason) const;
    // Every live session of the account but `keep` (may be empty); returns how many ended.
    Result<int> revokeAccount(Store::Database &db, const QString &collectionId, const QString &recordId,
                              const QString &keep, const QString &reason) const;

    // Whether `sessionId` is a live session of that account. A cached statement on `db`.
    bool isLive(Store::Database &db, const QString &sessionId, const QString &collectionId,
                const QString &recordId) const;

    // Deletes sessions that ended (expired or revoked) more than a day ago, with their tokens.
    Result<int> purge(Store::Database &db) const;

    static bool looksLikeRefreshToken(QByteArrayView text);

private:
    const Clock &m_clock;
};

// The claims of an access token for account `recordId` of collection `collectionId` in session
// `sessionId` (superusers' tokens have the same shape).
QJsonObject accessClaims(const QString &collectionId, const QString &recordId, const QString &sessionId);

// "Bearer <token>" or the bare token, trimmed.
QByteArrayView bearerToken(QByteArrayView authorization);

} // namespace Outpost::Auth
