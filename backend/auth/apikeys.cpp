#include "apikeys.h"

#include <QCryptographicHash>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <openssl/evp.h>

#include "../core/ids.h"
#include "keyformat.h"
#include "superusers.h"

Q_LOGGING_CATEGORY(lcApiKeys, "outpost.auth")

namespace Outpost::Auth {

namespace {

constexpr qsizetype kMaxNameLength = 100;
constexpr qint64 kMaxGraceSeconds = 7 * 24 * 3600;
// How often authenticate() has data.db asked whether another process changed the keys.
constexpr qint64 kCheckIntervalMs = 1000;

// OpenSSL's SHA-256 rather than QCryptographicHash, with a context kept per thread: this runs for
// every request with a key, and Qt's portable implementation, then a fresh EVP context per call,
// took most of the key check's time (callgrind, see BENCHMARKS.md).
QByteArray hashOf(QByteArrayView secret)
{
    static EVP_MD *const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                                       &EVP_MD_CTX_free);
    QByteArray digest(32, Qt::Uninitialized);
    unsigned int size = 0;
    if (!sha256 || !context || EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1
        || EVP_DigestUpdate(context.get(), secret.data(), size_t(secret.size())) != 1
        || EVP_DigestFinal_ex(context.get(), reinterpret_cast<unsigned char *>(digest.data()), &size) != 1
        || size != 32)
        return QCryptographicHash::hash(secret, QCryptographicHash::Sha256);
    return digest;
}

QString toJsonText(const QStringList &list)
{
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(list)).toJson(QJsonDocument::Compact));
}

// Array members that are not strings become "", which the validators then refuse.
std::optional<QStringList> stringList(const QJsonValue &value)
{
    if (!value.isArray())
        return std::nullopt;
    QStringList out;
    for (const QJsonValue &v : value.toArray())
        out.append(v.toString());
    return out;
}

