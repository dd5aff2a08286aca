#include "superusers.h"

#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTimeZone>

#include "../core/ids.h"

Q_LOGGING_CATEGORY(lcAuth, "outpost.auth")

namespace Outpost::Auth {

namespace {

constexpr int kMinPasswordLength = 8; // PocketBase's minimum for auth records
constexpr int kMaxPasswordBytes = 1024; // bounds the hashing work an attacker can ask for

Superuser readRow(const Store::Statement &s)
{
    return Superuser {
        s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), parseRole(s.text(6)).value_or(Role::Viewer)};
}

QJsonObject fieldProblem(const QString &code, const QString &message)
{
    return QJsonObject {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
}

Error fieldErrors(const QJsonObject &fields)
{
    return makeError(ErrorCode::InvalidArgument, QStringLiteral("Failed to create record."),
                     QJsonObject {{QStringLiteral("fields"), fields}});
}

bool isValidEmail(const QString &email)
{
    // Deliberately simple (WHATWG's "valid e-mail address" shape); the mailbox is proven by use.
    static const QRegularExpression pattern(
        QStringLiteral("^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\\z"));
    return email.size() <= 254 && pattern.match(email).hasMatch();
}

Error failedToAuthenticate()
{
    return makeError(ErrorCode::InvalidArgument, QStringLiteral("Failed to authenticate."));
}

} // namespace

QJsonObject Superuser::toRecord() const
{
    return QJsonObject {{QStringLiteral("collectionId"), QString::fromLatin1(Superusers::kCollectionId)},
                        {QStringLiteral("collectionName"), QString::fromLatin1(Superusers::kCollectionName)},
                        {QStringLiteral("id"), id},
                        {QStringLiteral("email"), email},
                        {QStringLiteral("emailVisibility"), false},
                        {QStringLiteral("verified"), true},
                        {QStringLiteral("role"), roleName(role)},
                        {QStringLiteral("created"), created},
                        {QStringLiteral("updated"), updated}};
}

Result<SigningKey> loadOrCreateSigningKey(Store::Store &store)
{
    SigningKey key;
    Status s = store.write([&key](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT key, value FROM _settings WHERE key IN ('jwt_secret', 'jwt_kid')");
        if (!select)
            return select.error();
        for (;;) {
            auto row = select->step();
            if (!row)
                return row.error();
            if (!*row)
                break;
            (select->text(0) == u"jwt_secret" ? key.secret : key.keyId) = select->blob(1);
        }
        if (!key.secret.isEmpty() && !key.keyId.isEmpty())
            return {};
        key.secret = Ids::randomBytes(32); // RFC 7518 §3.2: a key at least as long as the hash output
        key.keyId = Ids::randomId(12).toLatin1();
        auto insert = db.prepare("INSERT OR REPLACE INTO _settings(key, value) VALUES (?, ?)");
        if (!insert)
            return insert.error();
        if (auto r = insert->bind(1, QStringLiteral("jwt_secret")).bind(2, key.secret).run(); !r)
            return r;
        return insert->bind(1, QStringLiteral("jwt_kid")).bind(2, key.keyId).run();
    });
    if (!s)
        return s.error();
    return key;
}

Superusers::Superusers(Store::Store &store, const PasswordHasher &hasher, const Jwt &jwt, const Clock &clock,
                       qint64 tokenTtlSeconds)
    : m_store(store)
    , m_hasher(hasher)
    , m_jwt(jwt)
    , m_clock(clock)
    , m_tokenTtl(tokenTtlSeconds)
{
}

QString Superusers::timestamp(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) + u'Z';
}

Result<Superuser> Superusers::create(const QString &emailIn, const QByteArray &password, Role role)
{
    const QString email = emailIn.trimmed();
    QJsonObject fields; // every failing field at once, as PocketBase reports them
    if (!isValidEmail(email))
        fields.insert(
            QStringLiteral("email"),
            fieldProblem(QStringLiteral("validation_is_email"), QStringLiteral("Must be a valid email address.")));
    // Characters are code points (PocketBase counts runes), not UTF-16 units.
    if (QString::fromUtf8(password).toUcs4().size() < kMinPasswordLength)
        fields.insert(QStringLiteral("password"),
                      fieldProblem(QStringLiteral("validation_min_text_constraint"),
                                   QStringLiteral("Must be at least %1 characters.").arg(kMinPasswordLength)));
    else if (password.size() > kMaxPasswordBytes)
        fields.insert(QStringLiteral("password"),
                      fieldProblem(QStringLiteral("validation_max_text_constraint"),
                                   QStringLiteral("Must be at most %1 bytes.").arg(kMaxPasswordBytes)));
    if (!fields.isEmpty())
        return fieldErrors(fields);
    auto hash = m_hasher.hash(password);
    if (!hash)
        return hash.error();
    const QString now = timestamp(m_clock.nowMs());
    Superuser user {Ids::randomId(), email, *hash, Ids::randomId(50), now, now, role};
    Status s = m_store.write([&user](Store::Database &db) -> Status {
        auto insert = db.prepare("INSERT INTO _superusers(id, email, password_hash, token_key, created, updated, role) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)");
        if (!insert)
            return insert.error();
        return insert->bind(1, user.id)
            .bind(2, user.email)
            .bind(3, user.passwordHash)
            .bind(4, user.tokenKey)
            .bind(5, user.created)
            .bind(6, user.updated)
            .bind(7, roleName(user.role))
            .run();
    });
    if (!s) {
        if (s.error().code == ErrorCode::Conflict)
            return fieldErrors(QJsonObject {{QStringLiteral("email"),
                                             fieldProblem(QStringLiteral("validation_not_unique"),
                                                          QStringLiteral("The email is already in use."))}});
        return s.error();
    }
    audit(user.email, QStringLiteral("superuser.create"), QStringLiteral("local"), true);
    return user;
}

