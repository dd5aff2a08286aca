#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include "../core/clock.h"
#include "../core/result.h"
#include "../store/store.h"
#include "jwt.h"
#include "passwordhasher.h"
#include "scopes.h"

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

    // The record as PocketBase's API shows a `_superusers` record (never the hash or token key).
    QJsonObject toRecord() const;
};

// The install's token signing secret, created on first start and kept in data.db.
struct SigningKey
{
    QByteArray secret;
    QByteArray keyId;
};
Result<SigningKey> loadOrCreateSigningKey(Store::Store &store);

// Superuser accounts: creation, password login and token authentication.
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
               qint64 tokenTtlSeconds = 3600);

    // InvalidArgument with every failing field in details["fields"] ({name: {code, message}}),
    // including a taken email (code validation_not_unique).
    Result<Superuser> create(const QString &email, const QByteArray &password, Role role = Role::Owner);

    // InvalidArgument ("Failed to authenticate.", HTTP 400 as in PocketBase) for an unknown
    // identity and a wrong password alike, after the same amount of work. Records the attempt in the audit log with
    // `address`.
    Result<Superuser> login(const QString &identity, const QByteArray &password, const QString &address);

    // Verifies a token we issued and loads its account. Accepts "Bearer <token>" and the bare token.
    Result<Superuser> fromToken(Store::Database &reader, QByteArrayView authorization) const;

    QByteArray issueToken(const Superuser &user) const;
    Result<qint64> count();

    static QString timestamp(qint64 ms); // PocketBase's "2006-01-02 15:04:05.000Z"

private:
    Result<Superuser> findByEmail(Store::Database &db, const QString &email) const;
    void audit(const QString &actor, const QString &action, const QString &address, bool success);

    Store::Store &m_store;
    const PasswordHasher &m_hasher;
    const Jwt &m_jwt;
    const Clock &m_clock;
    qint64 m_tokenTtl;
};

} // namespace Outpost::Auth