QJsonObject fieldProblem(const QString &code, const QString &message)
{
    return QJsonObject {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
}

Error invalidFields(const QString &verb, const QJsonObject &problems)
{
    return makeError(ErrorCode::InvalidArgument, QStringLiteral("Failed to %1 API key.").arg(verb),
                     QJsonObject {{QStringLiteral("fields"), problems}});
}

// The checks shared by create() and update(); each adds its field's problem to `problems`.
void checkName(const QString &raw, QJsonObject &problems, QString &out)
{
    out = raw.trimmed();
    if (out.isEmpty())
        problems.insert(QStringLiteral("name"),
                        fieldProblem(QStringLiteral("validation_required"), QStringLiteral("Cannot be blank.")));
    else if (out.size() > kMaxNameLength)
        problems.insert(QStringLiteral("name"),
                        fieldProblem(QStringLiteral("validation_length_out_of_range"),
                                     QStringLiteral("Must be at most %1 characters.").arg(kMaxNameLength)));
}

// A parser's value into `out`, or its message as `field`'s problem.
template <typename T>
void take(Result<T> parsed, const QString &field, const QString &code, QJsonObject &problems, T &out)
{
    if (parsed)
        out = std::move(parsed).value();
    else
        problems.insert(field, fieldProblem(code, parsed.error().message));
}

void checkScopes(const std::optional<QStringList> &raw, QJsonObject &problems, Scopes &out)
{
    const QString code = QStringLiteral("validation_invalid_scope");
    if (raw)
        take(Scopes::parse(*raw), QStringLiteral("scopes"), code, problems, out);
    else
        problems.insert(QStringLiteral("scopes"), fieldProblem(code, QStringLiteral("Must be a list of scopes.")));
}

// Not a list: refused as if it held one empty entry.
void checkCidrs(const std::optional<QStringList> &raw, QJsonObject &problems, QList<Cidr> &out)
{
    take(parseCidrs(raw.value_or(QStringList {QString()})), QStringLiteral("allowedCidrs"),
         QStringLiteral("validation_invalid_cidr"), problems, out);
}

void checkExpiry(std::optional<qint64> expires, qint64 now, const QString &member, QJsonObject &problems)
{
    if (expires && *expires <= now)
        problems.insert(
            member, fieldProblem(QStringLiteral("validation_past_expiry"), QStringLiteral("Must be in the future.")));
}

// null or "" clears; a number is Unix milliseconds; a string is PocketBase's or ISO 8601 form.
// The outer optional is empty for anything else.
std::optional<std::optional<qint64>> parseExpiry(const QJsonValue &value)
{
    if (value.isNull() || value.isUndefined() || (value.isString() && value.toString().isEmpty()))
        return std::optional<qint64>();
    if (value.isDouble() && value.toDouble() == double(value.toInteger()))
        return std::optional<qint64>(value.toInteger());
    const QDateTime time = QDateTime::fromString(value.toString().replace(u' ', u'T'), Qt::ISODateWithMs);
    if (!time.isValid())
        return std::nullopt;
    return std::optional<qint64>(time.toMSecsSinceEpoch());
}

std::optional<qint64> optionalInt(const Store::Statement &s, int column)
{
    return s.isNull(column) ? std::nullopt : std::optional<qint64>(s.int64(column));
}

void bindOptional(Store::Statement &s, int index, std::optional<qint64> value)
{
    if (value)
        s.bind(index, *value);
    else
        s.bindNull(index);
}

Error notFound()
{
    return makeError(ErrorCode::NotFound, QStringLiteral("The API key does not exist."));
}

struct Usage
{
    qint64 count = 0;
    qint64 lastMs = 0;
    QString from;
    bool dirty = false; // counted since the last flush was handed to the writer
    QHostAddress fromAddress = {}; // what `from` spells, when it was set by a request
};

// What a change replaces, as a whole.
struct KeyState
{
    ApiKey key; // its usage members are not kept up to date: Entry::usage has them
    QByteArray hash; // SHA-256 of the current secret
    QByteArray previousHash; // of the secret before the last rotation; empty: none
};

struct Entry
{
    KeyState state; // written under Private::mutex (exclusive) and Private::changeMutex
    std::mutex usageMutex;
    Usage usage; // guarded by usageMutex
};

struct UsageRow
{
    QString id;
    Usage usage;
};

constexpr char kSelectAll[] = "SELECT id, name, prefix, scopes, allowed_cidrs, created_by, created, expires, revoked, "
                              "secret_hash, previous_hash, previous_valid_until, last_used, last_used_from, "
                              "request_count FROM _apikeys ORDER BY created, rowid";

std::unique_ptr<Entry> readEntry(const Store::Statement &s)
{
    auto entry = std::make_unique<Entry>();
    ApiKey &k = entry->state.key;
    k.id = s.text(0);
    k.name = s.text(1);
    k.prefix = s.text(2);
    const QJsonArray scopes = QJsonDocument::fromJson(s.utf8(3).toByteArray()).array();
    if (auto parsed = Scopes::parse(stringList(scopes).value_or(QStringList {})))
        k.scopes = *parsed;
    else
        qCWarning(lcApiKeys) << "API key" << k.id << "has unusable scopes; it grants nothing";
    const QJsonArray cidrs = QJsonDocument::fromJson(s.utf8(4).toByteArray()).array();
    for (const QJsonValue &v : cidrs) {
        if (auto cidr = parseCidr(v.toString())) {
            k.allowedCidrs.append(*cidr);
        } else {
            // Fail closed: dropping the bad rule could leave a key usable from anywhere.
            qCWarning(lcApiKeys) << "API key" << k.id << "has an unusable address rule; it grants nothing";
            k.scopes = Scopes();
        }
    }
    k.createdBy = s.text(5);
    k.createdMs = s.int64(6);
    k.expiresMs = optionalInt(s, 7);
    k.revokedMs = optionalInt(s, 8);
    entry->state.hash = QByteArray::fromHex(s.utf8(9).toByteArray());
    entry->state.previousHash = QByteArray::fromHex(s.utf8(10).toByteArray());
    k.previousSecretValidUntilMs = optionalInt(s, 11);
    entry->usage = Usage {s.int64(14), s.int64(12), s.text(13), false};
    return entry;
}

Result<std::vector<std::unique_ptr<Entry>>> readEntries(Store::Database &db)
{
    auto select = db.prepare(kSelectAll);
    if (!select)
        return select.error();
    std::vector<std::unique_ptr<Entry>> entries;
    for (;;) {
        auto row = select->step();
        if (!row)
            return row.error();
        if (!*row)
            return entries;
        entries.push_back(readEntry(*select));
    }
}

Status writeKey(Store::Database &db, const KeyState &next)
{
    auto upsert = db.prepare(
        "INSERT INTO _apikeys(id, created_by, created, name, prefix, scopes, allowed_cidrs, expires, revoked, "
        "secret_hash, previous_hash, previous_valid_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET name = excluded.name, prefix = excluded.prefix, scopes = excluded.scopes, "
        "allowed_cidrs = excluded.allowed_cidrs, expires = excluded.expires, revoked = excluded.revoked, "
        "secret_hash = excluded.secret_hash, previous_hash = excluded.previous_hash, "
        "previous_valid_until = excluded.previous_valid_until");
    if (!upsert)
        return upsert.error();
    const ApiKey &k = next.key;
    upsert->bind(1, k.id)
        .bind(2, k.createdBy)
        .bind(3, k.createdMs)
        .bind(4, k.name)
        .bind(5, k.prefix)
        .bind(6, toJsonText(k.scopes.toStrings()))
        .bind(7, toJsonText(cidrStrings(k.allowedCidrs)));
    bindOptional(*upsert, 8, k.expiresMs);
    bindOptional(*upsert, 9, k.revokedMs);
    upsert->bind(10, QString::fromLatin1(next.hash.toHex()))
        .bind(11, next.previousHash.isEmpty() ? QVariant() : QString::fromLatin1(next.previousHash.toHex()));
    bindOptional(*upsert, 12, k.previousSecretValidUntilMs);
    return upsert->run();
}

// data.db's count of API key changes, so that an instance can tell that another process
// (`outpostd apikey ...`) changed a key since it filled its cache. _settings values are BLOBs:
// this one holds decimal digits. No row yet: 0.
Result<qint64> readVersion(Store::Database &db)
{
    auto select = db.prepare("SELECT CAST(value AS INTEGER) FROM _settings WHERE key = 'apikeys.version'");
    if (!select)
        return select.error();
    auto row = select->step();
    if (!row)
        return row.error();
    return *row ? select->int64(0) : qint64(0);
}

Status writeVersion(Store::Database &db, qint64 version)
{
    auto upsert = db.prepare("INSERT OR REPLACE INTO _settings(key, value) VALUES ('apikeys.version', ?)");
    if (!upsert)
        return upsert.error();
    return upsert->bind(1, QByteArray::number(version)).run();
}

} // namespace

