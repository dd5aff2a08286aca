#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include "../core/clock.h"
#include "../core/result.h"
#include "../data/records.h"
#include "../store/store.h"
#include "jwt.h"
#include "passwordhasher.h"
#include "sessions.h"

namespace Outpost::Auth {

// An app user: a record of an auth collection, as a verified access token or a login found it.
struct AppUser
{
    QString collectionId;
    QString collectionName;
    QString id;
    QString tokenKey; // mixed into the token HMAC key
    QString sessionId; // the token's session (`sid`)
    QJsonObject record; // every field but the secrets: what rules see as @request.auth
};

// The accounts of auth collections (PocketBase's `users` and any other collection of type "auth"):
// password login, access tokens, and the password handling of record writes.
//
// Passwords follow passwordProblem()'s rules, are hashed with Argon2id and never leave the server.
// Access tokens are PocketBase-shaped JWTs ({id, type: "auth", collectionId, refreshable} plus
// `sid`, the session) that live Sessions::kAccessTtlSeconds and stop working when their session
// ends or the record's tokenKey changes.
//
// Threads: login() and prepareWrite() hash passwords (tens of ms) and read or write data.db: call
// them on a worker thread. fromToken() computes an HMAC and reads two rows with the given
// connection: fine on a network thread with its reader. Thread-safe.
class AppUsers
{
public:
    AppUsers(Store::Store &store, const Data::Records &records, const PasswordHasher &hasher, const Jwt &jwt,
             const Sessions &sessions, const Clock &clock);

    // "Failed to authenticate." (InvalidArgument, 400) for an unknown identity and a wrong password
    // alike, after the same work. Every attempt is audited (auth.login, target the collection). On success a session
    // has been started: `sessionId` is set and `refreshToken` holds its first refresh token.
    Result<AppUser> login(const Data::CollectionSet &set, const Data::Collection &c, const QString &identity,
                          const QByteArray &password, const QString &address, QByteArray *refreshToken);

    // The account an access token names, with its session live. Accepts "Bearer <token>" too.
    Result<AppUser> fromToken(Store::Database &reader, const Data::CollectionSet &set,
                              QByteArrayView authorization) const;
    // The account `recordId` of `c` as a token for `sessionId` would name it (for refreshes).
    Result<AppUser> load(Store::Database &db, const Data::CollectionSet &set, const Data::Collection &c,
                         const QString &recordId) const;

    QByteArray issueToken(const AppUser &user) const;

    struct Writer
    {
        bool superuser = false; // superusers and API keys: no oldPassword, may set `verified`
    };
    struct PreparedWrite
    {
        QJsonObject body; // what Records::create/update get: `password` is the hash
        bool passwordChanged = false;
    };
    // The body of a create (`recordId` empty) or update of a record of `c` with the password rules
    // applied: `password` and `passwordConfirm` must match and pass passwordProblem(); on update a
    // non-superuser must also give the current password as `oldPassword`; `tokenKey` cannot be set,
    // and only superusers may set `verified`. InvalidArgument with field details otherwise.
    Result<PreparedWrite> prepareWrite(const Data::Collection &c, QJsonObject body, const Writer &writer,
                                       const QString &recordId) const;

private:
    Store::Store &m_store;
    const Data::Records &m_records;
    const PasswordHasher &m_hasher;
    const Jwt &m_jwt;
    const Sessions &m_sessions;
    const Clock &m_clock;
};

} // namespace Outpost::Auth
