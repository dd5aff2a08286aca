#include "collections.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>

#include "collectionschema.h"
#include "filter.h"
#include "records.h"

Q_LOGGING_CATEGORY(lcCollections, "outpost.data")

namespace Outpost::Data {

namespace {

Result<Collection> fromRow(const Store::Statement &s)
{
    const QJsonObject json = QJsonDocument::fromJson(s.text(0).toUtf8()).object();
    auto c = collectionFromJson(json);
    if (!c)
        return makeError(ErrorCode::Internal,
                         QStringLiteral("stored collection %1 is invalid: %2")
                             .arg(json.value(u"name").toString(), c.error().message));
    c->created = s.text(1);
    c->updated = s.text(2);
    return c;
}

QByteArray definitionText(const Collection &c)
{
    return QJsonDocument(c.toJson()).toJson(QJsonDocument::Compact);
}

Status checkNameFree(Store::Database &db, const QString &name, const QString &ownId, const QString &ownName)
{
    auto taken = Schema::isSchemaNameTaken(db, name, ownName);
    if (!taken)
        return taken.error();
    auto other = loadCollection(db, name);
    if (*taken || (other && other->id != ownId))
        return collectionError(QStringLiteral("Failed to validate the collection."),
                               QJsonObject {{QStringLiteral("name"),
                                             fieldProblem(QStringLiteral("validation_collection_name_exists"),
                                                          QStringLiteral("Collection name must be unique."))}});
    return {};
}

// The index names must not collide with tables or indexes of other collections.
Status checkIndexNamesFree(Store::Database &db, const Collection &c, const QString &ownName)
{
    QJsonObject errors;
    for (qsizetype i = 0; i < c.indexes.size(); ++i) {
        auto taken = Schema::isSchemaNameTaken(db, c.indexes[i].name, ownName);
        if (!taken)
            return taken.error();
        if (*taken)
            errors.insert(QStringLiteral("indexes.%1").arg(i),
                          fieldProblem(QStringLiteral("validation_index_name_exists"),
                                       QStringLiteral("The index name \"%1\" is taken.").arg(c.indexes[i].name)));
    }
    if (!errors.isEmpty())
        return collectionError(QStringLiteral("Failed to validate the collection."), errors);
    return {};
}

// Relation fields name their target by id or name; the stored definition always holds the id.
Status resolveRelationTargets(Store::Database &db, Collection &c, const QJsonArray &submitted)
{
    // Errors name the position in the submitted list, which may lack the system fields.
    auto submittedIndex = [&submitted](const QString &name, qsizetype fallback) {
        for (qsizetype i = 0; i < submitted.size(); ++i)
            if (submitted[i].toObject().value(u"name").toString() == name)
                return i;
        return fallback;
    };
    QJsonObject errors;
    for (qsizetype i = 0; i < c.fields.size(); ++i) {
        Field &f = c.fields[i];
        if (f.type != FieldType::Relation)
            continue;
        if (f.collectionId == c.id || f.collectionId.compare(c.name, Qt::CaseInsensitive) == 0) {
            f.collectionId = c.id;
            continue;
        }
        auto target = loadCollection(db, f.collectionId);
        if (target)
            f.collectionId = target->id;
        else if (target.error().code == ErrorCode::NotFound)
            errors.insert(
                QStringLiteral("fields.%1.collectionId").arg(submittedIndex(f.name, i)),
                fieldProblem(
                    QStringLiteral("validation_missing_collection"),
                    QStringLiteral("The relation target collection \"%1\" does not exist.").arg(f.collectionId)));
        else
            return target.error();
    }
    if (!errors.isEmpty())
        return collectionError(QStringLiteral("Failed to validate the collection."), errors);
    return {};
}

// Every rule must compile against the collection as it will be (PocketBase refuses a bad rule
// when the collection is saved, not when a request first meets it).
Status checkRules(Store::Database &db, const Collection &c, const Clock &clock)
{
    auto all = allCollections(db);
    if (!all)
        return all.error();
    all->removeIf([&c](const Collection &other) { return other.id == c.id; });
    all->append(c);
    const CollectionSet set(std::move(all).value());
    const Collection &self = *set.find(c.id);
    const auto resolver = recordResolver(set, self, true);
    FilterContext context;
    context.clock = &clock;
    const std::pair<const char *, const std::optional<QString> *> rules[] = {{"listRule", &c.listRule},
                                                                             {"viewRule", &c.viewRule},
                                                                             {"createRule", &c.createRule},
                                                                             {"updateRule", &c.updateRule},
                                                                             {"deleteRule", &c.deleteRule}};
    QJsonObject errors;
    for (const auto &[key, rule] : rules) {
        if (!*rule || (*rule)->trimmed().isEmpty())
            continue;
        if (auto compiled = compileFilter(**rule, *resolver, context); !compiled)
            errors.insert(QLatin1String(key),
                          fieldProblem(QStringLiteral("validation_invalid_rule"),
                                       QStringLiteral("Invalid rule: %1").arg(compiled.error().message)));
    }
    if (!errors.isEmpty())
        return collectionError(QStringLiteral("Failed to validate the collection."), errors);
    return {};
}

Status insertRow(Store::Database &db, const Collection &c)
{
    auto s = db.prepare("INSERT INTO _collections(id, name, type, definition, created, updated)"
                        " VALUES (?, ?, ?, ?, ?, ?)");
    if (!s)
        return s.error();
    return s->bind(1, c.id)
        .bind(2, c.name)
        .bind(3, c.type)
        .bind(4, QString::fromUtf8(definitionText(c)))
        .bind(5, c.created)
        .bind(6, c.updated)
        .run();
}

// Without new indexes in a patch, PocketBase keeps the existing ones, following a renamed
// collection and renamed fields, and drops those on removed fields.
QJsonArray carriedIndexes(const Collection &existing, const QJsonObject &json)
{
    QHash<QString, QString> newNames; // field id -> name after the patch
    for (const QJsonValue &f : json.value(QStringLiteral("fields")).toArray())
        newNames.insert(f.toObject().value(QStringLiteral("id")).toString(),
                        f.toObject().value(QStringLiteral("name")).toString());
    QJsonArray indexes;
    for (CollectionIndex index : existing.indexes) {
        index.table = json.value(QStringLiteral("name")).toString();
        bool keep = true;
        for (CollectionIndex::Column &column : index.columns) {
            const Field *field = existing.field(column.name);
            keep = keep && field && (field->system || newNames.contains(field->id));
            if (keep && newNames.contains(field->id))
                column.name = newNames.value(field->id);
        }
        if (keep)
            indexes.append(index.toString());
    }
    return indexes;
}

// The definition `existing` would have after `patch`: only the keys a client may change.
QJsonObject patched(const Collection &existing, const QJsonObject &patch)
{
    QJsonObject json = existing.toJson();
    static const QString keys[]
        = {QStringLiteral("name"),       QStringLiteral("fields"),    QStringLiteral("indexes"),
           QStringLiteral("listRule"),   QStringLiteral("viewRule"),  QStringLiteral("createRule"),
           QStringLiteral("updateRule"), QStringLiteral("deleteRule")};
    for (const QString &key : keys)
        if (patch.contains(key))
            json.insert(key, patch.value(key));
    if (!patch.contains(QStringLiteral("indexes")))
        json.insert(QStringLiteral("indexes"), carriedIndexes(existing, json));
    return json;
}

} // namespace

Result<Collection> loadCollection(Store::Database &db, const QString &idOrName)
{
    auto s = db.prepare("SELECT definition, created, updated FROM _collections"
                        " WHERE id = ?1 OR name = ?1 COLLATE NOCASE ORDER BY id = ?1 DESC LIMIT 1");
    if (!s)
        return s.error();
    s->bind(1, idOrName);
    auto row = s->step();
    if (!row)
        return row.error();
    if (!*row)
        return makeError(ErrorCode::NotFound, QStringLiteral("Missing collection \"%1\".").arg(idOrName));
    return fromRow(*s);
}

namespace {

CollectionSet::SqlNames makeSqlNames(const Collection &c)
{
    // Every identifier reaching here comes from a validated collection definition.
    CollectionSet::SqlNames names {quoteIdentifier(c.name).value(), {}};
    QStringList columns;
    for (const Field &f : c.fields)
        columns.append(names.table + u'.' + quoteIdentifier(f.name).value());
    names.columns = columns.join(u',');
    return names;
}

} // namespace

CollectionSet::CollectionSet(QList<Collection> collections)
    : m_all(std::move(collections))
{
    for (qsizetype i = 0; i < m_all.size(); ++i) {
        m_byId.insert(m_all[i].id, i);
        m_byLowerName.insert(m_all[i].name.toLower(), i);
        const Collection &c = m_all[i];
        m_sql.append(makeSqlNames(c));
        for (const auto *rule : {&c.listRule, &c.viewRule, &c.createRule, &c.updateRule, &c.deleteRule}) {
            if (!*rule)
                continue;
            // Textual and so conservative: a mention inside a string literal only costs a lookup.
            m_rulesUseHeaders = m_rulesUseHeaders || (*rule)->contains(u"@request.headers", Qt::CaseInsensitive);
            m_rulesUseQuery = m_rulesUseQuery || (*rule)->contains(u"@request.query", Qt::CaseInsensitive);
        }
    }
}

CollectionSet::SqlNames CollectionSet::sqlNames(const Collection &c) const
{
    // Only for this set's own element: a copy with the same id may be another version of it.
    if (auto it = m_byId.constFind(c.id); it != m_byId.constEnd() && &m_all[*it] == &c)
        return m_sql[*it];
    return makeSqlNames(c);
}

const Collection *CollectionSet::find(const QString &idOrName) const
{
    if (auto it = m_byId.constFind(idOrName); it != m_byId.constEnd())
        return &m_all[*it];
    if (auto it = m_byLowerName.constFind(idOrName.toLower()); it != m_byLowerName.constEnd())
        return &m_all[*it];
    return nullptr;
}

Result<QList<Collection>> allCollections(Store::Database &db)
{
    QList<Collection> result;
    auto stmt = db.prepare("SELECT definition, created, updated FROM _collections ORDER BY name COLLATE NOCASE");
    if (!stmt)
        return stmt.error();
    for (;;) {
        auto row = stmt->step();
        if (!row)
            return row.error();
        if (!*row)
            return result;
        auto c = fromRow(*stmt);
        if (!c)
            return c.error();
        result.append(std::move(c).value());
    }
}

Collections::Collections(Store::Store &store, const Clock &clock)
    : m_store(store)
    , m_clock(clock)
{
}

QString Collections::now() const
{
    return m_clock.now().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) + u'Z';
}

