#include "superusers.h"

#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTimeZone>

#include "../core/ids.h"
#include "passwordpolicy.h"

Q_LOGGING_CATEGORY(lcAuth, "outpost.auth")

namespace Outpost::Auth {

namespace {

Superuser readRow(const Store::Statement &s)
{
    return Superuser {
        s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), parseRole(s.text(6)).value_or(Role::Viewer),
        QString()};
}

// The account `sql` (one bound value) selects; NotFound when none.
Result<Superuser> selectOne(Store::Database &db, const char *sql, const QString &value)
{
    auto select = db.prepare(sql);
    if (!select)
        return select.error();
    select->bind(1, value);
    auto row = select->step();
    if (!row)
        return row.error();
    if (!*row)
        return makeError(ErrorCode::NotFound, QStringLiteral("The requested resource wasn't found."));
    return readRow(*select);
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

Error ownersOnly(const AccountActor &actor)
{
    return makeError(ErrorCode::PermissionDenied,
                     QStringLiteral("Only an owner may create, change or delete an owner or grant the owner role "
                                    "(this caller acts as %1).")
                         .arg(roleName(actor.role)));
}

// An audit entry's target for one account, as record changes name theirs: "_superusers/ID".
QString accountTarget(const Superuser &user)
{
    return QLatin1String(Superusers::kCollectionName) + u'/' + user.id;
}

// The account as an audit entry's `before` and `after` show it (never the hash or the token key).
QJsonObject auditView(const Superuser &user)
{
    return QJsonObject {{QStringLiteral("email"), user.email}, {QStringLiteral("role"), roleName(user.role)}};
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
                       const Sessions &sessions, qint64 tokenTtlSeconds)
    : m_store(store)
    , m_hasher(hasher)
    , m_jwt(jwt)
    , m_clock(clock)
    , m_sessions(sessions)
    , m_tokenTtl(tokenTtlSeconds)
{
}

QString Superusers::timestamp(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) + u'Z';
}

Result<Superuser> Superusers::create(const QString &emailIn, const QByteArray &password, Role role,
                                     const AccountActor &actor)
{
    const QString email = emailIn.trimmed();
    if (role == Role::Owner && actor.role != Role::Owner)
        return ownersOnly(actor);
    // Every failing field at once, as PocketBase reports them.
    if (const QJsonObject fields = inputProblems(email, password); !fields.isEmpty())
        return fieldErrors(fields);
    auto hash = m_hasher.hash(password);
    if (!hash)
        return hash.error();
    const QString now = timestamp(m_clock.nowMs());
    Superuser user {Ids::randomId(), email, *hash, Ids::randomId(50), now, now, role, QString()};
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
    audit(actor.label.isEmpty() ? user.email : actor.label, QStringLiteral("superuser.create"), actor.address, true,
          accountTarget(user), QJsonObject {{QStringLiteral("after"), auditView(user)}});
    return user;
}

Result<Superuser> Superusers::findByEmail(Store::Database &db, const QString &email) const
{
    return selectOne(db,
                     "SELECT id, email, password_hash, token_key, created, updated, role FROM _superusers "
                     "WHERE email = ?",
                     email);
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
    const QByteArrayView token = bearerToken(authorization);
    if (token.isEmpty())
        return makeError(ErrorCode::Unauthenticated,
                         QStringLiteral("The request requires valid superuser authorization."));
    std::optional<Superuser> user;
    auto claims = m_jwt.verify(token, [&](const QJsonObject &c) -> Result<QByteArray> {
        if (c.value(QStringLiteral("type")).toString() != u"auth"
            || c.value(QStringLiteral("collectionId")).toString() != QLatin1String(kCollectionId))
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("wrong token type"));
        const QString id = c.value(QStringLiteral("id")).toString();
        const QString sid = c.value(QStringLiteral("sid")).toString();
        if (sid.isEmpty() || !m_sessions.isLive(reader, sid, QLatin1String(kCollectionId), id))
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("session ended"));
        Store::Statement *select = reader.cached("SELECT id, email, password_hash, token_key, created, updated, "
                                                 "role FROM _superusers WHERE id = ?");
        if (!select)
            return reader.lastError(QStringLiteral("prepare"));
        Store::ResetOnExit reset(*select);
        select->bind(1, id);
        auto row = select->step();
        if (row && *row)
            user = readRow(*select);
        if (!user)
            return makeError(ErrorCode::Unauthenticated, QStringLiteral("unknown account"));
        user->sessionId = sid;
        return user->tokenKey.toUtf8();
    });
    if (!claims)
        return claims.error();
    return *user;
}

