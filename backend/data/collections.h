#pragma once

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <memory>
#include <mutex>

#include "../core/clock.h"
#include "../core/result.h"
#include "../store/store.h"
#include "collection.h"

namespace Outpost::Data {

// Every collection at one moment, immutable: what request handlers read instead of querying
// `_collections` per request. Thread-safe to share.
class CollectionSet
{
public:
    explicit CollectionSet(QList<Collection> collections);
    // By id, or by name (case-insensitive); nullptr when absent.
    const Collection *find(const QString &idOrName) const;
    const QList<Collection> &all() const { return m_all; }
    // Whether any rule of the set mentions @request.headers / @request.query: building those
    // objects for every request was the largest cost of an anonymous read's context.
    bool rulesUseRequestHeaders() const { return m_rulesUseHeaders; }
    bool rulesUseRequestQuery() const { return m_rulesUseQuery; }

    // The SQL spellings of a collection, made once per set: rebuilding them for every request was
    // a tenth of a by-id read. `columns` lists every field as "table"."field", in field order.
    struct SqlNames
    {
        QString table;
        QString columns;
    };
    // Cached for the set's own elements (find(), all()); computed on the spot for any copy.
    SqlNames sqlNames(const Collection &c) const;

private:
    QList<Collection> m_all;
    bool m_rulesUseHeaders = false;
    bool m_rulesUseQuery = false;
    QList<SqlNames> m_sql; // parallel to m_all
    QHash<QString, qsizetype> m_byId;
    QHash<QString, qsizetype> m_byLowerName;
};
using CollectionSnapshot = std::shared_ptr<const CollectionSet>;

// The schema side of collections: their definitions in data.db's `_collections` table and the
// real table of each (columns from the fields, indexes from the parsed index strings).
//
// Threads: every method is thread-safe. create(), update() and remove() run one write transaction
// each and block on the writer (and on fsync): call them on a worker thread, never on a network
// thread. list() and get() use a pooled reader (Store::read) and are fine anywhere.
//
// Errors: InvalidArgument with details {"fields": {key: {"code", "message"}}} for a bad
// definition, keyed PocketBase-style ("name", "fields.2.name", "indexes.0"); NotFound for an
// unknown id or name; Unavailable/Internal from the store. A failed write changes nothing.
//
// Every committed change is audited (Store::AuditLog) in `actor`'s name: action collection.create,
// collection.update or collection.delete, target the collection's name (after a rename, the new
// one), details {before, after}: the definitions (toJson()), null for the side that does not exist.
class Collections
{
public:
    // Both are borrowed and must outlive this object.
    Collections(Store::Store &store, const Clock &clock);

    // Validates `definition` (see collectionFromJson()), checks that the name is free (code
    // validation_collection_name_exists), assigns ids and timestamps, then in one transaction
    // stores the definition and creates the table and its indexes.
    Result<Collection> create(const QJsonObject &definition, const Store::AuditActor &actor = {});

    // Every collection, ordered by name.
    Result<QList<Collection>> list() const;
    // By id, or by name (case-insensitive).
    Result<Collection> get(const QString &idOrName) const;
    // The current set, reloaded after each successful create/update/remove (and on first use).
    Result<CollectionSnapshot> snapshot() const;

    // Applies the keys present in `patch` (name, fields, indexes, the rules) to the collection.
    // Fields are matched by id: a field with an unknown or no id is added, a missing one removed,
    // a matched one renamed or changed. Existing values of changed fields are converted and
    // validated; if any row fails, nothing changes and the error names the field and up to 20
    // record ids (see Schema::alterTable()). id, type, system and created cannot change.
    Result<Collection> update(const QString &idOrName, const QJsonObject &patch, const Store::AuditActor &actor = {});

    // Drops the table and the definition in one transaction. System collections are refused
    // (PermissionDenied).
    Status remove(const QString &idOrName, const Store::AuditActor &actor = {});

private:
    QString now() const;
    void audit(const Store::AuditActor &actor, const QString &action, const Collection *before,
               const Collection *after) const;
    void invalidate();

    mutable std::mutex m_snapshotMutex;
    mutable CollectionSnapshot m_snapshot;

    Store::Store &m_store;
    const Clock &m_clock;
};

// Loads one collection by id or name with `db`; NotFound when absent. For callers already inside
// a Store::read()/write() callback.
Result<Collection> loadCollection(Store::Database &db, const QString &idOrName);
// Every collection, ordered by name, read with `db`.
Result<QList<Collection>> allCollections(Store::Database &db);

} // namespace Outpost::Data
