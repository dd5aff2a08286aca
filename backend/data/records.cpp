#include "records.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QVarLengthArray>
#include <algorithm>

#include "../core/jsonwriter.h"
#include "fieldvalidation.h"

namespace Outpost::Data {

namespace {

QString quoted(const QString &identifier)
{
    // Every identifier reaching here comes from a validated collection definition.
    return quoteIdentifier(identifier).value();
}

QJsonObject fieldProblemFor(const QString &field, const QString &code, const QString &message)
{
    return QJsonObject {{field, fieldProblem(code, message)}};
}

// Field paths of filters, sorts and rules, resolved against a collection. Relation paths become
// correlated subqueries; paths into a json field use json_extract with a path built from validated
// identifiers only.
class RecordResolver final : public FieldResolver
{
public:
    RecordResolver(const CollectionSet &set, const Collection &c, bool allowHidden)
        : m_set(set)
        , m_collection(c)
        , m_allowHidden(allowHidden)
    {
    }

    Result<ResolvedField> resolve(const QStringList &path) const override
    {
        return resolveIn(m_collection, quoted(m_collection.name), path, 1);
    }

private:
    Result<ResolvedField> resolveIn(const Collection &c, const QString &table, const QStringList &path, int depth) const
    {
        const Field *f = c.field(path.first());
        if (!f || f->isSecret() || (f->hidden && !m_allowHidden))
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("unknown field \"%1\" in collection \"%2\"").arg(path.first(), c.name));
        const QString column = table + u'.' + quoted(f->name);
        if (path.size() == 1)
            return ResolvedField {column, f->isMultiple()};
        if (f->type == FieldType::Json) {
            QString jsonPath = QStringLiteral("$");
            for (qsizetype i = 1; i < path.size(); ++i)
                jsonPath += u'.' + path[i]; // identifiers only: safe inside the quoted literal
            return ResolvedField {QStringLiteral("json_extract(%1, '%2')").arg(column, jsonPath), false};
        }
        if (f->type != FieldType::Relation)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("\"%1\" is not a relation or json field").arg(f->name));
        if (depth > kMaxExpandDepth)
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("the field path is nested too deeply"));
        const Collection *target = m_set.find(f->collectionId);
        if (!target)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("the relation target of \"%1\" no longer exists").arg(f->name));
        const QString alias = quoted(QStringLiteral("_r%1").arg(depth));
        auto inner = resolveIn(*target, alias, path.mid(1), depth + 1);
        if (!inner)
            return inner;
        const QString from = quoted(target->name) + QStringLiteral(" AS ") + alias;
        if (!f->isMultiple())
            return ResolvedField {QStringLiteral("(SELECT %1 FROM %2 WHERE %3.\"id\" = %4)")
                                      .arg(inner->sqlExpression, from, alias, column),
                                  inner->multiple};
        return ResolvedField {QStringLiteral("(SELECT json_group_array(%1) FROM %2 WHERE %3.\"id\" IN "
                                             "(SELECT value FROM json_each(%4)))")
                                  .arg(inner->sqlExpression, from, alias, column),
                              true};
    }

    const CollectionSet &m_set;
    const Collection &m_collection;
    bool m_allowHidden;
};

// A WHERE clause assembled from parts, with its parameters in order.
struct Where
{
    QStringList parts;
    QVariantList params;

    void add(const CompiledFilter &f)
    {
        parts.append(u'(' + f.sql + u')');
        params += f.params;
    }
    QString sql() const { return parts.isEmpty() ? QString() : QStringLiteral(" WHERE ") + parts.join(u" AND "); }
};

using Store::ResetOnExit;

void bindAll(Store::Statement &s, const QVariantList &params, int first = 1)
{
    for (qsizetype i = 0; i < params.size(); ++i)
        s.bind(first + int(i), params[i]);
}

Status ruleCondition(const std::optional<QString> &rule, const CollectionSet &set, const Collection &c,
                     const Access &access, Where &where)
{
    if (access.superuser)
        return {};
    if (!rule)
        return makeError(ErrorCode::PermissionDenied, QStringLiteral("Only superusers can perform this action."));
    if (rule->trimmed().isEmpty())
        return {};
    RecordResolver resolver(set, c, true);
    auto compiled = compileFilter(*rule, resolver, access.context);
    if (!compiled)
        return makeError(ErrorCode::Internal,
                         QStringLiteral("The collection's rule is invalid: %1").arg(compiled.error().message));
    where.add(*compiled);
    return {};
}

QJsonValue parseJsonText(const QString &text)
{
    if (text.isEmpty())
        return QJsonValue::Null;
    // QJsonDocument only parses objects and arrays at the top level: wrap scalars.
    const QJsonDocument doc = QJsonDocument::fromJson((u'[' + text + u']').toUtf8());
    return doc.isArray() && !doc.array().isEmpty() ? doc.array().first() : QJsonValue(QJsonValue::Null);
}