QByteArray Superusers::issueToken(const Superuser &user) const
{
    return m_jwt.sign(accessClaims(QString::fromLatin1(kCollectionId), user.id, user.sessionId), m_tokenTtl,
                      user.tokenKey.toUtf8());
}

Result<QByteArray> Superusers::startSession(Superuser &user, const QString &address)
{
    QByteArray refreshToken;
    Status s = m_store.write([&](Store::Database &db) -> Status {
        auto issued = m_sessions.start(db, QString::fromLatin1(kCollectionId), user.id, address);
        if (!issued)
            return issued.error();
        user.sessionId = issued->session.id;
        refreshToken = issued->refreshToken;
        return {};
    });
    if (!s)
        return s.error();
    return refreshToken;
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

void Superusers::audit(const QString &actor, const QString &action, const QString &address, bool success,
                       const QString &target, const QJsonObject &details)
{
    // Queued, never blocking: a login's answer does not wait for logs.db.
    m_store.auditLog().append({.timeMs = m_clock.nowMs(),
                               .actor = actor,
                               .action = action,
                               .target = target,
                               .address = address,
                               .success = success,
                               .details = details});
}

// ---- Account management -------------------------------------------------------------------------

namespace {

Error notFound()
{
    return makeError(ErrorCode::NotFound, QStringLiteral("The requested resource wasn't found."));
}

Result<Superuser> findById(Store::Database &db, const QString &id)
{
    return selectOne(db,
                     "SELECT id, email, password_hash, token_key, created, updated, role FROM _superusers "
                     "WHERE id = ?",
                     id);
}

// The rules a change to `target` must keep, checked inside the writer's transaction that makes the
// change, so that no other change can slip in between the count and the write.
Status checkOwnerRules(Store::Database &db, const Superuser &target, bool grantsOwner, bool removesOwner,
                       const AccountActor &actor)
{
    if ((target.role == Role::Owner || grantsOwner) && actor.role != Role::Owner)
        return ownersOnly(actor);
    if (!removesOwner)
        return {};
    auto count = db.prepare("SELECT count(*) FROM _superusers WHERE role = 'owner'");
    if (!count)
        return count.error();
    if (auto row = count->step(); !row)
        return row.error();
    if (count->int64(0) > 1)
        return {};
    return makeError(ErrorCode::Conflict,
                     QStringLiteral("%1 is the last owner: make another superuser an owner first.").arg(target.email));
}

bool changed(const Superuser &before, const Superuser &after)
{
    return after.email != before.email || after.role != before.role || after.passwordHash != before.passwordHash;
}

Error emailTaken(const QString &message)
{
    return makeError(ErrorCode::InvalidArgument, message,
                     QJsonObject {{QStringLiteral("fields"),
                                   QJsonObject {{QStringLiteral("email"),
                                                 fieldProblem(QStringLiteral("validation_not_unique"),
                                                              QStringLiteral("The email is already in use."))}}}});
}

} // namespace

QJsonObject Superusers::inputProblems(const std::optional<QString> &email, const std::optional<QByteArray> &password)
{
    QJsonObject fields;
    if (email && !isValidEmail(email->trimmed()))
        fields.insert(
            QStringLiteral("email"),
            fieldProblem(QStringLiteral("validation_is_email"), QStringLiteral("Must be a valid email address.")));
    if (password)
        if (const auto problem = passwordProblem(*password))
            fields.insert(QStringLiteral("password"), *problem);
    return fields;
}

Result<QList<Superuser>> Superusers::list()
{
    QList<Superuser> users;
    Status s = m_store.read([&users](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT id, email, password_hash, token_key, created, updated, role FROM _superusers "
                                 "ORDER BY created, id");
        if (!select)
            return select.error();
        for (;;) {
            auto row = select->step();
            if (!row)
                return row.error();
            if (!*row)
                return {};
            users.append(readRow(*select));
        }
    });
    if (!s)
        return s.error();
    return users;
}

Result<Superuser> Superusers::find(const QString &id)
{
    Result<Superuser> user = notFound();
    Status s = m_store.read([&](Store::Database &db) -> Status {
        user = findById(db, id);
        return {};
    });
    return s ? user : Result<Superuser>(s.error());
}