QJsonObject ApiKey::toJson() const
{
    const auto time = [](std::optional<qint64> ms) { return ms ? Superusers::timestamp(*ms) : QString(); };
    return QJsonObject {{QStringLiteral("id"), id},
                        {QStringLiteral("name"), name},
                        {QStringLiteral("prefix"), prefix},
                        {QStringLiteral("scopes"), QJsonArray::fromStringList(scopes.toStrings())},
                        {QStringLiteral("allowedCidrs"), QJsonArray::fromStringList(cidrStrings(allowedCidrs))},
                        {QStringLiteral("createdBy"), createdBy},
                        {QStringLiteral("created"), Superusers::timestamp(createdMs)},
                        {QStringLiteral("expires"), time(expiresMs)},
                        {QStringLiteral("revoked"), time(revokedMs)},
                        {QStringLiteral("lastUsedAt"), time(lastUsedMs ? std::optional(lastUsedMs) : std::nullopt)},
                        {QStringLiteral("lastUsedFrom"), lastUsedFrom},
                        {QStringLiteral("requestCount"), requestCount}};
}

struct ApiKeys::Private
{
    Private(Store::Store &s, const Clock &c, qint64 flushMs)
        : store(s)
        , clock(c)
        , usageFlushMs(flushMs)
        , nextFlushMs(c.nowMs() + flushMs)
        , nextCheckMs(c.nowMs() + kCheckIntervalMs)
    {
        std::promise<Status> done;
        done.set_value({});
        lastFlush = done.get_future().share();
    }