QJsonValue columnValue(const Store::Statement &s, int column, const Field &f)
{
    switch (f.type) {
    case FieldType::Number:
        return s.real(column);
    case FieldType::Bool:
        return s.int64(column) != 0;
    case FieldType::Json:
        return s.isNull(column) ? QJsonValue(QJsonValue::Null) : parseJsonText(s.text(column));
    case FieldType::Select:
    case FieldType::Relation:
        if (f.isMultiple()) {
            const QJsonDocument doc = QJsonDocument::fromJson(s.text(column).toUtf8());
            return doc.isArray() ? doc.array() : QJsonArray();
        }
        return s.text(column);
    default:
        return s.text(column);
    }
}

// A row's stored values for the audit log: every field auditedField() keeps, hidden ones included.
QJsonObject auditValues(const Store::Statement &s, const Collection &c)
{
    QJsonObject values;
    for (qsizetype i = 0; i < c.fields.size(); ++i)
        if (auditedField(c.fields[i]))
            values.insert(c.fields[i].name, columnValue(s, int(i), c.fields[i]));
    return values;
}

// Whether `f` of a row of `c` is left out for `access`: secrets always, hidden fields unless the
// caller is a superuser, and an auth record's email unless it is the caller's own record or its
// owner made it visible (`emailVisible`: the row's emailVisibility).
bool leftOut(const Collection &c, const Field &f, const Access &access, bool emailVisible, const QString &rowId)
{
    if (f.isSecret() || (f.hidden && !access.superuser))
        return true;
    if (access.superuser || !f.system || f.name != u"email" || c.type != u"auth" || emailVisible)
        return false;
    const QJsonObject &auth = access.context.auth;
    return auth.value(u"collectionId").toString() != c.id || auth.value(u"id").toString() != rowId;
}

// What leftOut() needs to know of a row of an auth collection (the rest do not look).
struct RowFacts
{
    bool emailVisible = true;
    QString id;
};
RowFacts rowFacts(const Store::Statement &s, const Collection &c, const Access &access)
{
    RowFacts facts;
    if (c.type != u"auth" || access.superuser)
        return facts;
    facts.emailVisible = false;
    for (qsizetype i = 0; i < c.fields.size(); ++i) {
        if (c.fields[i].primaryKey)
            facts.id = s.text(int(i));
        else if (c.fields[i].system && c.fields[i].name == u"emailVisibility")
            facts.emailVisible = s.int64(int(i)) != 0;
    }
    return facts;
}

QJsonObject rowToRecord(const Store::Statement &s, const Collection &c, const Access &access)
{
    const RowFacts facts = rowFacts(s, c, access);
    QJsonObject record {{QStringLiteral("collectionId"), c.id}, {QStringLiteral("collectionName"), c.name}};
    for (qsizetype i = 0; i < c.fields.size(); ++i) {
        const Field &f = c.fields[i];
        if (leftOut(c, f, access, facts.emailVisible, facts.id))
            continue;
        record.insert(f.name, columnValue(s, int(i), f));
    }
    return record;
}

// columnValue() as JSON text; the common types go straight from SQLite's buffers.
void appendColumn(QByteArray &json, const Store::Statement &s, int column, const Field &f)
{
    switch (f.type) {
    case FieldType::Number:
        Json::appendNumber(json, s.real(column));
        return;
    case FieldType::Bool:
        json.append(s.int64(column) != 0 ? QByteArrayView("true") : QByteArrayView("false"));
        return;
    case FieldType::Json:
        break;
    case FieldType::Select:
    case FieldType::Relation:
        if (f.isMultiple())
            break;
        Json::appendUtf8(json, s.utf8(column));
        return;
    default:
        Json::appendUtf8(json, s.utf8(column));
        return;
    }
    Json::appendValue(json, columnValue(s, column, f));
}

// rowToRecord(), written as JSON text directly, byte for byte what QJsonDocument makes of it
// (members in QJsonObject's order: sorted by key).
QByteArray rowToJson(const Store::Statement &s, const Collection &c, const Access &access)
{
    const RowFacts facts = rowFacts(s, c, access);
    struct Member
    {
        QStringView key;
        qsizetype field; // -1: collectionId, -2: collectionName
    };
    QVarLengthArray<Member, 32> members;
    members.append({u"collectionId", -1});
    members.append({u"collectionName", -2});
    for (qsizetype i = 0; i < c.fields.size(); ++i)
        if (!leftOut(c, c.fields[i], access, facts.emailVisible, facts.id))
            members.append({c.fields[i].name, i});
    std::sort(members.begin(), members.end(), [](const Member &a, const Member &b) { return a.key < b.key; });
    QByteArray json;
    json.reserve(256);
    json.append('{');
    for (const Member &m : members) {
        if (json.size() > 1)
            json.append(',');
        Json::appendString(json, m.key);
        json.append(':');
        if (m.field == -1)
            Json::appendString(json, c.id);
        else if (m.field == -2)
            Json::appendString(json, c.name);
        else
            appendColumn(json, s, int(m.field), c.fields[m.field]);
    }
    json.append('}');
    return json;
}

// A value as SQLite stores it for `f` (see Field::sqlType()).
QVariant storedValue(const Field &f, const QJsonValue &v)
{
    switch (f.type) {
    case FieldType::Number:
        return v.toDouble();
    case FieldType::Bool:
        return qint64(v.toBool() ? 1 : 0);
    case FieldType::Json:
        if (v.isNull() || v.isUndefined())
            return QVariant();
        if (v.isArray())
            return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
        if (v.isObject())
            return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
        {
            const QByteArray wrapped = QJsonDocument(QJsonArray {v}).toJson(QJsonDocument::Compact);
            return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
        }
    case FieldType::Select:
    case FieldType::Relation:
        if (f.isMultiple())
            return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
        return v.toString();
    default:
        return v.toString();
    }
}