Result<Superuser> Superusers::findByEmail(Store::Database &db, const QString &email) const
{
    auto select = db.prepare("SELECT id, email, password_hash, token_key, created, updated, role FROM _superusers "
                             "WHERE email = ?");
    if (!select)
        return select.error();
    select->bind(1, email);
    auto row = select->step();
    if (!row)
        return row.error();
    if (!*row)
        return makeError(ErrorCode::NotFound, QStringLiteral("no such superuser"));
    return readRow(*select);
}

Result<Superuser> Superusers::login(const QString &identity, const QByteArray &password, const QString &address)
{
    std::optional<Superuser> found;
    Status s = m_store.read([&](Store::Database &db) -> Status {
        auto user = findByEmail(db, identity.trimmed());
        if (user)
            found = std::move(user).value();
        else if (user.error().code != ErrorCode::NotFound)
            return user.error();
        return {};
    });
    if (!s)
        return s.error();
    // OWASP Authentication Cheat Sheet: the same work and the same answer whether or not the
    // account exists, so that timing and messages do not enumerate accounts.
    const bool ok = password.size() <= kMaxPasswordBytes
        && m_hasher.verify(found ? found->passwordHash : m_hasher.decoyHash(), password) && found.has_value();
    audit(identity.trimmed().left(254), QStringLiteral("auth.login"), address, ok);
    if (!ok)
        return failedToAuthenticate();
    return *found;
}

Result<Superuser> Superusers::fromToken(Store::Database &reader, QByteArrayView authorization) const
{
    QByteArrayView token = authorization.trimmed();
    if (token.size() > 7 && token.first(7).compare("Bearer ", Qt::CaseInsensitive) == 0)
        token = token.sliced(7).trimmed();
    if (token.isEmpty())
        return makeError(ErrorCode::Unauthenticated,
                         QStringLiteral("The request requires valid superuser authorization."));
    std::optional<Superuser> user;
    auto claims = m_jwt.verify(token, [&](const QJsonObject &c) -> Result<QByteArray> {
        if (c.value(QStringLiteral("type")).toString() != u"auth"
            || c.value(QStringLiteral("collectionId")).toString() != QLatin1String(kCollectionId))
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("wrong token type"));
        Store::Statement *select = reader.cached("SELECT id, email, password_hash, token_key, created, updated, "
                                                 "role FROM _superusers WHERE id = ?");
        if (!select)
            return reader.lastError(QStringLiteral("prepare"));
        select->bind(1, c.value(QStringLiteral("id")).toString());
        auto row = select->step();
        if (row && *row)
            user = readRow(*select);
        select->reset();
        if (!user)
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("unknown account"));
        return user->tokenKey.toUtf8();
    });
    if (!claims)
        return claims.error();
    return *user;
}

QByteArray Superusers::issueToken(const Superuser &user) const
{
    const QJsonObject claims {{QStringLiteral("id"), user.id},
                              {QStringLiteral("type"), QStringLiteral("auth")},
                              {QStringLiteral("collectionId"), QString::fromLatin1(kCollectionId)},
                              {QStringLiteral("refreshable"), true}};
    return m_jwt.sign(claims, m_tokenTtl, user.tokenKey.toUtf8());
}

Result<qint64> Superusers::count()
{
    qint64 n = 0;
    Status s = m_store.read([&n](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT count(*) FROM _superusers");
        if (!select)
            return select.error();
        auto row = select->step();
        if (!row)
            return row.error();
        n = select->int64(0);
        return {};
    });
    if (!s)
        return s.error();
    return n;
}

void Superusers::audit(const QString &actor, const QString &action, const QString &address, bool success)
{
    const QString time = timestamp(m_clock.nowMs());
    Status s = m_store.writeLog([&](Store::Database &db) -> Status {
        auto insert = db.prepare("INSERT INTO audit_log(time, actor, action, target, address, success) "
                                 "VALUES (?, ?, ?, '_superusers', ?, ?)");
        if (!insert)
            return insert.error();
        return insert->bind(1, time).bind(2, actor).bind(3, action).bind(4, address).bind(5, int(success)).run();
    });
    if (!s)
        qCWarning(lcAuth) << "audit log write failed:" << s.error().message;
}

} // namespace Outpost::Auth