    Status ensureLoaded();
    // Reads data.db's version on `db` (inside a transaction) and reloads the cache when it differs from
    // loadedVersion. Caller holds changeMutex.
    Status reloadIfChanged(Store::Database &db);
    Status refreshLocked(); // reloadIfChanged() on a pooled reader; caller holds changeMutex
    Status refresh(); // the same, taking changeMutex
    // The cache becomes `entries`; entries of keys it had keep their usage. Caller holds changeMutex.
    void replaceAll(std::vector<std::unique_ptr<Entry>> entries);
    void install(std::unique_ptr<Entry> entry); // caller holds `mutex` exclusively
    ApiKey snapshot(Entry &entry) const; // caller holds `mutex`
    Result<ApiKey> get(const QString &id) const;
    Entry *find(const QString &id) const; // caller holds `mutex` or `changeMutex`
    Result<Entry *> findCurrent(const QString &id); // refreshLocked(), then find(); caller holds `changeMutex`
    // findCurrent(), refusing a revoked key ("A revoked API key cannot be <verb>.").
    Result<Entry *> findChangeable(const QString &id, const QString &verb);
    // Stores `next` and then puts it in the cache: as a new key when `entry` is null, else in its place.
    Status save(Entry *entry, const KeyState &next); // caller holds `changeMutex`
    void scheduleCheck(qint64 now);
    std::shared_future<Status> submitFlush();
    void markDirty(const QList<UsageRow> &rows);
    void audit(const QString &actor, const QString &action, const QString &keyId);

    Store::Store &store;
    const Clock &clock;
    const qint64 usageFlushMs;

    // Serialises changes and reloads so that the database and the cache change in the same order.
    std::mutex changeMutex;
    std::atomic<bool> loaded {false};
    qint64 loadedVersion = 0; // data.db's version the cache matches; guarded by changeMutex
    // Readers (authenticate, get, list) share it; changes and reloads hold it exclusively only to swap the cache.
    mutable std::shared_mutex mutex;
    std::unordered_map<QString, std::unique_ptr<Entry>> byId; // only a reload removes entries
    QHash<QByteArray, Entry *> byHash; // current secrets and previous ones still in their grace period
    QList<Entry *> order; // by creation, oldest first

    std::atomic<qint64> nextFlushMs;
    std::mutex flushMutex; // makes collecting and queueing one step, so flushes reach the writer in order
    std::shared_future<Status> lastFlush; // guarded by flushMutex

    std::atomic<qint64> nextCheckMs;
    std::atomic<bool> checkQueued {false};
    std::mutex checkMutex;
    std::shared_future<void> lastCheck; // guarded by checkMutex; ~ApiKeys waits for it

    // The checks of authenticate() and authenticateId() on the entry `find` returns (called
    // under the shared lock), and the use counted.
    std::variant<ApiKey, Refusal> admit(const QHostAddress &client, const std::function<Entry *(qint64 now)> &find);
};

Status ApiKeys::Private::ensureLoaded()
{
    return loaded.load(std::memory_order_acquire) ? Status() : refresh();
}

Status ApiKeys::Private::refresh()
{
    std::lock_guard change(changeMutex);
    return refreshLocked();
}

Status ApiKeys::Private::refreshLocked()
{
    return store.read([this](Store::Database &db) -> Status {
        // One read transaction: the version and the rows are the same snapshot.
        if (Status s = db.exec("BEGIN"); !s)
            return s;
        Status s = reloadIfChanged(db);
        if (!db.exec("COMMIT"))
            (void)db.exec("ROLLBACK"); // a pooled reader must not keep an old snapshot
        return s;
    });
}

Status ApiKeys::Private::reloadIfChanged(Store::Database &db)
{
    auto version = readVersion(db);
    if (!version)
        return version.error();
    if (loaded.load(std::memory_order_relaxed) && *version == loadedVersion)
        return {};
    auto entries = readEntries(db);
    if (!entries)
        return entries.error();
    replaceAll(std::move(entries).value());
    loadedVersion = *version;
    loaded.store(true, std::memory_order_release);
    return {};
}

