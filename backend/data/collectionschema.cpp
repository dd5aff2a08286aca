#include "collectionschema.h"

#include <QJsonArray>
#include <QJsonDocument>

#include "../core/clock.h"
#include "fieldvalidation.h"
#include "filter.h"

namespace Outpost::Data::Schema {

namespace {

constexpr int kMaxReportedRecords = 20;
const QString kRebuildTable = QStringLiteral("_outpost_rebuild"); // "_" names are never collections

QString quoted(const QString &identifier)
{
    // Callers pass only names that collectionFromJson() validated.
    return quoteIdentifier(identifier).value();
}

// Column types from Field::sqlType() with PocketBase's blank defaults, so ALTER TABLE ADD COLUMN
// gives existing rows a blank value rather than NULL.
QString columnDefinition(const Field &f)
{
    if (f.primaryKey)
        return quoted(f.name) + QStringLiteral(" TEXT PRIMARY KEY NOT NULL");
    QString def = quoted(f.name) + u' ' + f.sqlType();
    if (f.type == FieldType::Json)
        return def + QStringLiteral(" DEFAULT NULL");
    if (f.type == FieldType::Number || f.type == FieldType::Bool)
        return def + QStringLiteral(" DEFAULT 0 NOT NULL");
    return def + (f.isMultiple() ? QStringLiteral(" DEFAULT '[]' NOT NULL") : QStringLiteral(" DEFAULT '' NOT NULL"));
}

Status run(Store::Database &db, const QString &sql)
{
    return db.exec(sql.toUtf8().constData());
}

QString createTableSql(const QString &table, const QList<Field> &fields)
{
    QStringList columns;
    for (const Field &f : fields)
        columns.append(columnDefinition(f));
    return QStringLiteral("CREATE TABLE ") + quoted(table) + QStringLiteral(" (") + columns.join(QStringLiteral(", "))
        + u')';
}

Status createIndexes(Store::Database &db, const Collection &c)
{
    // An auth collection's identity and token key are unique (emails case-insensitively, as logins
    // compare them). Named after the collection's id, so a rename keeps them.
    if (c.type == u"auth") {
        const QString sql = QStringLiteral("CREATE UNIQUE INDEX IF NOT EXISTS %1 ON %2 (%3%4) WHERE %3 != ''");
        const QString table = quoted(c.name);
        const QString email = QStringLiteral("email"), tokenKey = QStringLiteral("tokenKey");
        if (auto s
            = run(db, sql.arg(quoted(u"idx_email_" + c.id), table, quoted(email), QStringLiteral(" COLLATE NOCASE")));
            !s)
            return s;
        if (auto s = run(db, sql.arg(quoted(u"idx_tokenKey_" + c.id), table, quoted(tokenKey), QString())); !s)
            return s;
    }
    for (qsizetype i = 0; i < c.indexes.size(); ++i)
        if (auto s = run(db, c.indexes[i].createSql(c.name)); !s)
            return collectionError(
                QStringLiteral("Failed to create an index."),
                QJsonObject {{QStringLiteral("indexes.%1").arg(i),
                              fieldProblem(QStringLiteral("validation_invalid_index_expression"), s.error().message)}});
    return {};
}

QJsonValue readColumn(const Store::Statement &s, int column, const Field &f)
{
    if (s.isNull(column))
        return QJsonValue(QJsonValue::Null);
    if (f.type == FieldType::Number)
        return s.real(column);
    if (f.type == FieldType::Bool)
        return s.int64(column) != 0;
    if (f.type == FieldType::Json || f.isMultiple()) {
        const QByteArray text = s.text(column).toUtf8();
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray("[") + text + ']');
        return doc.isArray() ? doc.array().at(0) : QJsonValue(s.text(column));
    }
    return s.text(column);
}

void bindValue(Store::Statement &s, int index, const Field &f, const QJsonValue &v)
{
    if (f.type == FieldType::Number)
        s.bind(index, v.toDouble());
    else if (f.type == FieldType::Bool)
        s.bind(index, qint64(v.toBool() ? 1 : 0));
    else if (f.type == FieldType::Json && v.isNull())
        s.bindNull(index);
    else if (f.type == FieldType::Json || f.isMultiple())
        s.bind(index,
               QString::fromUtf8(QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact).chopped(1).mid(1)));
    else
        s.bind(index, v.toString());
}

// Fields whose stored values must be revalidated: same id, different type or options.
bool needsValidation(const Field &before, const Field &after)
{
    Field renamed = before;
    renamed.name = after.name;
    return !(renamed == after) && !after.system;
}

struct Failure
{
    int fieldIndex = 0;
    QString field;
    QString code;
    QString message;
    QJsonArray records;
};

Error failureError(const QList<Failure> &failures)
{
    QJsonObject fields;
    for (const Failure &f : failures)
        fields.insert(
            QStringLiteral("fields.%1").arg(f.fieldIndex),
            QJsonObject {
                {QStringLiteral("code"), QStringLiteral("validation_existing_records_invalid")},
                {QStringLiteral("message"),
                 QStringLiteral("Existing records fail the new definition of \"%1\": %2").arg(f.field, f.message)},
                {QStringLiteral("field"), f.field},
                {QStringLiteral("records"), f.records}});
    const Failure &first = failures.first();
    return makeError(
        ErrorCode::InvalidArgument,
        QStringLiteral("Cannot change field \"%1\": existing records would fail validation.").arg(first.field),
        QJsonObject {{QStringLiteral("fields"), fields},
                     {QStringLiteral("field"), first.field},
                     {QStringLiteral("records"), first.records}});
}