void Collections::audit(const Store::AuditActor &actor, const QString &action, const Collection *before,
                        const Collection *after) const
{
    const auto definition
        = [](const Collection *c) { return c ? QJsonValue(c->toJson()) : QJsonValue(QJsonValue::Null); };
    m_store.auditLog().append({.timeMs = m_clock.nowMs(),
                               .actor = actor.label,
                               .action = action,
                               .target = (after ? after : before)->name,
                               .address = actor.address,
                               .success = true,
                               .details = QJsonObject {{QStringLiteral("before"), definition(before)},
                                                       {QStringLiteral("after"), definition(after)}}});
}

Result<Collection> Collections::create(const QJsonObject &definition, const Store::AuditActor &actor)
{
    auto parsed = collectionFromJson(definition);
    if (!parsed)
        return parsed.error();
    Collection c = std::move(parsed).value();
    c.system = false;
    c.created = c.updated = now();
    Status s = m_store.write([&c, &definition, this](Store::Database &db) -> Status {
        if (auto free = checkNameFree(db, c.name, c.id, {}); !free)
            return free;
        if (auto existing = loadCollection(db, c.id); existing)
            return collectionError(QStringLiteral("Failed to validate the collection."),
                                   QJsonObject {{QStringLiteral("id"),
                                                 fieldProblem(QStringLiteral("validation_invalid_id"),
                                                              QStringLiteral("The id is taken."))}});
        if (auto free = checkIndexNamesFree(db, c, {}); !free)
            return free;
        if (auto r = resolveRelationTargets(db, c, definition.value(u"fields").toArray()); !r)
            return r;
        if (auto r = checkRules(db, c, m_clock); !r)
            return r;
        if (auto r = insertRow(db, c); !r)
            return r;
        return Schema::createTable(db, c);
    });
    if (!s)
        return s.error();
    invalidate();
    audit(actor, QStringLiteral("collection.create"), nullptr, &c);
    qCInfo(lcCollections) << "created collection" << c.name << c.id;
    return c;
}

