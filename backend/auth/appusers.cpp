#include "appusers.h"

#include "../store/auditlog.h"
#include "passwordpolicy.h"

namespace Outpost::Auth {

namespace {

QJsonObject problem(const QString &code, const QString &message)
{
    return QJsonObject {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
}

Error failedToAuthenticate()
{
    return makeError(ErrorCode::InvalidArgument, QStringLiteral("Failed to authenticate."));
}

QString quoted(const QString &identifier) // collection names are validated identifiers
{
    return u'"' + identifier + u'"';
}

struct Credentials
{
    QString id;
    QString passwordHash;
    QString tokenKey;
};

// The login columns of the account whose `column` equals `value` (emails compare
// case-insensitively, as their unique index does); NotFound when none.
Result<Credentials> credentials(Store::Database &db, const Data::Collection &c, const QString &column,
                                const QString &value)
{
    auto select = db.cachedQuery(
        QStringLiteral("SELECT \"id\", \"password\", \"tokenKey\" FROM %1 WHERE %2 = ?%3")
            .arg(quoted(c.name), quoted(column), column == u"email" ? QStringLiteral(" COLLATE NOCASE") : QString()));
    if (!select)
        return select.error();
    Store::ResetOnExit reset(**select);
    (*select)->bind(1, value);
    auto row = (*select)->step();
    if (!row)
        return row.error();
    if (!*row)
        return makeError(ErrorCode::NotFound, QStringLiteral("no such account"));
    return Credentials {(*select)->text(0), (*select)->text(1), (*select)->text(2)};
}

Data::Access everything()
{
    Data::Access access;
    access.superuser = true;
    return access;
}

} // namespace

AppUsers::AppUsers(Store::Store &store, const Data::Records &records, const PasswordHasher &hasher, const Jwt &jwt,
                   const Sessions &sessions, const Clock &clock)
    : m_store(store)
    , m_records(records)
    , m_hasher(hasher)
    , m_jwt(jwt)
    , m_sessions(sessions)
    , m_clock(clock)
{
}

Result<AppUser> AppUsers::load(Store::Database &db, const Data::CollectionSet &set, const Data::Collection &c,
                               const QString &recordId) const
{
    auto found = credentials(db, c, QStringLiteral("id"), recordId);
    if (!found)
        return found.error();
    auto record = m_records.view(db, set, c, recordId, {}, everything());
    if (!record)
        return record.error();
    return AppUser {c.id, c.name, recordId, found->tokenKey, {}, *record};
}

Result<AppUser> AppUsers::login(const Data::CollectionSet &set, const Data::Collection &c, const QString &identity,
                                const QByteArray &password, const QString &address, QByteArray *refreshToken)
{
    std::optional<Credentials> found;
    Status s = m_store.read([&](Store::Database &db) -> Status {
        auto account = credentials(db, c, QStringLiteral("email"), identity.trimmed());
        if (account)
            found = *account;
        else if (account.error().code != ErrorCode::NotFound)
            return account.error();
        return {};
    });
    if (!s)
        return s.error();
    // OWASP Authentication Cheat Sheet: the same work and answer whether or not the account exists.
    const bool ok = password.size() <= kMaxPasswordBytes
        && m_hasher.verify(found ? found->passwordHash : m_hasher.decoyHash(), password) && found.has_value();
    m_store.auditLog().append(Store::AuditEntry {
        m_clock.nowMs(), identity.trimmed().left(254), QStringLiteral("auth.login"), c.name, address, ok, {}});
    if (!ok)
        return failedToAuthenticate();
    AppUser user;
    s = m_store.write([&](Store::Database &db) -> Status {
        auto loaded = load(db, set, c, found->id);
        if (!loaded)
            return loaded.error();
        user = *loaded;
        auto issued = m_sessions.start(db, c.id, user.id, address);
        if (!issued)
            return issued.error();
        user.sessionId = issued->session.id;
        if (refreshToken)
            *refreshToken = issued->refreshToken;
        return {};
    });
    if (!s)
        return s.error();
    return user;
}

Result<AppUser> AppUsers::fromToken(Store::Database &reader, const Data::CollectionSet &set,
                                    QByteArrayView authorization) const
{
    const QByteArrayView token = bearerToken(authorization);
    std::optional<AppUser> user;
    auto claims = m_jwt.verify(token, [&](const QJsonObject &claims) -> Result<QByteArray> {
        const Data::Collection *c = set.find(claims.value(u"collectionId").toString());
        if (!c || c->type != u"auth" || claims.value(u"type").toString() != u"auth")
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("wrong token type"));
        const QString id = claims.value(u"id").toString();
        const QString sid = claims.value(u"sid").toString();
        if (id.isEmpty() || sid.isEmpty() || !m_sessions.isLive(reader, sid, c->id, id))
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("session ended"));
        auto loaded = load(reader, set, *c, id);
        if (!loaded)
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("unknown account"));
        user = *loaded;
        user->sessionId = sid;
        return user->tokenKey.toUtf8();
    });
    if (!claims)
        return claims.error();
    return *user;
}

