#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <memory>
#include <optional>
#include <variant>

#include "../core/clock.h"
#include "../core/result.h"
#include "../store/store.h"
#include "scopes.h"

namespace Outpost::Auth {

// One stored API key (never its secret; the secret's hash stays inside ApiKeys).
struct ApiKey
{
    QString id; // 15 chars [a-z0-9]; also the OAuth2 client id
    QString name;
    QString prefix; // the secret's first 12 characters ("opk_" + 8), shown in lists to tell keys apart
    Scopes scopes;
    QList<QPair<QHostAddress, int>> allowedCidrs; // empty: any address
    QString createdBy; // who created it: "superuser:<id>", "cli", ...
    qint64 createdMs = 0;
    std::optional<qint64> expiresMs;
    std::optional<qint64> revokedMs;
    qint64 lastUsedMs = 0; // 0: never
    QString lastUsedFrom; // client address of the last use
    qint64 requestCount = 0;
    // During a rotation's grace period the previous secret keeps working until this time.
    std::optional<qint64> previousSecretValidUntilMs;

    // The key as the admin API shows it: {id, name, prefix, scopes, allowedCidrs, createdBy,
    // created, expires, revoked, lastUsedAt, lastUsedFrom, requestCount} with PocketBase-style
    // "2006-01-02 15:04:05.000Z" timestamps ("" when unset).
    QJsonObject toJson() const;
};

// What create()/rotate() hand back: the key and its secret, shown this once.
struct IssuedKey
{
    ApiKey key;
    QString secret;
};

struct NewKey
{
    QString name; // 1..100 characters after trimming
    QStringList scopes; // see Scopes::parse
    std::optional<qint64> expiresMs; // must be in the future
    QStringList allowedCidrs; // "10.0.0.0/8", "::1/128", "192.168.1.7" (a bare address = /32 or /128)
    QString createdBy;
};

// API keys: `opk_` + 32 random base62 characters + a 6-character base62 CRC-32 checksum of the
// part before it (so a mistyped or truncated key, and a secret scanner's find, are recognised
// without touching the database). Stored as SHA-256 of the whole secret (the secret has 190 bits
// of entropy; a slow hash would add nothing but latency on every request).
//
// authenticate() runs on network threads for every request carrying a key, so it works from an
// in-memory cache of hash -> key, filled from data.db on first use. Every change (create, update,
// revoke, rotate) updates the database first and then the cache under a lock, so a revocation is
// effective for the next request on every thread. Usage (last used at/from, request count) is
// counted in memory and written to data.db in one batch at most every `usageFlushMs` (and by
// flushUsage()), never one write per request.
//
// Another process (`outpostd apikey ...`) may change the keys of the same data.db. Each change
// adds one to data.db's `apikeys.version` (in _settings) in its own transaction; usage flushes do
// not. authenticate() queues, at most once a second by the clock, a check of that version on the
// writer thread and never waits for it; when it differs from the cache's, the cache is reloaded,
// keeping usage counted but not flushed yet. Under steady traffic another process's change thus
// reaches the cache within a second (plus the writer's queue: milliseconds, unless that process
// holds data.db's write lock); after a quiet spell, the first request is still answered from the
// cache and queues the check that the next ones see. list(), get() and the changes compare the
// version themselves first, so they never act on a stale cache.
//
// Every change is written to logs.db's audit_log (actions apikey.create, apikey.update,
// apikey.revoke, apikey.rotate; target = the key id; actor = createdBy / `actor`).
//
// Errors: InvalidArgument with details {"fields": {name: {code, message}}} for bad input (codes
// validation_required, validation_invalid_scope, validation_invalid_cidr, validation_past_expiry,
// validation_length_out_of_range); NotFound for an unknown id; Conflict when another process changed
// the keys between this change's read and its write (nothing was changed; trying again works).
// Threads: all methods are thread-safe. create/update/revoke/rotate/flushUsage write (block on the
// writer) and list/get read data.db: call them on a worker thread. authenticate() blocks only on
// its first call (the first load), never on the writer.
class ApiKeys
{
public:
    ApiKeys(Store::Store &store, const Clock &clock, qint64 usageFlushMs = 5000);
    ~ApiKeys(); // flushes usage

    Result<IssuedKey> create(const NewKey &key);
    Result<QList<ApiKey>> list() const; // newest first, revoked ones included
    Result<ApiKey> get(const QString &id) const;
    // Changes name, scopes, expiry (null clears it) and allowedCidrs; members absent from
    // `changes` are kept. Revoked keys cannot be changed (InvalidArgument).
    Result<ApiKey> update(const QString &id, const QJsonObject &changes, const QString &actor);
    // Revocation is permanent and immediate; revoking twice is not an error.
    Result<ApiKey> revoke(const QString &id, const QString &actor);
    // A new secret; the old one keeps working for `graceSeconds` (0..604800), then stops.
    Result<IssuedKey> rotate(const QString &id, qint64 graceSeconds, const QString &actor);

    // Why a presented key was refused; the HTTP layer maps these to 401 (malformed, unknown,
    // expired, revoked) or 403 (address).
    enum class Refusal { Malformed, Unknown, Expired, Revoked, AddressNotAllowed };
    // Checks format and checksum first (no lookup for a malformed key), then the cache; counts the
    // use. Never blocks on the database after the first call; may queue a version check (see above).
    std::variant<ApiKey, Refusal> authenticate(QByteArrayView secret, const QHostAddress &client);
    // The same checks for a key named by id: for access tokens issued to a key (OAuth 2.0 client
    // credentials), so that revoking or expiring the key ends its tokens on the next request.
    std::variant<ApiKey, Refusal> authenticateId(const QString &id, const QHostAddress &client);

    Status flushUsage();

    // The format alone: "opk_" + 32 base62 + 6 base62 checksum. For the HTTP layer's "is this a
    // key or a JWT" decision and for tests.
    static bool looksLikeKey(QByteArrayView text);
    static bool checksumValid(QByteArrayView text);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace Outpost::Auth