// "UNIQUE constraint failed: posts.slug" -> a field error on "slug" (the first column).
Error mapWriteError(const Error &e, const Collection &c, const QString &message)
{
    if (e.code != ErrorCode::Conflict)
        return e;
    static const QRegularExpression unique(QStringLiteral("UNIQUE constraint failed: ([^ ,]+)\\.([A-Za-z0-9_]+)"));
    const auto m = unique.match(e.message);
    const QString field = m.hasMatch() && c.field(m.captured(2)) ? m.captured(2) : QStringLiteral("id");
    return makeError(ErrorCode::InvalidArgument, message,
                     QJsonObject {{QStringLiteral("fields"),
                                   fieldProblemFor(field, QStringLiteral("validation_not_unique"),
                                                   QStringLiteral("Value must be unique."))}});
}

// Every relation id in `values` must exist in its target collection.
Status checkRelations(Store::Database &db, const CollectionSet &set, const Collection &c, const QJsonObject &values,
                      const QString &message)
{
    QJsonObject errors;
    for (const Field &f : c.fields) {
        if (f.type != FieldType::Relation || !values.contains(f.name))
            continue;
        const QJsonValue v = values.value(f.name);
        QJsonArray ids = f.isMultiple() ? v.toArray() : QJsonArray();
        if (!f.isMultiple() && !v.toString().isEmpty())
            ids.append(v);
        if (ids.isEmpty())
            continue;
        const Collection *target = set.find(f.collectionId);
        if (!target) {
            errors.insert(f.name,
                          fieldProblem(QStringLiteral("validation_missing_rel_records"),
                                       QStringLiteral("The relation's collection no longer exists.")));
            continue;
        }
        auto s
            = db.cachedQuery(QStringLiteral("SELECT COUNT(*) FROM %1 WHERE \"id\" IN (SELECT value FROM json_each(?))")
                                 .arg(quoted(target->name)));
        if (!s)
            return s.error();
        ResetOnExit resetS(**s);
        (*s)->bind(1, QString::fromUtf8(QJsonDocument(ids).toJson(QJsonDocument::Compact)));
        auto row = (*s)->step();
        if (!row)
            return row.error();
        const qint64 found = (*s)->int64(0);
        if (found != ids.size())
            errors.insert(f.name,
                          fieldProblem(QStringLiteral("validation_missing_rel_records"),
                                       QStringLiteral("Failed to find all relation records with the provided ids.")));
    }
    if (!errors.isEmpty())
        return makeError(ErrorCode::InvalidArgument, message, QJsonObject {{QStringLiteral("fields"), errors}});
    return {};
}

// "a,b.c,b.d" -> {a: {}, b: {c: {}, d: {}}}
struct ExpandNode
{
    QMap<QString, ExpandNode> children;
};

QMap<QString, ExpandNode> parseExpand(const QString &expand)
{
    QMap<QString, ExpandNode> tree;
    for (const QString &item : expand.split(u',', Qt::SkipEmptyParts)) {
        QMap<QString, ExpandNode> *level = &tree;
        int depth = 0;
        for (const QString &part : item.trimmed().split(u'.', Qt::SkipEmptyParts)) {
            if (++depth > kMaxExpandDepth)
                break;
            level = &(*level)[part.trimmed()].children;
        }
    }
    return tree;
}

// Loads records of `c` by id that `access` may view; ids the rule hides are left out.
Result<QHash<QString, QJsonObject>> loadByIds(Store::Database &db, const CollectionSet &set, const Collection &c,
                                              const QStringList &ids, const Access &access)
{
    Where where;
    if (auto s = ruleCondition(c.viewRule, set, c, access, where); !s)
        return s.error();
    where.parts.prepend(QStringLiteral("(\"id\" IN (SELECT value FROM json_each(?)))"));
    const auto names = set.sqlNames(c);
    const QString &table = names.table;
    auto s = db.cachedQuery(QStringLiteral("SELECT %1 FROM %2%3").arg(names.columns, table, where.sql()));
    if (!s)
        return s.error();
    ResetOnExit resetS(**s);
    (*s)->bind(1, QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(ids)).toJson(QJsonDocument::Compact)));
    bindAll(**s, where.params, 2);
    QHash<QString, QJsonObject> found;
    for (;;) {
        auto row = (*s)->step();
        if (!row)
            return row.error();
        if (!*row)
            break;
        QJsonObject r = rowToRecord(**s, c, access);
        found.insert(r.value(u"id").toString(), std::move(r));
    }
    return found;
}

