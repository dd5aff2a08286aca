#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

#include "../core/result.h"
#include "field.h"

namespace Outpost::Data {

// One index of a collection, parsed from PocketBase's index string. Only the shape
// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (col [ASC|DESC], ...)` is accepted, with
// identifiers bare or quoted by "", `` or [] and matching isValidIdentifier(); the SQL we run is
// regenerated from these parts, never the submitted text.
struct CollectionIndex
{
    struct Column
    {
        QString name;
        bool descending = false;
    };
    QString name;
    QString table;
    bool unique = false;
    QList<Column> columns;

    // InvalidArgument with a message saying what is wrong; nothing else is inspected.
    static Result<CollectionIndex> parse(const QString &sql);
    // PocketBase's canonical form with backtick-quoted identifiers (what we store and show).
    QString toString() const;
    // The statement to run on `table`; every identifier validated and double-quoted.
    QString createSql(const QString &table) const;
};

// The schema of a PocketBase v0.23-shaped base collection. A plain value; thread-safe to read.
struct Collection
{
    QString id;
    QString name;
    QString type = QStringLiteral("base");
    bool system = false;
    QList<Field> fields; // always holds the system fields id, created and updated
    QList<CollectionIndex> indexes;
    std::optional<QString> listRule, viewRule, createRule, updateRule, deleteRule; // nullopt = JSON null
    QString created;
    QString updated;

    // {id, name, type, system, fields, indexes, listRule, ..., created, updated}
    QJsonObject toJson() const;
    const Field *field(const QString &name) const;
    const Field *fieldById(const QString &id) const;
};

// Builds a collection from a submitted definition and checks everything that needs no database:
// name (valid identifier, not starting with "_" or "sqlite_"), type ("base" only), fields
// (Field::fromJson, duplicate names and ids), rules (string or null) and indexes (parsed, on this
// collection, naming existing fields). The system fields id/created/updated are added when absent.
// Fields and collection without an id get a new one. Reports every problem at once:
// InvalidArgument with details {"fields": {"name": {...}, "fields.2.name": {...}, "indexes.0": {...}}}
// whose values are {"code", "message"}. id, created, updated and system of the result are those of
// the definition (callers overwrite what the client may not set).
Result<Collection> collectionFromJson(const QJsonObject &definition);

// {"fields": {key: {"code", "message"}}} InvalidArgument with `message`.
Error collectionError(const QString &message, const QJsonObject &fields);
QJsonObject fieldProblem(const QString &code, const QString &message);

} // namespace Outpost::Data
