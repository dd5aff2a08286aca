#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <optional>

#include "../core/clock.h"
#include "../core/result.h"
#include "../store/store.h"
#include "jwt.h"
#include "passwordhasher.h"
#include "scopes.h"
#include "sessions.h"

namespace Outpost::Auth {

struct Superuser
{
    QString id;
    QString email;
    QString passwordHash;
    QString tokenKey; // mixed into the token HMAC key: replacing it revokes every token of the account
    QString created;
    QString updated;
    Role role = Role::Owner; // what the account may do (see Role)
    QString sessionId; // set by fromToken() and startSession(): the session the token belongs to

    // The record as PocketBase's API shows a `_superusers` record (never the hash or token key).
    QJsonObject toRecord() const;
};

// Who asks for a change to the superuser accounts. Only an owner may create, change or delete an
// owner's account or grant the owner role; an API key with accounts:manage counts as an admin.
// The default is the local operator (the CLI, tests): an owner.
struct AccountActor
{
    QString label; // the audit entry's actor: "superuser:ID", "apikey:ID", "cli"
    Role role = Role::Owner;
    QString address = QStringLiteral("local"); // the client address, for the audit entry
};

// What Superusers::update() changes; members left empty are kept.
struct SuperuserChanges
{
    std::optional<QString> email;
    std::optional<QByteArray> password;
    std::optional<Role> role;
};

// The install's token signing secret, created on first start and kept in data.db.
struct SigningKey
{
    QByteArray secret;
    QByteArray keyId;
};
Result<SigningKey> loadOrCreateSigningKey(Store::Store &store);

// Superuser accounts: creation, management, password login and token authentication.
//
// Threads: create() and login() hash passwords (tens of ms) and write: call them on a worker
// thread. fromToken() only computes an HMAC and reads one row: fine on a network thread with that
// thread's reader connection. All methods are thread-safe.
class Superusers
{
public:
    static constexpr char kCollectionId[] = "pbc_3142635823"; // PocketBase's id for _superusers
    static constexpr char kCollectionName[] = "_superusers";

    Superusers(Store::Store &store, const PasswordHasher &hasher, const Jwt &jwt, const Clock &clock,
               const Sessions &sessions, qint64 tokenTtlSeconds = Sessions::kAccessTtlSeconds);

    // InvalidArgument with every failing field in details["fields"] ({name: {code, message}}),
    // including a taken email (code validation_not_unique). PermissionDenied when `actor` may not
    // create an owner. The audit entry names `actor.label`, or the new account when it is empty.
    Result<Superuser> create(const QString &email, const QByteArray &password, Role role = Role::Owner,
                             const AccountActor &actor = {});

    // InvalidArgument ("Failed to authenticate.", HTTP 400 as in PocketBase) for an unknown
    // identity and a wrong password alike, after the same amount of work. Records the attempt in the audit log with
    // `address`.
    Result<Superuser> login(const QString &identity, const QByteArray &password, const QString &address);

    // Verifies a token we issued and loads its account. Accepts "Bearer <token>" and the bare token.
    Result<Superuser> fromToken(Store::Database &reader, QByteArrayView authorization) const;

    // A token for `user`'s session (user.sessionId, from startSession() or fromToken()); tokens
    // stop working when their session ends (Sessions).
    QByteArray issueToken(const Superuser &user) const;
    // Starts a session for `user` (sets user.sessionId) and returns its first refresh token.
    // Writes: call it on a worker thread.
    Result<QByteArray> startSession(Superuser &user, const QString &address);
    Result<qint64> count();

    static QString timestamp(qint64 ms); // PocketBase's "2006-01-02 15:04:05.000Z"

    // ---- Account management (the admin API and `outpostd superuser ...`) ----
    // Reads: call them on a worker thread. NotFound for an unknown id or email.
    Result<QList<Superuser>> list(); // oldest first
    Result<Superuser> find(const QString &id);
    Result<Superuser> findByEmail(const QString &email); // trimmed, case-insensitive

    // The field problems ({name: {code, message}}) of an email and a password about to be stored:
    // empty when both (those given) are acceptable. The password rule lives here alone.
    static QJsonObject inputProblems(const std::optional<QString> &email, const std::optional<QByteArray> &password);

    // Changes an account. A new password or role ends the account's sessions and replaces its
    // token key: its access and refresh tokens stop working.
    // Hashes a new password and writes: call it on a worker thread. Errors: InvalidArgument with
    // details["fields"] ("Failed to update record."), NotFound, PermissionDenied (an owner's account
    // or the owner role, for an actor who is not an owner), Conflict (demoting the last owner). The
    // checks run in the writer's transaction with the change, so two requests cannot both demote
    // one of the last two owners. Audited as superuser.update, target "_superusers/ID", details
    // {before, after: {email, role}, password: "changed" when it did}.
    Result<Superuser> update(const QString &id, const SuperuserChanges &changes, const AccountActor &actor);
    // Deletes an account (its sessions and tokens end with it) and returns what it was. Errors as
    // update(); the last owner cannot be deleted (Conflict). Audited as superuser.delete.
    Result<Superuser> remove(const QString &id, const AccountActor &actor);

private:
    Result<Superuser> findByEmail(Store::Database &db, const QString &email) const;
    // `target`: what the entry is about (the superusers as a whole unless given).
    void audit(const QString &actor, const QString &action, const QString &address, bool success,
               const QString &target = QString::fromLatin1(kCollectionName), const QJsonObject &details = {});

    Store::Store &m_store;
    const PasswordHasher &m_hasher;
    const Jwt &m_jwt;
    const Clock &m_clock;
    const Sessions &m_sessions;
    qint64 m_tokenTtl;
};

} // namespace Outpost::Auth