// Usage counted here but not flushed yet is newer than the table's, so a kept key keeps its Entry
// (and its usage); a key no longer in the table (deleted by hand) is dropped.
void ApiKeys::Private::replaceAll(std::vector<std::unique_ptr<Entry>> entries)
{
    std::unique_lock lock(mutex);
    auto previous = std::exchange(byId, {});
    byHash.clear();
    order.clear();
    for (auto &entry : entries) {
        if (const auto it = previous.find(entry->state.key.id); it != previous.end()) {
            it->second->state = std::move(entry->state);
            entry = std::move(it->second);
        }
        install(std::move(entry));
    }
}

void ApiKeys::Private::install(std::unique_ptr<Entry> entry)
{
    byHash.insert(entry->state.hash, entry.get());
    if (!entry->state.previousHash.isEmpty())
        byHash.insert(entry->state.previousHash, entry.get());
    order.append(entry.get());
    const QString id = entry->state.key.id;
    byId.emplace(id, std::move(entry));
}

ApiKey ApiKeys::Private::snapshot(Entry &entry) const
{
    ApiKey key = entry.state.key;
    std::lock_guard guard(entry.usageMutex);
    key.requestCount = entry.usage.count;
    key.lastUsedMs = entry.usage.lastMs;
    key.lastUsedFrom = entry.usage.from;
    return key;
}

Entry *ApiKeys::Private::find(const QString &id) const
{
    const auto it = byId.find(id);
    return it == byId.end() ? nullptr : it->second.get();
}

Result<Entry *> ApiKeys::Private::findCurrent(const QString &id)
{
    if (Status s = refreshLocked(); !s)
        return s.error();
    Entry *entry = find(id);
    if (!entry)
        return notFound();
    return entry;
}

Result<Entry *> ApiKeys::Private::findChangeable(const QString &id, const QString &verb)
{
    auto found = findCurrent(id);
    if (found && (*found)->state.key.revokedMs)
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("A revoked API key cannot be %1.").arg(verb));
    return found;
}

Result<ApiKey> ApiKeys::Private::get(const QString &id) const
{
    std::shared_lock lock(mutex);
    Entry *entry = find(id);
    if (!entry)
        return notFound();
    return snapshot(*entry);
}

Status ApiKeys::Private::save(Entry *entry, const KeyState &next)
{
    const qint64 version = loadedVersion;
    Status s = store.write([&next, version](Store::Database &db) -> Status {
        // The cache was brought up to date under the changeMutex we hold; a newer version means
        // another process changed a key since, and writing `next` (made from the cache) could undo it.
        auto current = readVersion(db);
        if (!current)
            return current.error();
        if (*current != version)
            return makeError(ErrorCode::Conflict,
                             QStringLiteral("Another process changed the API keys at the same moment; nothing was "
                                            "changed. Try again."));
        if (Status written = writeKey(db, next); !written)
            return written;
        return writeVersion(db, version + 1);
    });
    if (!s)
        return s;
    loadedVersion = version + 1;
    std::unique_lock lock(mutex);
    if (!entry) {
        auto fresh = std::make_unique<Entry>();
        fresh->state = next;
        install(std::move(fresh));
        return {};
    }
    byHash.remove(entry->state.hash);
    byHash.remove(entry->state.previousHash);
    entry->state = next;
    byHash.insert(next.hash, entry);
    if (!next.previousHash.isEmpty())
        byHash.insert(next.previousHash, entry);
    return {};
}

// At most one check a second and one at a time; the request path only queues it. The job runs on
// the writer's connection, inside its transaction.
void ApiKeys::Private::scheduleCheck(qint64 now)
{
    qint64 due = nextCheckMs.load(std::memory_order_relaxed);
    if (now < due || checkQueued.load(std::memory_order_acquire)
        || !nextCheckMs.compare_exchange_strong(due, now + kCheckIntervalMs))
        return;
    std::lock_guard guard(checkMutex);
    auto promise = std::make_shared<std::promise<void>>();
    lastCheck = promise->get_future().share();
    checkQueued.store(true, std::memory_order_release);
    store.submitWrite(
        [this](Store::Database &db) -> Status {
            // A change of ours holds changeMutex while it waits for this very thread: waiting here would
            // deadlock. That change brought the cache up to date before it wrote; anything newer is
            // looked for again on the next request.
            std::unique_lock change(changeMutex, std::try_to_lock);
            if (!change.owns_lock()) {
                nextCheckMs.store(0, std::memory_order_relaxed);
                return {};
            }
            return reloadIfChanged(db);
        },
        [this, promise](Status s) {
            if (!s)
                qCWarning(lcApiKeys) << "looking for API key changes failed:" << s.error().message;
            checkQueued.store(false, std::memory_order_release);
            promise->set_value(); // last: ~ApiKeys may return as soon as this is set
        });
}