Status expandRecords(Store::Database &db, const CollectionSet &set, const Collection &c, QList<QJsonObject> &records,
                     const QMap<QString, ExpandNode> &tree, const Access &access)
{
    for (auto it = tree.begin(); it != tree.end(); ++it) {
        const Field *f = c.field(it.key());
        if (!f || f->type != FieldType::Relation || (f->hidden && !access.superuser))
            continue; // as PocketBase: an expand that cannot apply is left out, not an error
        const Collection *target = set.find(f->collectionId);
        if (!target || (!target->viewRule && !access.superuser))
            continue;
        QStringList ids;
        for (const QJsonObject &r : records) {
            const QJsonValue v = r.value(f->name);
            if (v.isArray()) {
                for (const QJsonValue &id : v.toArray())
                    ids.append(id.toString());
            } else if (!v.toString().isEmpty()) {
                ids.append(v.toString());
            }
        }
        ids.removeDuplicates();
        if (ids.isEmpty())
            continue;
        auto loaded = loadByIds(db, set, *target, ids, access);
        if (!loaded)
            return loaded.error();
        if (!it->children.isEmpty()) {
            QList<QJsonObject> related = loaded->values();
            if (auto s = expandRecords(db, set, *target, related, it->children, access); !s)
                return s;
            for (QJsonObject &r : related)
                (*loaded)[r.value(u"id").toString()] = r;
        }
        for (QJsonObject &r : records) {
            const QJsonValue v = r.value(f->name);
            QJsonValue expanded;
            if (f->isMultiple()) {
                QJsonArray list;
                for (const QJsonValue &id : v.toArray())
                    if (auto found = loaded->constFind(id.toString()); found != loaded->constEnd())
                        list.append(*found);
                if (list.isEmpty())
                    continue;
                expanded = list;
            } else {
                auto found = loaded->constFind(v.toString());
                if (found == loaded->constEnd())
                    continue;
                expanded = *found;
            }
            QJsonObject expand = r.value(u"expand").toObject();
            expand.insert(f->name, expanded);
            r.insert(QStringLiteral("expand"), expand);
        }
    }
    return {};
}

// fields=... as a tree of keys; "*" keeps every key of its level. A leaf may carry the
// ":excerpt(max[,withEllipsis])" modifier.
struct PickNode
{
    bool all = false;
    QMap<QString, PickNode> children;
    int excerpt = -1;
    bool ellipsis = false;
    bool leaf = false;
};

Result<PickNode> parseFields(const QString &fields)
{
    static const QRegularExpression excerpt(
        QStringLiteral("^([A-Za-z0-9_*.]+):excerpt\\(\\s*(\\d+)\\s*(?:,\\s*(true|false|1|0)\\s*)?\\)$"));
    PickNode root;
    // Commas inside excerpt(...) are not separators.
    QStringList items;
    QString current;
    int parens = 0;
    for (QChar ch : fields) {
        if (ch == u'(')
            ++parens;
        else if (ch == u')')
            --parens;
        if (ch == u',' && parens == 0) {
            items.append(current);
            current.clear();
        } else {
            current += ch;
        }
    }
    items.append(current);
    for (QString item : items) {
        item = item.trimmed();
        if (item.isEmpty())
            continue;
        int max = -1;
        bool ellipsis = false;
        if (item.contains(u':')) {
            const auto m = excerpt.match(item);
            if (!m.hasMatch())
                return makeError(ErrorCode::InvalidArgument,
                                 QStringLiteral("fields: unsupported modifier in \"%1\"").arg(item));
            item = m.captured(1);
            max = m.captured(2).toInt();
            ellipsis = m.captured(3) == u"true" || m.captured(3) == u"1";
        }
        PickNode *node = &root;
        const QStringList parts = item.split(u'.');
        for (qsizetype i = 0; i < parts.size(); ++i) {
            if (parts[i] == u"*") {
                node->all = true;
                break;
            }
            node = &node->children[parts[i]];
            if (i == parts.size() - 1) {
                node->leaf = true;
                node->excerpt = max;
                node->ellipsis = ellipsis;
            }
        }
    }
    return root;
}

QString excerptOf(const QString &text, int max, bool ellipsis)
{
    static const QRegularExpression tags(QStringLiteral("<[^>]*>"));
    QString plain = QString(text).remove(tags).simplified();
    if (plain.size() <= max)
        return plain;
    plain.truncate(max);
    return ellipsis ? plain.trimmed() + QStringLiteral("...") : plain;
}

QJsonValue applyPick(const QJsonValue &value, const PickNode &node);

QJsonObject applyPickObject(const QJsonObject &object, const PickNode &node)
{
    if (node.children.isEmpty() && (node.all || node.leaf))
        return object;
    QJsonObject out;
    if (node.all)
        out = object;
    for (auto it = node.children.begin(); it != node.children.end(); ++it) {
        if (!object.contains(it.key()))
            continue;
        const QJsonValue v = object.value(it.key());
        if (it->excerpt >= 0 && v.isString())
            out.insert(it.key(), excerptOf(v.toString(), it->excerpt, it->ellipsis));
        else if (it->children.isEmpty() && !it->all)
            out.insert(it.key(), v);
        else
            out.insert(it.key(), applyPick(v, *it));
    }
    return out;
}

QJsonValue applyPick(const QJsonValue &value, const PickNode &node)
{
    if (value.isObject())
        return applyPickObject(value.toObject(), node);
    if (value.isArray()) {
        QJsonArray out;
        for (const QJsonValue &v : value.toArray())
            out.append(applyPick(v, node));
        return out;
    }
    return value;
}