Result<QList<Collection>> Collections::list() const
{
    std::optional<Result<QList<Collection>>> result;
    Status s = m_store.read([&result](Store::Database &db) -> Status {
        result = allCollections(db);
        return {};
    });
    if (!s)
        return s.error();
    return *result;
}

Result<CollectionSnapshot> Collections::snapshot() const
{
    std::lock_guard lock(m_snapshotMutex);
    if (!m_snapshot) {
        auto all = list();
        if (!all)
            return all.error();
        m_snapshot = std::make_shared<const CollectionSet>(std::move(all).value());
    }
    return m_snapshot;
}

void Collections::invalidate()
{
    std::lock_guard lock(m_snapshotMutex);
    m_snapshot.reset();
}

Result<Collection> Collections::get(const QString &idOrName) const
{
    std::optional<Result<Collection>> result;
    Status s = m_store.read([&](Store::Database &db) -> Status {
        result = loadCollection(db, idOrName);
        return {};
    });
    if (!s)
        return s.error();
    return *result;
}

Result<Collection> Collections::update(const QString &idOrName, const QJsonObject &patch,
                                       const Store::AuditActor &actor)
{
    std::optional<Collection> previous;
    std::optional<Collection> updated;
    const QString timestamp = now();
    Status s = m_store.write([&](Store::Database &db) -> Status {
        auto before = loadCollection(db, idOrName);
        if (!before)
            return before.error();
        auto after = collectionFromJson(patched(*before, patch));
        if (!after)
            return after.error();
        if (before->system && after->name != before->name)
            return makeError(ErrorCode::PermissionDenied, QStringLiteral("System collections cannot be renamed."));
        after->updated = timestamp;
        if (auto free = checkNameFree(db, after->name, before->id, before->name); !free)
            return free;
        if (auto free = checkIndexNamesFree(db, *after, before->name); !free)
            return free;
        if (auto r = resolveRelationTargets(db, *after, patch.value(u"fields").toArray()); !r)
            return r;
        if (auto r = checkRules(db, *after, m_clock); !r)
            return r;
        if (auto r = Schema::alterTable(db, *before, *after); !r)
            return r;
        auto stmt = db.prepare("UPDATE _collections SET name = ?, definition = ?, updated = ? WHERE id = ?");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, after->name)
            .bind(2, QString::fromUtf8(definitionText(*after)))
            .bind(3, after->updated)
            .bind(4, after->id);
        previous = std::move(before).value();
        updated = std::move(after).value();
        return stmt->run();
    });
    if (!s)
        return s.error();
    invalidate();
    audit(actor, QStringLiteral("collection.update"), &*previous, &*updated);
    qCInfo(lcCollections) << "updated collection" << updated->name << updated->id;
    return *updated;
}