QByteArray AppUsers::issueToken(const AppUser &user) const
{
    return m_jwt.sign(accessClaims(user.collectionId, user.id, user.sessionId), Sessions::kAccessTtlSeconds,
                      user.tokenKey.toUtf8());
}

Result<AppUsers::PreparedWrite> AppUsers::prepareWrite(const Data::Collection &c, QJsonObject body,
                                                       const Writer &writer, const QString &recordId) const
{
    const bool create = recordId.isEmpty();
    const Data::Field *passwordField = c.field(QStringLiteral("password"));
    QJsonObject problems;
    if (body.contains(u"tokenKey"))
        problems.insert(
            QStringLiteral("tokenKey"),
            problem(QStringLiteral("validation_forbidden"), QStringLiteral("The token key cannot be set.")));
    if (!writer.superuser && body.contains(u"verified") && (!create || body.value(u"verified").toBool()))
        problems.insert(
            QStringLiteral("verified"),
            problem(QStringLiteral("validation_forbidden"), QStringLiteral("Only superusers can change verified.")));
    const QJsonValue password = body.value(u"password");
    const bool changing = create || body.contains(u"password");
    QByteArray plain;
    if (changing) {
        if (!password.isString() || password.toString().isEmpty()) {
            problems.insert(QStringLiteral("password"),
                            problem(QStringLiteral("validation_required"), QStringLiteral("Cannot be blank.")));
        } else {
            plain = password.toString().toUtf8();
            if (auto bad = passwordProblem(plain, passwordField ? passwordField->minLength : kMinPasswordLength))
                problems.insert(QStringLiteral("password"), *bad);
            if (body.value(u"passwordConfirm").toString() != password.toString())
                problems.insert(
                    QStringLiteral("passwordConfirm"),
                    problem(QStringLiteral("validation_values_mismatch"), QStringLiteral("Values don't match.")));
        }
        if (!create && !writer.superuser && !body.value(u"oldPassword").isString())
            problems.insert(QStringLiteral("oldPassword"),
                            problem(QStringLiteral("validation_required"), QStringLiteral("Cannot be blank.")));
    }
    if (problems.isEmpty() && changing && !create && !writer.superuser) {
        std::optional<Credentials> current;
        Status s = m_store.read([&](Store::Database &db) -> Status {
            auto found = credentials(db, c, QStringLiteral("id"), recordId);
            if (found)
                current = *found;
            return found || found.error().code == ErrorCode::NotFound ? Status() : Status(found.error());
        });
        if (!s)
            return s.error();
        const QByteArray old = body.value(u"oldPassword").toString().toUtf8();
        if (current && (old.size() > kMaxPasswordBytes || !m_hasher.verify(current->passwordHash, old)))
            problems.insert(QStringLiteral("oldPassword"),
                            problem(QStringLiteral("validation_invalid_old_password"),
                                    QStringLiteral("Missing or invalid old password.")));
    }
    if (!problems.isEmpty())
        return makeError(ErrorCode::InvalidArgument,
                         create ? QStringLiteral("Failed to create record.")
                                : QStringLiteral("Failed to update record."),
                         QJsonObject {{QStringLiteral("fields"), problems}});
    body.remove(QStringLiteral("passwordConfirm"));
    body.remove(QStringLiteral("oldPassword"));
    if (!changing)
        return PreparedWrite {body, false};
    auto hash = m_hasher.hash(plain);
    if (!hash)
        return hash.error();
    body.insert(QStringLiteral("password"), *hash);
    return PreparedWrite {body, !create};
}

} // namespace Outpost::Auth