Status shapeRecords(Store::Database &db, const CollectionSet &set, const Collection &c, QList<QJsonObject> &records,
                    const Shape &shape, const Access &access)
{
    if (!shape.expand.trimmed().isEmpty())
        if (auto s = expandRecords(db, set, c, records, parseExpand(shape.expand), access); !s)
            return s;
    if (!shape.fields.trimmed().isEmpty()) {
        auto pick = parseFields(shape.fields);
        if (!pick)
            return pick.error();
        for (QJsonObject &r : records)
            r = applyPickObject(r, *pick);
    }
    return {};
}

// ORDER BY text for a PocketBase sort expression.
Result<QString> orderBy(const QString &sort, const RecordResolver &resolver, const QString &table)
{
    QStringList terms;
    bool lastDescending = false;
    for (QString item : sort.split(u',', Qt::SkipEmptyParts)) {
        item = item.trimmed();
        bool descending = false;
        if (item.startsWith(u'-') || item.startsWith(u'+')) {
            descending = item.startsWith(u'-');
            item = item.mid(1).trimmed();
        }
        QString expression;
        if (item == u"@random") {
            expression = QStringLiteral("RANDOM()");
        } else if (item == u"@rowid") {
            expression = table + QStringLiteral(".rowid");
        } else {
            const QStringList path = item.split(u'.');
            for (const QString &part : path)
                if (!isValidIdentifier(part))
                    return makeError(ErrorCode::InvalidArgument,
                                     QStringLiteral("Invalid sort field \"%1\".").arg(item));
            auto resolved = resolver.resolve(path);
            if (!resolved)
                return makeError(ErrorCode::InvalidArgument,
                                 QStringLiteral("Invalid sort field \"%1\": %2.").arg(item, resolved.error().message));
            expression = resolved->sqlExpression;
        }
        terms.append(expression + (descending ? QStringLiteral(" DESC") : QString()));
        lastDescending = descending;
    }
    // The rowid breaks ties, so that pages never overlap or skip. It runs in the direction of the
    // last sort term: SQLite index entries end with the rowid, so a backward scan of an index on
    // the sort columns then serves the whole ORDER BY, where a mixed direction would make SQLite
    // read and sort every matching row (W2 in docs/BENCHMARKS.md).
    terms.append(table + (lastDescending ? QStringLiteral(".rowid DESC") : QStringLiteral(".rowid")));
    return QString(QStringLiteral(" ORDER BY ") + terms.join(u','));
}

Result<Where> listWhere(const CollectionSet &set, const Collection &c, const QString &filter, const Access &access)
{
    Where where;
    if (auto s = ruleCondition(c.listRule, set, c, access, where); !s)
        return s.error();
    if (!filter.trimmed().isEmpty()) {
        RecordResolver resolver(set, c, access.superuser);
        auto compiled = compileRequestFilter(filter, resolver, access.context);
        if (!compiled)
            return compiled.error();
        where.add(*compiled);
    }
    return where;
}

// Selects `what` from the record `id` if `rule` lets `access` see it; hands the row to `take`
// while it is current. False when there is no such record (or the rule hides it).
Result<bool> selectById(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                        const std::optional<QString> &rule, const Access &access, const QString &what,
                        const std::function<void(const Store::Statement &)> &take = {})
{
    Where where;
    if (auto s = ruleCondition(rule, set, c, access, where); !s)
        return s.error();
    const QString table = set.sqlNames(c).table;
    where.parts.prepend(table + QStringLiteral(".\"id\" = ?"));
    auto s = db.cachedQuery(QStringLiteral("SELECT %1 FROM %2%3 LIMIT 1").arg(what, table, where.sql()));
    if (!s)
        return s.error();
    ResetOnExit resetS(**s);
    (*s)->bind(1, id);
    bindAll(**s, where.params, 2);
    auto row = (*s)->step();
    if (!row)
        return row.error();
    if (*row && take)
        take(**s);
    return *row;
}

// Whether the record `id` matches `rule` for `access` (superusers and "" always do).
Result<bool> matchesRule(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                         const std::optional<QString> &rule, const Access &access)
{
    return selectById(db, set, c, id, rule, access, QStringLiteral("1"));
}

// The stored values of the record `id` of `c` for the audit log ({} when there is none).
Result<QJsonObject> storedValues(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id)
{
    Access everything;
    everything.superuser = true;
    QJsonObject values;
    auto found = selectById(db, set, c, id, std::nullopt, everything, set.sqlNames(c).columns,
                            [&](const Store::Statement &row) { values = auditValues(row, c); });
    if (!found)
        return found.error();
    return values;
}

// The rule check of an update or a delete: with `changes`, the same by-id select also reads the
// row as it is, into `before`, so that auditing costs no extra query.
Result<bool> checkRow(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                      const std::optional<QString> &rule, const Access &access, RecordChanges *changes,
                      QJsonObject &before)
{
    if (!changes)
        return matchesRule(db, set, c, id, rule, access);
    return selectById(db, set, c, id, rule, access, set.sqlNames(c).columns,
                      [&](const Store::Statement &row) { before = auditValues(row, c); });
}

Error notFound()
{
    return makeError(ErrorCode::NotFound, QStringLiteral("The requested resource wasn't found."));
}

} // namespace