std::shared_future<Status> ApiKeys::Private::submitFlush()
{
    std::lock_guard guard(flushMutex);
    QList<UsageRow> rows;
    {
        std::shared_lock lock(mutex);
        for (Entry *entry : std::as_const(order)) {
            std::lock_guard usage(entry->usageMutex);
            if (!entry->usage.dirty)
                continue;
            entry->usage.dirty = false;
            rows.append({entry->state.key.id, entry->usage});
        }
    }
    if (rows.isEmpty())
        return lastFlush; // an earlier flush may still be on its way: waiting for it is what callers want
    auto promise = std::make_shared<std::promise<Status>>();
    lastFlush = promise->get_future().share();
    // Totals rather than increments: flushes are queued in the order they were collected, so the
    // last write always carries the newest totals, and a failed flush is repaired by the next one.
    store.submitWrite(
        [rows](Store::Database &db) -> Status {
            auto update
                = db.prepare("UPDATE _apikeys SET request_count = ?, last_used = ?, last_used_from = ? WHERE id = ?");
            if (!update)
                return update.error();
            for (const UsageRow &row : rows) {
                update->bind(1, row.usage.count).bind(2, row.usage.lastMs).bind(3, row.usage.from).bind(4, row.id);
                if (auto s = update->run(); !s)
                    return s;
            }
            return {};
        },
        [this, rows, promise](Status s) {
            if (!s) {
                qCWarning(lcApiKeys) << "writing API key usage failed:" << s.error().message;
                markDirty(rows);
            }
            promise->set_value(s); // last: ~ApiKeys may return as soon as this is set
        });
    return lastFlush;
}

void ApiKeys::Private::markDirty(const QList<UsageRow> &rows)
{
    std::shared_lock lock(mutex);
    for (const UsageRow &row : rows) {
        if (Entry *entry = find(row.id)) {
            std::lock_guard usage(entry->usageMutex);
            entry->usage.dirty = true;
        }
    }
}

void ApiKeys::Private::audit(const QString &actor, const QString &action, const QString &keyId)
{
    store.auditLog().append({.timeMs = clock.nowMs(),
                             .actor = actor,
                             .action = action,
                             .target = keyId,
                             .address = QString(),
                             .success = true,
                             .details = {}});
}

ApiKeys::ApiKeys(Store::Store &store, const Clock &clock, qint64 usageFlushMs)
    : d(std::make_unique<Private>(store, clock, usageFlushMs))
{
}

ApiKeys::~ApiKeys()
{
    if (Status s = flushUsage(); !s)
        qCWarning(lcApiKeys) << "API key usage lost at shutdown:" << s.error().message;
    std::shared_future<void> check;
    {
        std::lock_guard guard(d->checkMutex);
        check = d->lastCheck;
    }
    if (check.valid())
        check.wait(); // its job uses *d
}

Result<IssuedKey> ApiKeys::create(const NewKey &key)
{
    const qint64 now = d->clock.nowMs();
    KeyState state;
    ApiKey &k = state.key;
    QJsonObject problems;
    checkName(key.name, problems, k.name);
    checkScopes(key.scopes, problems, k.scopes);
    checkCidrs(key.allowedCidrs, problems, k.allowedCidrs);
    checkExpiry(key.expiresMs, now, QStringLiteral("expiresAt"), problems);
    if (!problems.isEmpty())
        return invalidFields(QStringLiteral("create"), problems);

    const QByteArray secret = generateKeySecret();
    k.id = Ids::randomId();
    k.prefix = QString::fromLatin1(secret.first(keyShownPrefixLength));
    k.createdBy = key.createdBy;
    k.createdMs = now;
    k.expiresMs = key.expiresMs;
    state.hash = hashOf(secret);
    std::lock_guard change(d->changeMutex);
    if (Status s = d->refreshLocked(); !s)
        return s.error();
    if (Status s = d->save(nullptr, state); !s)
        return s.error();
    d->audit(key.createdBy, QStringLiteral("apikey.create"), k.id);
    return IssuedKey {k, QString::fromLatin1(secret)};
}