Result<Superuser> Superusers::findByEmail(const QString &email)
{
    Result<Superuser> user = notFound();
    Status s = m_store.read([&](Store::Database &db) -> Status {
        user = findByEmail(db, email.trimmed());
        return {};
    });
    if (!s)
        return s.error();
    if (!user && user.error().code == ErrorCode::NotFound)
        return makeError(ErrorCode::NotFound, QStringLiteral("There is no superuser %1.").arg(email.trimmed()));
    return user;
}

Result<Superuser> Superusers::update(const QString &id, const SuperuserChanges &changes, const AccountActor &actor)
{
    const QString failed = QStringLiteral("Failed to update record.");
    if (QJsonObject fields = inputProblems(changes.email, changes.password); !fields.isEmpty())
        return makeError(ErrorCode::InvalidArgument, failed, QJsonObject {{QStringLiteral("fields"), fields}});
    if (changes.role == Role::Owner && actor.role != Role::Owner)
        return ownersOnly(actor);
    std::optional<QString> hash;
    if (changes.password) {
        auto hashed = m_hasher.hash(*changes.password); // here, never on the writer thread
        if (!hashed)
            return hashed.error();
        hash = *hashed;
    }
    const QString now = timestamp(m_clock.nowMs());
    Superuser before, after;
    Status s = m_store.write([&](Store::Database &db) -> Status {
        auto found = findById(db, id);
        if (!found)
            return found.error();
        before = after = *found;
        after.email = changes.email ? changes.email->trimmed() : before.email;
        after.passwordHash = hash.value_or(before.passwordHash);
        after.role = changes.role.value_or(before.role);
        const bool grants = after.role == Role::Owner && before.role != Role::Owner;
        const bool demotes = before.role == Role::Owner && after.role != Role::Owner;
        if (Status allowed = checkOwnerRules(db, before, grants, demotes, actor); !allowed)
            return allowed;
        if (!changed(before, after))
            return {};
        if (hash || after.role != before.role) {
            // Ends every session of the account: its access tokens (signed with the old key) and
            // its refresh tokens stop working, so that the new role applies from the next login.
            after.tokenKey = Ids::randomId(50);
            auto ended
                = m_sessions.revokeAccount(db, QString::fromLatin1(kCollectionId), id, QString(),
                                           hash ? QStringLiteral("password change") : QStringLiteral("role change"));
            if (!ended)
                return ended.error();
        }
        after.updated = now;
        auto write = db.prepare("UPDATE _superusers SET email = ?, password_hash = ?, token_key = ?, role = ?, "
                                "updated = ? WHERE id = ?");
        if (!write)
            return write.error();
        Status done = write->bind(1, after.email)
                          .bind(2, after.passwordHash)
                          .bind(3, after.tokenKey)
                          .bind(4, roleName(after.role))
                          .bind(5, after.updated)
                          .bind(6, after.id)
                          .run();
        if (!done && done.error().code == ErrorCode::Conflict)
            return emailTaken(failed); // the UNIQUE (COLLATE NOCASE) email
        return done;
    });
    if (!s)
        return s.error();
    if (changed(before, after)) {
        QJsonObject details {{QStringLiteral("before"), auditView(before)},
                             {QStringLiteral("after"), auditView(after)}};
        if (hash)
            details.insert(QStringLiteral("password"), QStringLiteral("changed"));
        audit(actor.label, QStringLiteral("superuser.update"), actor.address, true, accountTarget(after), details);
    }
    return after;
}

Result<Superuser> Superusers::remove(const QString &id, const AccountActor &actor)
{
    Superuser removed;
    Status s = m_store.write([&](Store::Database &db) -> Status {
        auto found = findById(db, id);
        if (!found)
            return found.error();
        removed = *found;
        if (Status allowed = checkOwnerRules(db, removed, false, removed.role == Role::Owner, actor); !allowed)
            return allowed;
        auto ended = m_sessions.revokeAccount(db, QString::fromLatin1(kCollectionId), id, QString(),
                                              QStringLiteral("account deleted"));
        if (!ended)
            return ended.error();
        auto remove = db.prepare("DELETE FROM _superusers WHERE id = ?");
        if (!remove)
            return remove.error();
        return remove->bind(1, id).run();
    });
    if (!s)
        return s.error();
    audit(actor.label, QStringLiteral("superuser.delete"), actor.address, true, accountTarget(removed),
          QJsonObject {{QStringLiteral("before"), auditView(removed)}});
    return removed;
}

} // namespace Outpost::Auth