Records::Records(const Clock &clock)
    : m_clock(clock)
{
}

Status Records::checkRuleExists(const std::optional<QString> &rule, const Access &access)
{
    if (!rule && !access.superuser)
        return makeError(ErrorCode::PermissionDenied, QStringLiteral("Only superusers can perform this action."));
    return {};
}

Result<QJsonObject> Records::list(Store::Database &db, const CollectionSet &set, const Collection &c,
                                  const ListQuery &query, const Access &access) const
{
    auto where = listWhere(set, c, query.filter, access);
    if (!where)
        return where.error();
    const auto names = set.sqlNames(c);
    const QString &table = names.table;
    RecordResolver resolver(set, c, access.superuser);
    auto order = orderBy(query.sort, resolver, table);
    if (!order)
        return order.error();
    const int perPage = std::clamp(query.perPage, 1, kMaxPerPage);
    const int page = qMax(1, query.page);

    auto s = db.cachedQuery(
        QStringLiteral("SELECT %1 FROM %2%3%4 LIMIT ? OFFSET ?").arg(names.columns, table, where->sql(), *order));
    if (!s)
        return s.error();
    ResetOnExit resetS(**s);
    bindAll(**s, where->params);
    (*s)->bind(int(where->params.size()) + 1, qint64(perPage));
    (*s)->bind(int(where->params.size()) + 2, qint64(page - 1) * perPage);
    QList<QJsonObject> items;
    for (;;) {
        auto row = (*s)->step();
        if (!row) {
            return row.error();
        }
        if (!*row)
            break;
        items.append(rowToRecord(**s, c, access));
    }

    qint64 total = -1;
    if (!query.skipTotal) {
        auto count = db.cachedQuery(QStringLiteral("SELECT COUNT(*) FROM %1%2").arg(table, where->sql()));
        if (!count)
            return count.error();
        ResetOnExit resetCount(**count);
        bindAll(**count, where->params);
        auto row = (*count)->step();
        if (!row)
            return row.error();
        total = (*count)->int64(0);
    }
    if (auto shaped = shapeRecords(db, set, c, items, query.shape, access); !shaped)
        return shaped.error();
    QJsonArray array;
    for (const QJsonObject &r : std::as_const(items))
        array.append(r);
    return QJsonObject {{QStringLiteral("page"), page},
                        {QStringLiteral("perPage"), perPage},
                        {QStringLiteral("totalItems"), total},
                        {QStringLiteral("totalPages"), total < 0 ? -1 : (total + perPage - 1) / perPage},
                        {QStringLiteral("items"), array}};
}

Status Records::forEach(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &filter,
                        const QString &sort, const Access &access,
                        const std::function<bool(const QJsonObject &)> &sink) const
{
    auto where = listWhere(set, c, filter, access);
    if (!where)
        return where.error();
    const auto names = set.sqlNames(c);
    const QString &table = names.table;
    RecordResolver resolver(set, c, access.superuser);
    auto order = orderBy(sort, resolver, table);
    if (!order)
        return order.error();
    // Not cached: an export holds its statement for a long time.
    auto s = db.prepare(
        QStringLiteral("SELECT %1 FROM %2%3%4").arg(names.columns, table, where->sql(), *order).toUtf8().constData());
    if (!s)
        return s.error();
    bindAll(*s, where->params);
    for (;;) {
        auto row = s->step();
        if (!row)
            return row.error();
        if (!*row || !sink(rowToRecord(*s, c, access)))
            return {};
    }
}

Status Records::viewRow(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                        const Access &access, const std::function<void(const Store::Statement &)> &take) const
{
    auto found = selectById(db, set, c, id, c.viewRule, access, set.sqlNames(c).columns, take);
    if (!found)
        return found.error();
    if (!*found)
        return notFound();
    return {};
}

Result<QJsonObject> Records::view(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                                  const Shape &shape, const Access &access) const
{
    QList<QJsonObject> records;
    if (auto s = viewRow(db, set, c, id, access,
                         [&](const Store::Statement &row) { records.append(rowToRecord(row, c, access)); });
        !s)
        return s.error();
    if (auto shaped = shapeRecords(db, set, c, records, shape, access); !shaped)
        return shaped.error();
    return records.first();
}

Result<QByteArray> Records::viewJson(Store::Database &db, const CollectionSet &set, const Collection &c,
                                     const QString &id, const Shape &shape, const Access &access) const
{
    if (!shape.fields.isEmpty() || !shape.expand.isEmpty()) {
        auto record = view(db, set, c, id, shape, access);
        if (!record)
            return record.error();
        return QJsonDocument(*record).toJson(QJsonDocument::Compact);
    }
    QByteArray json;
    if (auto s
        = viewRow(db, set, c, id, access, [&](const Store::Statement &row) { json = rowToJson(row, c, access); });
        !s)
        return s.error();
    return json;
}

