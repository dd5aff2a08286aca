#include "collection.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>

#include "../core/ids.h"
#include "filter.h"

namespace Outpost::Data {

namespace {

const QString kInvalidValue = QStringLiteral("validation_invalid_value");
const QString kRuleKeys[] = {QStringLiteral("listRule"), QStringLiteral("viewRule"), QStringLiteral("createRule"),
                             QStringLiteral("updateRule"), QStringLiteral("deleteRule")};

// An identifier bare or quoted by "", `` or []; the pattern is strict on purpose (no escapes inside quotes).
const QString kIdent = QStringLiteral("(?:\"(\\w+)\"|`(\\w+)`|\\[(\\w+)\\]|(\\w+))");

QString capturedIdent(const QRegularExpressionMatch &m, int first)
{
    for (int i = first; i < first + 4; ++i)
        if (m.capturedLength(i) > 0)
            return m.captured(i);
    return {};
}

QString randomDigits()
{
    const QByteArray bytes = Ids::randomBytes(4);
    quint32 n = 0;
    for (char b : bytes)
        n = (n << 8) | quint8(b);
    return QString::number(n);
}

Field systemIdField()
{
    Field f;
    f.id = QStringLiteral("text3208210256"); // PocketBase's id for every collection's `id` field
    f.name = QStringLiteral("id");
    f.type = FieldType::Text;
    f.system = true;
    f.required = true;
    f.primaryKey = true;
    f.minLength = 15;
    f.maxLength = 15;
    f.pattern = QStringLiteral("^[a-z0-9]+$");
    f.autogeneratePattern = QStringLiteral("[a-z0-9]{15}");
    return f;
}

Field systemDateField(const QString &name, const QString &id, bool onUpdate)
{
    Field f;
    f.id = id;
    f.name = name;
    f.type = FieldType::AutoDate;
    f.system = true;
    f.onCreate = true;
    f.onUpdate = onUpdate;
    return f;
}

Field authField(const QString &name, const QString &id, FieldType type)
{
    Field f;
    f.id = id;
    f.name = name;
    f.type = type;
    f.system = true;
    return f;
}

// PocketBase's system fields of an auth collection, with PocketBase's ids.
QList<Field> authSystemFields()
{
    Field password = authField(QStringLiteral("password"), QStringLiteral("password901924565"), FieldType::Password);
    password.required = true;
    password.hidden = true;
    password.minLength = 8;
    Field tokenKey = authField(QStringLiteral("tokenKey"), QStringLiteral("text2504183744"), FieldType::Text);
    tokenKey.required = true;
    tokenKey.hidden = true;
    tokenKey.minLength = 30;
    tokenKey.maxLength = 60;
    tokenKey.autogeneratePattern = QStringLiteral("[a-zA-Z0-9]{50}");
    Field email = authField(QStringLiteral("email"), QStringLiteral("email3885137012"), FieldType::Email);
    email.required = true;
    return {password, tokenKey, email,
            authField(QStringLiteral("emailVisibility"), QStringLiteral("bool1547992806"), FieldType::Bool),
            authField(QStringLiteral("verified"), QStringLiteral("bool256245529"), FieldType::Bool)};
}

// Auth collections: adds the system fields that are absent and checks that present ones keep
// their system shape (a client may change options such as the password minimum, not the type).
// Base collections may not hold password fields.
void completeAuthFields(const Collection &c, QList<Field> &fields, QJsonObject &errors)
{
    if (c.type != u"auth") {
        for (qsizetype i = 0; i < fields.size(); ++i)
            if (fields[i].type == FieldType::Password)
                errors.insert(
                    QStringLiteral("fields.%1.type").arg(i),
                    fieldProblem(kInvalidValue, QStringLiteral("Password fields belong to auth collections.")));
        return;
    }
    for (const Field &system : authSystemFields()) {
        qsizetype at = -1;
        for (qsizetype i = 0; i < fields.size(); ++i)
            if (fields[i].name == system.name)
                at = i;
        if (at < 0) {
            fields.append(system);
            continue;
        }
        Field &given = fields[at];
        if (given.type != system.type) {
            errors.insert(QStringLiteral("fields.%1.type").arg(at),
                          fieldProblem(kInvalidValue,
                                       QStringLiteral("\"%1\" is a system field of auth collections "
                                                      "and must be of type %2.")
                                           .arg(system.name, fieldTypeName(system.type))));
            continue;
        }
        given.id = system.id;
        given.system = true;
        given.required = system.required || given.required;
        given.hidden = system.hidden || given.hidden;
        if (system.type == FieldType::Password)
            given.minLength = qMax(given.minLength, 8);
        if (system.name == u"tokenKey")
            given = system;
    }
    for (qsizetype i = 0; i < fields.size(); ++i)
        if (fields[i].type == FieldType::Password && fields[i].name != u"password")
            errors.insert(QStringLiteral("fields.%1.type").arg(i),
                          fieldProblem(kInvalidValue, QStringLiteral("An auth collection has one password field.")));
}

// Parses every field, reporting each bad one under "fields.<index>.<option>".
QList<Field> readFields(const QJsonValue &value, QJsonObject &errors)
{
    QList<Field> fields;
    if (!value.isArray() && !value.isUndefined() && !value.isNull()) {
        errors.insert(QStringLiteral("fields"), fieldProblem(kInvalidValue, QStringLiteral("Must be an array.")));
        return fields;
    }
    const QJsonArray array = value.toArray();
    QSet<QString> names, ids;
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString prefix = QStringLiteral("fields.") + QString::number(i);
        auto field = Field::fromJson(array.at(i).toObject());
        if (!field) {
            const QString option = field.error().details.value(QStringLiteral("option")).toString();
            errors.insert(
                prefix + u'.' + option,
                fieldProblem(field.error().details.value(QStringLiteral("code")).toString(), field.error().message));
            continue;
        }
        if (names.contains(field->name.toLower()))
            errors.insert(prefix + QStringLiteral(".name"),
                          fieldProblem(QStringLiteral("validation_duplicated_field_name"),
                                       QStringLiteral("Duplicated or invalid field name \"%1\".").arg(field->name)));
        if (!field->id.isEmpty() && ids.contains(field->id))
            errors.insert(prefix + QStringLiteral(".id"),
                          fieldProblem(QStringLiteral("validation_duplicated_field_id"),
                                       QStringLiteral("Duplicated field id \"%1\".").arg(field->id)));
        names.insert(field->name.toLower());
        ids.insert(field->id);
        fields.append(*field);
    }
    return fields;
}

// Adds id/created/updated when absent and checks that present ones have the system shape.
void completeSystemFields(QList<Field> &fields, QJsonObject &errors)
{
    auto indexOf = [&fields](const QString &name) {
        for (qsizetype i = 0; i < fields.size(); ++i)
            if (fields[i].name == name)
                return i;
        return qsizetype(-1);
    };
    const QString dates[][2] = {{QStringLiteral("created"), QStringLiteral("autodate2990389176")},
                                {QStringLiteral("updated"), QStringLiteral("autodate3332085495")}};
    for (const auto &date : dates) {
        if (const qsizetype i = indexOf(date[0]); i < 0)
            fields.append(systemDateField(date[0], date[1], date[0] == u"updated"));
        else if (fields[i].type != FieldType::AutoDate)
            errors.insert(QStringLiteral("fields.%1.type").arg(i),
                          fieldProblem(kInvalidValue, QStringLiteral("Must be an autodate field.")));
    }
    // Last, so that the indexes in errors are those of the submitted list.
    if (const qsizetype i = indexOf(QStringLiteral("id")); i < 0)
        fields.prepend(systemIdField());
    else if (fields[i].type != FieldType::Text || !fields[i].primaryKey)
        errors.insert(QStringLiteral("fields.%1.type").arg(i),
                      fieldProblem(kInvalidValue, QStringLiteral("The id field must be a primary-key text field.")));
    for (Field &f : fields)
        if (f.id.isEmpty())
            f.id = fieldTypeName(f.type) + randomDigits();
}

void readName(const QJsonObject &json, Collection &c, QJsonObject &errors)
{
    c.name = json.value(QStringLiteral("name")).toString();
    QString problem;
    QString code = QStringLiteral("validation_invalid_name");
    if (c.name.isEmpty()) {
        problem = QStringLiteral("Cannot be blank.");
        code = QStringLiteral("validation_required");
    } else if (!isValidIdentifier(c.name))
        problem = QStringLiteral("Must start with a letter and hold at most 63 letters, digits or _.");
    else if (c.name.startsWith(u'_') || c.name.startsWith(QStringLiteral("sqlite_"), Qt::CaseInsensitive))
        problem = QStringLiteral("Names starting with _ or sqlite_ are reserved.");
    if (!problem.isEmpty())
        errors.insert(QStringLiteral("name"), fieldProblem(code, problem));
}

void readRules(const QJsonObject &json, Collection &c, QJsonObject &errors)
{
    std::optional<QString> *rules[] = {&c.listRule, &c.viewRule, &c.createRule, &c.updateRule, &c.deleteRule};
    for (int i = 0; i < 5; ++i) {
        const QJsonValue v = json.value(kRuleKeys[i]);
        if (v.isString())
            *rules[i] = v.toString();
        else if (!v.isNull() && !v.isUndefined())
            errors.insert(kRuleKeys[i], fieldProblem(kInvalidValue, QStringLiteral("Must be a string or null.")));
    }
}

void readIndexes(const QJsonValue &value, Collection &c, QJsonObject &errors)
{
    const QJsonArray array = value.toArray();
    if (!value.isArray() && !value.isUndefined() && !value.isNull())
        errors.insert(QStringLiteral("indexes"), fieldProblem(kInvalidValue, QStringLiteral("Must be an array.")));
    QSet<QString> names;
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QString key = QStringLiteral("indexes.") + QString::number(i);
        auto index = CollectionIndex::parse(array.at(i).toString());
        QString problem = index ? QString() : index.error().message;
        if (index && index->table.compare(c.name, Qt::CaseInsensitive) != 0)
            problem = QStringLiteral("The index must be on the collection's own table \"%1\".").arg(c.name);
        for (qsizetype k = 0; index && problem.isEmpty() && k < index->columns.size(); ++k)
            if (!c.field(index->columns[k].name))
                problem = QStringLiteral("Unknown field \"%1\".").arg(index->columns[k].name);
        if (index && problem.isEmpty() && names.contains(index->name.toLower()))
            problem = QStringLiteral("Duplicated index name \"%1\".").arg(index->name);
        if (!problem.isEmpty()) {
            errors.insert(key, fieldProblem(QStringLiteral("validation_invalid_index_expression"), problem));
            continue;
        }
        names.insert(index->name.toLower());
        c.indexes.append(*index);
    }
}

} // namespace