Result<QList<ApiKey>> ApiKeys::list() const
{
    if (Status s = d->refresh(); !s)
        return s.error();
    QList<ApiKey> keys;
    std::shared_lock lock(d->mutex);
    keys.reserve(d->order.size());
    for (auto it = d->order.crbegin(); it != d->order.crend(); ++it)
        keys.append(d->snapshot(**it));
    // Creation order already is newest first unless the clock was set back; then time wins.
    std::stable_sort(keys.begin(), keys.end(),
                     [](const ApiKey &a, const ApiKey &b) { return a.createdMs > b.createdMs; });
    return keys;
}

Result<ApiKey> ApiKeys::get(const QString &id) const
{
    if (Status s = d->refresh(); !s)
        return s.error();
    return d->get(id);
}

Result<ApiKey> ApiKeys::update(const QString &id, const QJsonObject &changes, const QString &actor)
{
    std::lock_guard change(d->changeMutex);
    auto found = d->findChangeable(id, QStringLiteral("changed"));
    if (!found)
        return found.error();
    Entry *entry = *found;
    KeyState next = entry->state;
    QJsonObject problems;
    if (changes.contains(QStringLiteral("name")))
        checkName(changes.value(QStringLiteral("name")).toString(), problems, next.key.name);
    if (changes.contains(QStringLiteral("scopes")))
        checkScopes(stringList(changes.value(QStringLiteral("scopes"))), problems, next.key.scopes);
    if (changes.contains(QStringLiteral("allowedCidrs")))
        checkCidrs(stringList(changes.value(QStringLiteral("allowedCidrs"))), problems, next.key.allowedCidrs);
    // "expiresAt" is the request member; "expires" is what toJson() shows, so a key read, changed and
    // sent back works too.
    for (const QString &member : {QStringLiteral("expiresAt"), QStringLiteral("expires")}) {
        if (!changes.contains(member))
            continue;
        if (const auto expires = parseExpiry(changes.value(member))) {
            next.key.expiresMs = *expires;
            checkExpiry(*expires, d->clock.nowMs(), member, problems);
        } else {
            problems.insert(member,
                            fieldProblem(QStringLiteral("validation_invalid_datetime"),
                                         QStringLiteral("Must be a date, Unix milliseconds or null.")));
        }
        break;
    }
    if (!problems.isEmpty())
        return invalidFields(QStringLiteral("update"), problems);
    if (Status s = d->save(entry, next); !s)
        return s.error();
    d->audit(actor, QStringLiteral("apikey.update"), id);
    return d->get(id);
}

Result<ApiKey> ApiKeys::revoke(const QString &id, const QString &actor)
{
    std::lock_guard change(d->changeMutex);
    auto found = d->findCurrent(id);
    if (!found)
        return found.error();
    Entry *entry = *found;
    if (!entry->state.key.revokedMs) {
        KeyState next = entry->state;
        next.key.revokedMs = d->clock.nowMs();
        if (Status s = d->save(entry, next); !s)
            return s.error();
        d->audit(actor, QStringLiteral("apikey.revoke"), id);
    }
    return d->get(id);
}