Result<QJsonObject> Records::readBack(Store::Database &db, const CollectionSet &set, const Collection &c,
                                      const QString &id, const Shape &shape, const Access &access,
                                      QJsonObject *asStored) const
{
    // The writer reads back what it stored whatever the view rule says, as PocketBase does; only
    // hidden fields stay hidden from non-superusers.
    Access reader = access;
    reader.superuser = true;
    auto stored = view(db, set, c, id, {}, reader);
    if (!stored)
        return stored.error();
    if (asStored)
        *asStored = auditedValues(*stored, c);
    QList<QJsonObject> records {*stored};
    if (!access.superuser)
        for (const Field &f : c.fields)
            if (leftOut(c, f, access, records.first().value(u"emailVisibility").toBool(), id))
                records.first().remove(f.name);
    if (auto shaped = shapeRecords(db, set, c, records, shape, access); !shaped)
        return shaped.error();
    return records.first();
}

Result<QJsonObject> Records::create(Store::Database &db, const CollectionSet &set, const Collection &c,
                                    const QJsonObject &body, const Shape &shape, const Access &access,
                                    RecordChanges *changes) const
{
    if (auto s = checkRuleExists(c.createRule, access); !s)
        return s.error();
    const QString failed = QStringLiteral("Failed to create record.");
    auto values = validateRecord(c.fields, body, Mode::Create, m_clock);
    if (!values)
        return values.error();
    if (auto s = checkRelations(db, set, c, *values, failed); !s)
        return s.error();
    QStringList columns, marks;
    QVariantList params;
    for (const Field &f : c.fields) {
        columns.append(quoted(f.name));
        marks.append(QStringLiteral("?"));
        params.append(storedValue(f, values->value(f.name)));
    }
    // RETURNING hands back the row as stored, so the answer needs no second query.
    QList<QJsonObject> records;
    QJsonObject stored; // for `changes`: from the returned row, so auditing a create costs no query
    {
        auto s = db.cachedQuery(QStringLiteral("INSERT INTO %1(%2) VALUES (%3) RETURNING %2")
                                    .arg(quoted(c.name), columns.join(u','), marks.join(u',')));
        if (!s)
            return s.error();
        ResetOnExit resetS(**s);
        bindAll(**s, params);
        auto row = (*s)->step();
        if (!row)
            return mapWriteError(row.error(), c, failed);
        if (!*row)
            return makeError(ErrorCode::Internal, QStringLiteral("The insert returned no row."));
        records.append(rowToRecord(**s, c, access));
        if (changes)
            stored = auditValues(**s, c);
    }
    // The create rule sees the record as it would be stored (PocketBase checks it the same way,
    // inside the transaction); a mismatch rolls the insert back with the caller's savepoint. An
    // open rule and a superuser need no query.
    if (!access.superuser && !c.createRule->trimmed().isEmpty()) {
        auto allowed = matchesRule(db, set, c, values->value(u"id").toString(), c.createRule, access);
        if (!allowed)
            return allowed.error();
        if (!*allowed)
            return makeError(ErrorCode::InvalidArgument, failed);
    }
    // As readBack(): the writer sees what it stored whatever the view rule says.
    if (auto shaped = shapeRecords(db, set, c, records, shape, access); !shaped)
        return shaped.error();
    if (changes)
        changes->append({RecordChange::Kind::Create, c.name, values->value(u"id").toString(), {}, stored, {}});
    return records.first();
}

Result<QJsonObject> Records::update(Store::Database &db, const CollectionSet &set, const Collection &c,
                                    const QString &id, const QJsonObject &body, const Shape &shape,
                                    const Access &access, RecordChanges *changes) const
{
    QJsonObject before;
    auto allowed = checkRow(db, set, c, id, c.updateRule, access, changes, before);
    if (!allowed)
        return allowed.error();
    if (!*allowed)
        return notFound();
    const QString failed = QStringLiteral("Failed to update record.");
    auto values = validateRecord(c.fields, body, Mode::Update, m_clock);
    if (!values)
        return values.error();
    if (auto s = checkRelations(db, set, c, *values, failed); !s)
        return s.error();
    QStringList assignments;
    QVariantList params;
    for (const Field &f : c.fields) {
        if (f.primaryKey || !values->contains(f.name))
            continue;
        assignments.append(quoted(f.name) + QStringLiteral(" = ?"));
        params.append(storedValue(f, values->value(f.name)));
    }
    if (!assignments.isEmpty()) {
        params.append(id);
        auto s = db.cachedQuery(
            QStringLiteral("UPDATE %1 SET %2 WHERE \"id\" = ?").arg(quoted(c.name), assignments.join(u',')));
        if (!s)
            return s.error();
        ResetOnExit resetS(**s);
        bindAll(**s, params);
        if (auto r = (*s)->run(); !r)
            return mapWriteError(r.error(), c, failed);
    }
    QJsonObject after;
    auto record = readBack(db, set, c, id, shape, access, changes ? &after : nullptr);
    if (record && changes)
        changes->append({RecordChange::Kind::Update, c.name, id, before, after, {}});
    return record;
}