QJsonObject fieldProblem(const QString &code, const QString &message)
{
    return QJsonObject {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
}

Error collectionError(const QString &message, const QJsonObject &fields)
{
    return makeError(ErrorCode::InvalidArgument, message, QJsonObject {{QStringLiteral("fields"), fields}});
}

Result<CollectionIndex> CollectionIndex::parse(const QString &sql)
{
    static const QRegularExpression statement(
        QStringLiteral("\\A\\s*CREATE\\s+(UNIQUE\\s+)?INDEX\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?") + kIdent
            + QStringLiteral("\\s+ON\\s+") + kIdent + QStringLiteral("\\s*\\(([^()]*)\\)\\s*\\z"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression column(QStringLiteral("\\A\\s*") + kIdent
                                               + QStringLiteral("(?:\\s+(ASC|DESC))?\\s*\\z"),
                                           QRegularExpression::CaseInsensitiveOption);
    const auto fail = [](const QString &why) { return makeError(ErrorCode::InvalidArgument, why); };
    if (sql.size() > 4096)
        return fail(QStringLiteral("The index definition is too long."));
    const auto m = statement.match(sql);
    if (!m.hasMatch())
        return fail(QStringLiteral("Only \"CREATE [UNIQUE] INDEX name ON table (column, ...)\" is supported."));
    CollectionIndex index;
    index.unique = m.capturedLength(1) > 0;
    index.name = capturedIdent(m, 2);
    index.table = capturedIdent(m, 6);
    for (const QString &part : m.captured(10).split(u',')) {
        const auto c = column.match(part);
        if (!c.hasMatch())
            return fail(QStringLiteral("Invalid index column \"%1\".").arg(part.trimmed()));
        index.columns.append(
            Column {capturedIdent(c, 1), c.captured(5).compare(QStringLiteral("DESC"), Qt::CaseInsensitive) == 0});
    }
    for (const QString &ident : [&index] {
             QStringList all {index.name, index.table};
             for (const Column &c : index.columns)
                 all.append(c.name);
             return all;
         }())
        if (!isValidIdentifier(ident))
            return fail(QStringLiteral("Invalid identifier \"%1\".").arg(ident));
    if (index.name.startsWith(u'_') || index.name.startsWith(QStringLiteral("sqlite_"), Qt::CaseInsensitive))
        return fail(QStringLiteral("Index names starting with _ or sqlite_ are reserved."));
    return index;
}

QString CollectionIndex::toString() const
{
    QStringList cols;
    for (const Column &c : columns)
        cols.append(u'`' + c.name + u'`' + (c.descending ? QStringLiteral(" DESC") : QString()));
    return QStringLiteral("CREATE ") + (unique ? QStringLiteral("UNIQUE ") : QString()) + QStringLiteral("INDEX `")
        + name + QStringLiteral("` ON `") + table + QStringLiteral("` (") + cols.join(QStringLiteral(", ")) + u')';
}

QString CollectionIndex::createSql(const QString &onTable) const
{
    // Every part was checked by isValidIdentifier() in parse(); quoteIdentifier() cannot fail here.
    QStringList cols;
    for (const Column &c : columns)
        cols.append(quoteIdentifier(c.name).value() + (c.descending ? QStringLiteral(" DESC") : QString()));
    return QStringLiteral("CREATE ") + (unique ? QStringLiteral("UNIQUE ") : QString()) + QStringLiteral("INDEX ")
        + quoteIdentifier(name).value() + QStringLiteral(" ON ") + quoteIdentifier(onTable).value()
        + QStringLiteral(" (") + cols.join(QStringLiteral(", ")) + u')';
}

QJsonObject Collection::toJson() const
{
    QJsonArray fieldArray, indexArray;
    for (const Field &f : fields)
        fieldArray.append(f.toJson());
    for (const CollectionIndex &i : indexes)
        indexArray.append(i.toString());
    QJsonObject json {{QStringLiteral("id"), id},
                      {QStringLiteral("name"), name},
                      {QStringLiteral("type"), type},
                      {QStringLiteral("system"), system},
                      {QStringLiteral("fields"), fieldArray},
                      {QStringLiteral("indexes"), indexArray},
                      {QStringLiteral("created"), created},
                      {QStringLiteral("updated"), updated}};
    const std::optional<QString> *rules[] = {&listRule, &viewRule, &createRule, &updateRule, &deleteRule};
    for (int i = 0; i < 5; ++i)
        json.insert(kRuleKeys[i], *rules[i] ? QJsonValue(**rules[i]) : QJsonValue(QJsonValue::Null));
    return json;
}

const Field *Collection::field(const QString &fieldName) const
{
    for (const Field &f : fields)
        if (f.name.compare(fieldName, Qt::CaseInsensitive) == 0)
            return &f;
    return nullptr;
}

const Field *Collection::fieldById(const QString &fieldId) const
{
    for (const Field &f : fields)
        if (f.id == fieldId)
            return &f;
    return nullptr;
}

Result<Collection> collectionFromJson(const QJsonObject &json)
{
    Collection c;
    QJsonObject errors;
    c.id = json.value(QStringLiteral("id")).toString();
    if (!c.id.isEmpty() && !isValidIdentifier(c.id))
        errors.insert(QStringLiteral("id"), fieldProblem(kInvalidValue, QStringLiteral("Invalid collection id.")));
    readName(json, c, errors);
    c.type = json.value(QStringLiteral("type")).toString(QStringLiteral("base"));
    if (c.type != u"base" && c.type != u"auth")
        errors.insert(
            QStringLiteral("type"),
            fieldProblem(kInvalidValue, QStringLiteral("Only \"base\" and \"auth\" collections are supported.")));
    c.system = json.value(QStringLiteral("system")).toBool();
    c.created = json.value(QStringLiteral("created")).toString();
    c.updated = json.value(QStringLiteral("updated")).toString();
    c.fields = readFields(json.value(QStringLiteral("fields")), errors);
    completeAuthFields(c, c.fields, errors);
    completeSystemFields(c.fields, errors);
    readRules(json, c, errors);
    readIndexes(json.value(QStringLiteral("indexes")), c, errors);
    if (!errors.isEmpty())
        return collectionError(QStringLiteral("Failed to validate the collection."), errors);
    if (c.id.isEmpty())
        c.id = QStringLiteral("pbc_") + randomDigits();
    return c;
}

} // namespace Outpost::Data