Result<IssuedKey> ApiKeys::rotate(const QString &id, qint64 graceSeconds, const QString &actor)
{
    if (graceSeconds < 0 || graceSeconds > kMaxGraceSeconds)
        return invalidFields(QStringLiteral("rotate"),
                             {{QStringLiteral("graceSeconds"),
                               fieldProblem(QStringLiteral("validation_out_of_range"),
                                            QStringLiteral("Must be between 0 and %1.").arg(kMaxGraceSeconds))}});
    std::lock_guard change(d->changeMutex);
    auto found = d->findChangeable(id, QStringLiteral("rotated"));
    if (!found)
        return found.error();
    Entry *entry = *found;
    const QByteArray secret = generateKeySecret();
    KeyState next = entry->state;
    next.key.prefix = QString::fromLatin1(secret.first(keyShownPrefixLength));
    next.hash = hashOf(secret);
    // A second rotation inside a grace period ends the older secret at once: only one previous is kept.
    next.previousHash = graceSeconds > 0 ? entry->state.hash : QByteArray();
    next.key.previousSecretValidUntilMs
        = graceSeconds > 0 ? std::optional(d->clock.nowMs() + graceSeconds * 1000) : std::nullopt;
    if (Status s = d->save(entry, next); !s)
        return s.error();
    d->audit(actor, QStringLiteral("apikey.rotate"), id);
    auto key = d->get(id);
    if (!key)
        return key.error();
    return IssuedKey {*key, QString::fromLatin1(secret)};
}

std::variant<ApiKey, ApiKeys::Refusal> ApiKeys::authenticate(QByteArrayView secret, const QHostAddress &client)
{
    if (!checksumValid(secret))
        return Refusal::Malformed;
    // A hash-table lookup by SHA-256 leaks nothing useful through timing: learning which hash
    // prefixes exist does not help to find a secret that hashes to one.
    const QByteArray hash = hashOf(secret);
    return d->admit(client, [&hash, this](qint64 now) -> Entry * {
        Entry *entry = d->byHash.value(hash);
        if (entry && hash == entry->state.previousHash
            && !(entry->state.key.previousSecretValidUntilMs && now < *entry->state.key.previousSecretValidUntilMs))
            return nullptr;
        return entry;
    });
}

std::variant<ApiKey, ApiKeys::Refusal> ApiKeys::authenticateId(const QString &id, const QHostAddress &client)
{
    return d->admit(client, [&id, this](qint64) -> Entry * {
        const auto it = d->byId.find(id);
        return it == d->byId.end() ? nullptr : it->second.get();
    });
}

std::variant<ApiKey, ApiKeys::Refusal> ApiKeys::Private::admit(const QHostAddress &client,
                                                               const std::function<Entry *(qint64 now)> &find)
{
    if (Status s = ensureLoaded(); !s) {
        qCWarning(lcApiKeys) << "cannot load API keys:" << s.error().message;
        return Refusal::Unknown;
    }
    const qint64 now = clock.nowMs();
    scheduleCheck(now); // before the lookup: refusals (a key another process just created) queue it too
    ApiKey key;
    {
        std::shared_lock lock(mutex);
        Entry *entry = find(now);
        if (!entry)
            return Refusal::Unknown;
        const ApiKey &k = entry->state.key;
        if (k.revokedMs)
            return Refusal::Revoked;
        if (k.expiresMs && now >= *k.expiresMs)
            return Refusal::Expired;
        if (!addressAllowed(k.allowedCidrs, client))
            return Refusal::AddressNotAllowed;
        std::lock_guard guard(entry->usageMutex);
        Usage &usage = entry->usage;
        if (client != usage.fromAddress) { // spelled out only when it changes: toString() is not cheap
            usage.fromAddress = client;
            usage.from = unmappedAddress(client).toString();
        }
        usage.count += 1;
        usage.lastMs = now;
        usage.dirty = true;
        key = k;
        key.requestCount = usage.count;
        key.lastUsedMs = now;
        key.lastUsedFrom = usage.from;
    }
    qint64 due = nextFlushMs.load(std::memory_order_relaxed);
    if (now >= due && nextFlushMs.compare_exchange_strong(due, now + usageFlushMs))
        submitFlush();
    return key;
}

Status ApiKeys::flushUsage()
{
    return d->submitFlush().get();
}

bool ApiKeys::looksLikeKey(QByteArrayView text)
{
    return hasKeyShape(text);
}

bool ApiKeys::checksumValid(QByteArrayView text)
{
    return hasValidKeyChecksum(text);
}

} // namespace Outpost::Auth