// The kept fields of `after` (matched by id in `before`), as pairs of (before, after) with indexes.
struct Kept
{
    const Field *before;
    const Field *after;
    int afterIndex;
};

QList<Kept> keptFields(const Collection &before, const Collection &after)
{
    QList<Kept> kept;
    for (int i = 0; i < after.fields.size(); ++i)
        if (const Field *old = before.fieldById(after.fields[i].id))
            kept.append(Kept {old, &after.fields[i], i});
    return kept;
}

// Copies every row of `from` into the rebuild table, converting and validating changed fields.
Status copyRows(Store::Database &db, const QString &from, const QList<Kept> &kept)
{
    QStringList selectCols, insertCols, marks;
    for (const Kept &k : kept) {
        selectCols.append(quoted(k.before->name));
        insertCols.append(quoted(k.after->name));
        marks.append(QStringLiteral("?"));
    }
    auto select = db.prepare((QStringLiteral("SELECT ") + selectCols.join(u',') + QStringLiteral(" FROM ")
                              + quoted(from) + QStringLiteral(" ORDER BY rowid"))
                                 .toUtf8()
                                 .constData());
    auto insert = db.prepare((QStringLiteral("INSERT INTO ") + quoted(kRebuildTable) + u'(' + insertCols.join(u',')
                              + QStringLiteral(") VALUES (") + marks.join(u',') + u')')
                                 .toUtf8()
                                 .constData());
    if (!select)
        return select.error();
    if (!insert)
        return insert.error();
    QList<Failure> failures(kept.size());
    int idColumn = 0;
    for (int k = 0; k < kept.size(); ++k)
        if (kept[k].after->primaryKey)
            idColumn = k;
    for (;;) {
        auto row = select->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        insert->reset();
        bool rowFailed = false;
        for (int k = 0; k < kept.size(); ++k) {
            QJsonValue value = readColumn(*select, k, *kept[k].before);
            if (needsValidation(*kept[k].before, *kept[k].after)) {
                auto checked = validateValue(*kept[k].after, value);
                if (!checked) {
                    Failure &f = failures[k];
                    f.fieldIndex = kept[k].afterIndex;
                    f.field = kept[k].after->name;
                    f.message = checked.error().message;
                    if (f.records.size() < kMaxReportedRecords)
                        f.records.append(select->text(idColumn));
                    rowFailed = true;
                    continue;
                }
                value = *checked;
            }
            bindValue(*insert, k + 1, *kept[k].after, value);
        }
        if (rowFailed)
            continue; // keep scanning so the error names every offending record (up to the limit)
        if (auto s = insert->run(); !s)
            return s;
    }
    failures.removeIf([](const Failure &f) { return f.field.isEmpty(); });
    if (!failures.isEmpty())
        return failureError(failures);
    return {};
}

Status rebuild(Store::Database &db, const Collection &before, const Collection &after)
{
    if (auto s = run(db, createTableSql(kRebuildTable, after.fields)); !s)
        return s;
    if (auto s = copyRows(db, before.name, keptFields(before, after)); !s)
        return s;
    if (auto s = run(db, QStringLiteral("DROP TABLE ") + quoted(before.name)); !s)
        return s;
    return run(db,
               QStringLiteral("ALTER TABLE ") + quoted(kRebuildTable) + QStringLiteral(" RENAME TO ")
                   + quoted(after.name));
}

} // namespace

Status createTable(Store::Database &db, const Collection &collection)
{
    if (auto s = run(db, createTableSql(collection.name, collection.fields)); !s)
        return s;
    return createIndexes(db, collection);
}

Status alterTable(Store::Database &db, const Collection &before, const Collection &after)
{
    for (const CollectionIndex &index : before.indexes)
        if (auto s = run(db, QStringLiteral("DROP INDEX IF EXISTS ") + quoted(index.name)); !s)
            return s;
    bool onlyAdditions = true;
    for (const Field &old : before.fields) {
        const Field *now = after.fieldById(old.id);
        onlyAdditions = onlyAdditions && now && *now == old;
    }
    if (!onlyAdditions) {
        if (auto s = rebuild(db, before, after); !s)
            return s;
        return createIndexes(db, after);
    }
    if (before.name != after.name)
        if (auto s = run(db,
                         QStringLiteral("ALTER TABLE ") + quoted(before.name) + QStringLiteral(" RENAME TO ")
                             + quoted(after.name));
            !s)
            return s;
    for (const Field &f : after.fields)
        if (!before.fieldById(f.id))
            if (auto s = run(db,
                             QStringLiteral("ALTER TABLE ") + quoted(after.name) + QStringLiteral(" ADD COLUMN ")
                                 + columnDefinition(f));
                !s)
                return s;
    return createIndexes(db, after);
}

Result<bool> isSchemaNameTaken(Store::Database &db, const QString &name, const QString &ignoredTable)
{
    auto s = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = ? COLLATE NOCASE"
                        " AND NOT (tbl_name = ? COLLATE NOCASE)");
    if (!s)
        return s.error();
    s->bind(1, name).bind(2, ignoredTable);
    auto row = s->step();
    if (!row)
        return row.error();
    return s->int64(0) > 0;
}

} // namespace Outpost::Data::Schema