namespace {

// Removes or cascades the references to `id` (a record of `c`) held by relation fields anywhere.
// With `changes`, appends every record it deletes or changes (see Records::remove()).
Status releaseReferences(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                         int depth, RecordChanges *changes)
{
    if (depth > 16)
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("The cascade delete chain is too deep."));
    for (const Collection &other : set.all()) {
        for (const Field &f : other.fields) {
            if (f.type != FieldType::Relation || f.collectionId != c.id)
                continue;
            const QString table = quoted(other.name);
            const QString column = quoted(f.name);
            // Qualified: json_each() has columns of its own (id, parent, key, value, ...) that an
            // unqualified field of the same name would silently bind to.
            const QString qualified = table + u'.' + column;
            QString match = f.isMultiple()
                ? QStringLiteral("EXISTS (SELECT 1 FROM json_each(%1) WHERE value = ?)").arg(qualified)
                : qualified + QStringLiteral(" = ?");
            auto s = db.cachedQuery(QStringLiteral("SELECT \"id\", json_array_length(CASE WHEN json_valid(%1) AND "
                                                   "json_type(%1) = 'array' THEN %1 ELSE '[]' END) FROM %2 WHERE %3")
                                        .arg(qualified, table, match));
            if (!s)
                return s.error();
            ResetOnExit resetS(**s);
            (*s)->bind(1, id);
            QList<QPair<QString, qint64>> referencing;
            for (;;) {
                auto row = (*s)->step();
                if (!row) {
                    return row.error();
                }
                if (!*row)
                    break;
                referencing.append({(*s)->text(0), (*s)->int64(1)});
            }
            for (const auto &[otherId, count] : referencing) {
                if (other.id == c.id && otherId == id)
                    continue; // a self-reference goes with the record itself
                const bool lastReference = !f.isMultiple() || count <= 1;
                const qsizetype changedBefore = changes ? changes->size() : 0;
                QJsonObject before;
                if (changes) {
                    auto stored = storedValues(db, set, other, otherId);
                    if (!stored)
                        return stored.error();
                    before = std::move(stored).value();
                }
                const QString cause = c.name + u'/' + id;
                if (f.cascadeDelete && lastReference) {
                    if (auto r = releaseReferences(db, set, other, otherId, depth + 1, changes); !r)
                        return r;
                    auto del = db.cachedQuery(QStringLiteral("DELETE FROM %1 WHERE \"id\" = ?").arg(table));
                    if (!del)
                        return del.error();
                    ResetOnExit resetDel(**del);
                    if (auto r = (*del)->bind(1, otherId).run(); !r)
                        return r;
                    if (changes) // before the changes its own delete made
                        changes->insert(changedBefore,
                                        {RecordChange::Kind::Delete, other.name, otherId, before, {}, cause});
                    continue;
                }
                if (f.required && lastReference)
                    return makeError(ErrorCode::InvalidArgument,
                                     QStringLiteral("The record cannot be deleted because it is part of a required "
                                                    "reference in record \"%1\" of \"%2\".")
                                         .arg(otherId, other.name));
                const QString assignment = f.isMultiple()
                    ? QStringLiteral("%1 = (SELECT json_group_array(value) FROM json_each(%2) WHERE value != ?1)")
                          .arg(column, qualified)
                    : column + QStringLiteral(" = ''");
                auto upd = db.cachedQuery(
                    QStringLiteral("UPDATE %1 SET %2 WHERE \"id\" = ?%3")
                        .arg(table, assignment, f.isMultiple() ? QStringLiteral("2") : QStringLiteral("1")));
                if (!upd)
                    return upd.error();
                ResetOnExit resetUpd(**upd);
                if (f.isMultiple())
                    (*upd)->bind(1, id).bind(2, otherId);
                else
                    (*upd)->bind(1, otherId);
                if (auto r = (*upd)->run(); !r)
                    return r;
                if (changes) {
                    auto after = storedValues(db, set, other, otherId);
                    if (!after)
                        return after.error();
                    changes->append({RecordChange::Kind::Update, other.name, otherId, before, *after, cause});
                }
            }
        }
    }
    return {};
}

} // namespace

Status Records::remove(Store::Database &db, const CollectionSet &set, const Collection &c, const QString &id,
                       const Access &access, RecordChanges *changes) const
{
    QJsonObject before;
    auto allowed = checkRow(db, set, c, id, c.deleteRule, access, changes, before);
    if (!allowed)
        return allowed.error();
    if (!*allowed)
        return notFound();
    const qsizetype changedBefore = changes ? changes->size() : 0;
    const auto failed = [&](Status s) {
        if (changes) // nothing of a failed delete is audited
            changes->resize(changedBefore);
        return s;
    };
    if (auto r = releaseReferences(db, set, c, id, 0, changes); !r)
        return failed(r);
    auto s = db.cachedQuery(QStringLiteral("DELETE FROM %1 WHERE \"id\" = ?").arg(quoted(c.name)));
    if (!s)
        return failed(s.error());
    ResetOnExit resetS(**s);
    if (auto r = (*s)->bind(1, id).run(); !r)
        return failed(r);
    if (changes) // first, then what it did to other records
        changes->insert(changedBefore, {RecordChange::Kind::Delete, c.name, id, before, {}, {}});
    return {};
}

std::unique_ptr<FieldResolver> recordResolver(const CollectionSet &set, const Collection &c, bool allowHidden)
{
    return std::make_unique<RecordResolver>(set, c, allowHidden);
}

Result<QJsonObject> pickFields(const QJsonObject &record, const QString &fields)
{
    auto pick = parseFields(fields);
    if (!pick)
        return pick.error();
    return applyPickObject(record, *pick);
}

} // namespace Outpost::Data