Status Collections::remove(const QString &idOrName, const Store::AuditActor &actor)
{
    std::optional<Collection> removed;
    Status s = m_store.write([&idOrName, &removed](Store::Database &db) -> Status {
        auto c = loadCollection(db, idOrName);
        if (!c)
            return c.error();
        removed = *c;
        if (c->system)
            return makeError(ErrorCode::PermissionDenied, QStringLiteral("System collections cannot be deleted."));
        auto others = allCollections(db);
        if (!others)
            return others.error();
        for (const Collection &other : *others) {
            if (other.id == c->id)
                continue;
            for (const Field &f : other.fields)
                if (f.type == FieldType::Relation && f.collectionId == c->id)
                    return collectionError(
                        QStringLiteral("The collection is referenced by the relation field \"%1.%2\"; remove or "
                                       "change that field first.")
                            .arg(other.name, f.name),
                        {});
        }
        auto stmt = db.prepare("DELETE FROM _collections WHERE id = ?");
        if (!stmt)
            return stmt.error();
        if (auto r = stmt->bind(1, c->id).run(); !r)
            return r;
        return db.exec((QStringLiteral("DROP TABLE ") + quoteIdentifier(c->name).value()).toUtf8().constData());
    });
    if (!s)
        return s;
    invalidate();
    audit(actor, QStringLiteral("collection.delete"), &*removed, nullptr);
    return s;
}

} // namespace Outpost::Data
