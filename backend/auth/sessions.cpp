#include "sessions.h"

#include <QCryptographicHash>

#include "../core/ids.h"

namespace Outpost::Auth {

namespace {

constexpr QByteArrayView kPrefix = "opr_";
constexpr qsizetype kTokenLength = 4 + 43; // prefix + 32 bytes in unpadded base64url
constexpr qint64 kPurgeAfterMs = 24LL * 3600 * 1000;

QString tokenHash(QByteArrayView token)
{
    return QString::fromLatin1(QCryptographicHash::hash(token, QCryptographicHash::Sha256).toHex());
}

QByteArray newRefreshToken()
{
    return kPrefix.toByteArray()
        + Ids::randomBytes(32).toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

Status storeToken(Store::Database &db, const QString &sessionId, const QByteArray &token, qint64 now)
{
    Store::Statement *insert
        = db.cached("INSERT INTO _refresh_tokens(hash, session_id, issued, spent) VALUES (?, ?, ?, NULL)");
    if (!insert)
        return db.lastError(QStringLiteral("prepare"));
    Store::ResetOnExit reset(*insert);
    return insert->bind(1, tokenHash(token)).bind(2, sessionId).bind(3, now).run();
}

struct TokenRow
{
    Session session;
    bool revoked = false; // the session
    bool spent = false; // the token
};

// The refresh token's row and its session's; empty when the token is unknown.
Result<std::optional<TokenRow>> lookup(Store::Database &db, QByteArrayView refreshToken)
{
    Store::Statement *select
        = db.cached("SELECT s.id, s.collection_id, s.record_id, s.expires, s.revoked, t.spent FROM _refresh_tokens t "
                    "JOIN _sessions s ON s.id = t.session_id WHERE t.hash = ?");
    if (!select)
        return db.lastError(QStringLiteral("prepare"));
    Store::ResetOnExit reset(*select);
    select->bind(1, tokenHash(refreshToken));
    auto row = select->step();
    if (!row)
        return row.error();
    if (!*row)
        return std::optional<TokenRow>();
    return std::optional<TokenRow>(TokenRow {
        {select->text(0), select->text(1), select->text(2), select->int64(3)}, !select->isNull(4), !select->isNull(5)});
}

} // namespace

QJsonObject accessClaims(const QString &collectionId, const QString &recordId, const QString &sessionId)
{
    return QJsonObject {{QStringLiteral("id"), recordId},
                        {QStringLiteral("type"), QStringLiteral("auth")},
                        {QStringLiteral("collectionId"), collectionId},
                        {QStringLiteral("sid"), sessionId},
                        {QStringLiteral("refreshable"), true}};
}

QByteArrayView bearerToken(QByteArrayView authorization)
{
    QByteArrayView token = authorization.trimmed();
    if (token.size() > 7 && token.first(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
        token = token.sliced(7).trimmed();
    return token;
}

Sessions::Sessions(const Clock &clock)
    : m_clock(clock)
{
}

bool Sessions::looksLikeRefreshToken(QByteArrayView text)
{
    return text.size() == kTokenLength && text.startsWith(kPrefix);
}

Result<Sessions::Issued> Sessions::start(Store::Database &db, const QString &collectionId, const QString &recordId,
                                         const QString &address) const
{
    const qint64 now = m_clock.nowMs();
    Issued issued {{Ids::randomId(20), collectionId, recordId, now + kSessionTtlMs}, newRefreshToken()};
    Store::Statement *insert = db.cached("INSERT INTO _sessions(id, collection_id, record_id, created, expires, "
                                         "last_refreshed, address) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!insert)
        return db.lastError(QStringLiteral("prepare"));
    {
        Store::ResetOnExit reset(*insert);
        if (auto s = insert->bind(1, issued.session.id)
                         .bind(2, collectionId)
                         .bind(3, recordId)
                         .bind(4, now)
                         .bind(5, issued.session.expires)
                         .bind(6, now)
                         .bind(7, address.left(64))
                         .run();
            !s)
            return s.error();
    }
    if (auto s = storeToken(db, issued.session.id, issued.refreshToken, now); !s)
        return s.error();
    return issued;
}

Result<Session> Sessions::sessionOfRefreshToken(Store::Database &db, QByteArrayView refreshToken) const
{
    auto found = lookup(db, refreshToken);
    if (!found)
        return found.error();
    if (!*found)
        return makeError(ErrorCode::NotFound, QStringLiteral("unknown refresh token"));
    return (*found)->session;
}

Result<Sessions::Refreshed> Sessions::refresh(Store::Database &db, QByteArrayView refreshToken) const
{
    Refreshed out;
    if (!looksLikeRefreshToken(refreshToken))
        return out;
    const qint64 now = m_clock.nowMs();
    auto found = lookup(db, refreshToken);
    if (!found)
        return found.error();
    if (!*found)
        return out;
    out.issued.session = (*found)->session;
    const bool revoked = (*found)->revoked, spent = (*found)->spent;
    if (spent) {
        // RFC 9700 §4.14.2: a spent token presented again was copied; end the whole family.
        out.outcome = Outcome::Reused;
        if (!revoked)
            if (auto s = revoke(db, out.issued.session.id, QStringLiteral("refresh_token_reuse")); !s)
                return s.error();
        return out;
    }
    if (revoked || out.issued.session.expires <= now)
        return out;
    Store::Statement *spend = db.cached("UPDATE _refresh_tokens SET spent = ? WHERE hash = ? AND spent IS NULL");
    if (!spend)
        return db.lastError(QStringLiteral("prepare"));
    {
        Store::ResetOnExit reset(*spend);
        if (auto s = spend->bind(1, now).bind(2, tokenHash(refreshToken)).run(); !s)
            return s.error();
    }
    Store::Statement *touch = db.cached("UPDATE _sessions SET last_refreshed = ? WHERE id = ?");
    if (!touch)
        return db.lastError(QStringLiteral("prepare"));
    {
        Store::ResetOnExit reset(*touch);
        if (auto s = touch->bind(1, now).bind(2, out.issued.session.id).run(); !s)
            return s.error();
    }
    out.issued.refreshToken = newRefreshToken();
    if (auto s = storeToken(db, out.issued.session.id, out.issued.refreshToken, now); !s)
        return s.error();
    out.outcome = Outcome::Rotated;
    return out;
}

Status Sessions::revoke(Store::Database &db, const QString &sessionId, const QString &reason) const
{
    Store::Statement *update
        = db.cached("UPDATE _sessions SET revoked = ?, revoke_reason = ? WHERE id = ? AND revoked IS NULL");
    if (!update)
        return db.lastError(QStringLiteral("prepare"));
    Store::ResetOnExit reset(*update);
    return update->bind(1, m_clock.nowMs()).bind(2, reason).bind(3, sessionId).run();
}

Result<int> Sessions::revokeAccount(Store::Database &db, const QString &collectionId, const QString &recordId,
                                    const QString &keep, const QString &reason) const
{
    auto update = db.prepare("UPDATE _sessions SET revoked = ?, revoke_reason = ? WHERE collection_id = ? "
                             "AND record_id = ? AND id != ? AND revoked IS NULL AND expires > ?");
    if (!update)
        return update.error();
    const qint64 now = m_clock.nowMs();
    update->bind(1, now).bind(2, reason).bind(3, collectionId).bind(4, recordId).bind(5, keep).bind(6, now);
    if (auto s = update->run(); !s)
        return s.error();
    return db.changes();
}

bool Sessions::isLive(Store::Database &db, const QString &sessionId, const QString &collectionId,
                      const QString &recordId) const
{
    Store::Statement *select = db.cached("SELECT 1 FROM _sessions WHERE id = ? AND collection_id = ? AND "
                                         "record_id = ? AND revoked IS NULL AND expires > ?");
    if (!select)
        return false;
    Store::ResetOnExit reset(*select);
    select->bind(1, sessionId).bind(2, collectionId).bind(3, recordId).bind(4, m_clock.nowMs());
    auto row = select->step();
    return row && *row;
}

Result<int> Sessions::purge(Store::Database &db) const
{
    const qint64 before = m_clock.nowMs() - kPurgeAfterMs;
    auto tokens = db.prepare("DELETE FROM _refresh_tokens WHERE session_id IN (SELECT id FROM _sessions WHERE "
                             "expires < ?1 OR revoked < ?1)");
    if (!tokens)
        return tokens.error();
    tokens->bind(1, before);
    if (auto s = tokens->run(); !s)
        return s.error();
    auto sessions = db.prepare("DELETE FROM _sessions WHERE expires < ?1 OR revoked < ?1");
    if (!sessions)
        return sessions.error();
    sessions->bind(1, before);
    if (auto s = sessions->run(); !s)
        return s.error();
    return db.changes();
}

} // namespace Outpost::Auth
