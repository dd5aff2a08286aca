#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

#include "openapiparts.h"

// What each collection adds to the document: its record schemas (one property per field, with the
// field's constraints as JSON Schema where it can say them, in words where it cannot) and its
// records, export and import operations, governed by the collection's rules.
namespace Outpost::Http::OpenApi {

using namespace Qt::StringLiterals;
using Data::Collection;
using Data::Field;
using Data::FieldType;

namespace {

// Whether a Go (RE2) pattern means the same as a JSON Schema `pattern` (ECMAScript in Unicode mode,
// as Ajv compiles it). Conservative: literals, classes, (…) and (?:…) groups, quantifiers, anchors
// and the escapes both share. Flags, named groups, \A \z \p, POSIX classes and literal braces are not.
bool isPortablePattern(const QString &pattern)
{
    static const QString escapes = u"dDwWsSbBnrtfv^$\\.*+?()[]{}|/"_s;
    bool inClass = false;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern.at(i);
        const QChar next = i + 1 < pattern.size() ? pattern.at(i + 1) : QChar();
        const QChar afterNext = i + 2 < pattern.size() ? pattern.at(i + 2) : QChar();
        if (c == u'\\') {
            if (next.isNull() || !(escapes.contains(next) || (inClass && next == u'-')))
                return false;
            if (inClass && u"dDwWsS"_s.contains(next) && afterNext == u'-') // [\w-z] is a Unicode-mode error
                return false;
            ++i;
        } else if (inClass) {
            inClass = c != u']';
            if (c == u'[' && next == u':')
                return false;
        } else if (c == u'[') {
            inClass = true;
            i += next == u'^' ? 1 : 0;
            if (i + 1 < pattern.size() && pattern.at(i + 1) == u']')
                return false; // RE2's leading literal "]"
        } else if (c == u']' || c == u'}' || (c == u'(' && next == u'?' && afterNext != u':')) {
            return false;
        } else if (c == u'{') {
            static const QRegularExpression quantifier(u"\\{[0-9]+(,[0-9]*)?\\}"_s);
            const QRegularExpressionMatch m = quantifier.match(pattern, i, QRegularExpression::NormalMatch,
                                                               QRegularExpression::AnchorAtOffsetMatchOption);
            if (!m.hasMatch())
                return false; // only the quantifiers {n}, {n,} and {n,m}
            i = m.capturedEnd() - 1;
        }
    }
    return !inClass;
}

// Names and tags of the collections, and relation targets.
struct Catalog
{
    const QList<Collection> &collections;
    QStringList schemaNames; // PascalCase, unique: <name>Record, <name>RecordList, <name>CreateBody, ...
    QStringList tags;

    qsizetype indexOf(const QString &idOrName) const
    {
        for (qsizetype i = 0; i < collections.size(); ++i)
            if (collections[i].id == idOrName)
                return i;
        for (qsizetype i = 0; i < collections.size(); ++i)
            if (collections[i].name.compare(idOrName, Qt::CaseInsensitive) == 0)
                return i;
        return -1;
    }
};

QString pascalCase(const QString &name)
{
    QString out;
    bool upper = true;
    for (const QChar c : name) {
        if (c != u'_')
            out += upper ? c.toUpper() : c;
        upper = c == u'_';
    }
    return out.isEmpty() ? u"Collection"_s : out;
}

Catalog makeCatalog(const QList<Collection> &collections, const QStringList &takenTags)
{
    Catalog catalog {collections, {}, {}};
    QSet<QString> names, tags; // lower-cased: tools write one file per name on case-insensitive disks
    for (const QString &tag : takenTags)
        tags.insert(tag.toLower());
    for (const Collection &c : collections) {
        QString name = pascalCase(c.name);
        for (int n = 2; names.contains(name.toLower()); ++n)
            name = pascalCase(c.name) + QString::number(n);
        QString tag = c.name;
        for (int n = 2; tags.contains(tag.toLower()); ++n)
            tag = c.name + u" records"_s + (n > 2 ? u" "_s + QString::number(n) : QString());
        names.insert(name.toLower());
        tags.insert(tag.toLower());
        catalog.schemaNames.append(name);
        catalog.tags.append(tag);
    }
    return catalog;
}

enum class Direction { Output, Input };

QJsonObject textValue(const Field &f, Direction direction, QStringList &notes)
{
    QJsonObject s = with(typed(u"string"_s), u"maxLength"_s, f.effectiveMaxLength());
    if (f.minLength > 0 || f.required)
        s.insert(u"minLength"_s, std::max(f.minLength, 1));
    if (f.pattern.isEmpty())
        ; // any text
    else if (isPortablePattern(f.pattern))
        s.insert(u"pattern"_s, f.pattern);
    else
        notes << u"Must match the Go (RE2) pattern %1."_s.arg(code(f.pattern));
    if (direction == Direction::Input && !f.autogeneratePattern.isEmpty())
        notes << u"Left out or blank on create: a random value matching %1."_s.arg(code(f.autogeneratePattern));
    return !f.required && (f.minLength > 0 || !f.pattern.isEmpty()) ? blankable(s, u""_s) : s;
}

QJsonObject numberValue(const Field &f)
{
    QJsonObject s = typed(f.onlyInt ? u"integer"_s : u"number"_s);
    if (f.min)
        s.insert(u"minimum"_s, *f.min);
    if (f.max)
        s.insert(u"maximum"_s, *f.max);
    const bool zeroOutside = (f.min && *f.min > 0) || (f.max && *f.max < 0);
    return !f.required && zeroOutside ? blankable(s, 0) : s;
}

QJsonObject addressValue(const Field &f, QStringList &notes)
{
    const bool email = f.type == FieldType::Email;
    if (!f.onlyDomains.isEmpty())
        notes << u"Only for the domains %1."_s.arg(f.onlyDomains.join(u", "_s));
    if (!f.exceptDomains.isEmpty())
        notes << u"Not for the domains %1."_s.arg(f.exceptDomains.join(u", "_s));
    const QJsonObject s = with(typed(u"string"_s), u"format"_s, email ? u"email"_s : u"uri"_s);
    return f.required ? s : blankable(s, u""_s);
}

QJsonObject dateValue(const Field &f, Direction direction, QStringList &notes)
{
    if (!f.minDate.isEmpty())
        notes << u"Not before %1."_s.arg(f.minDate);
    if (!f.maxDate.isEmpty())
        notes << u"Not after %1."_s.arg(f.maxDate);
    if (direction == Direction::Input) {
        notes << u"`2006-01-02 15:04:05.000Z`, RFC 3339 or a date alone (midnight UTC)."_s;
        return typed(u"string"_s);
    }
    const QJsonObject s = with(typed(u"string"_s), u"pattern"_s, kDatePattern);
    const bool blank = f.type == FieldType::AutoDate ? !f.onCreate : !f.required;
    return blank ? blankable(s, u""_s) : s;
}

QJsonObject selectValue(const Field &f)
{
    if (!f.isMultiple())
        return enumOf(f.required ? f.values : f.values + QStringList {QString()});
    QJsonObject s = with(arrayOf(enumOf(f.values)), u"uniqueItems"_s, true);
    s.insert(u"maxItems"_s, f.maxSelect);
    if (f.required)
        s.insert(u"minItems"_s, 1);
    return s;
}

QJsonObject relationValue(const Field &f, const Catalog &catalog, QStringList &notes)
{
    const qsizetype target = catalog.indexOf(f.collectionId);
    const QString name = target < 0 ? f.collectionId : catalog.collections[target].name;
    notes << (f.isMultiple() ? u"Ids of records of %1."_s : u"The id of a record of %1."_s).arg(code(name));
    const QJsonObject id = with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern);
    if (!f.isMultiple())
        return f.required ? id : blankable(id, u""_s);
    QJsonObject s = with(arrayOf(id), u"uniqueItems"_s, true);
    s.insert(u"maxItems"_s, f.maxSelect);
    if (f.required || f.minSelect > 0)
        s.insert(u"minItems"_s, std::max(f.minSelect, 1));
    if (!f.required && f.minSelect > 0)
        notes << u"Empty, or at least %1."_s.arg(f.minSelect);
    return !f.required && f.minSelect > 0 ? blankable(s, QJsonArray()) : s;
}

QJsonObject valueSchema(const Field &f, Direction direction, const Catalog &catalog)
{
    QStringList notes;
    QJsonObject s;
    switch (f.type) {
    case FieldType::Text:
        s = textValue(f, direction, notes);
        break;
    case FieldType::Number:
        s = numberValue(f);
        break;
    case FieldType::Bool:
        s = typed(u"boolean"_s);
        if (f.required)
            notes << u"Required, so it must be true."_s;
        break;
    case FieldType::Email:
    case FieldType::Url:
        s = addressValue(f, notes);
        break;
    case FieldType::Date:
    case FieldType::AutoDate:
        s = dateValue(f, direction, notes);
        break;
    case FieldType::Select:
        s = selectValue(f);
        break;
    case FieldType::Json:
        notes << u"Any JSON value, at most %1 bytes serialised."_s.arg(f.effectiveMaxSize());
        break;
    case FieldType::Relation:
        s = relationValue(f, catalog, notes);
        break;
    case FieldType::Password:
        s = with(typed(u"string"_s), u"minLength"_s, qMax(f.minLength, 8));
        notes << u"The new password, in plain text; stored only as an Argon2id hash and never returned. "
                 "A list of the most common passwords is refused."_s;
        break;
    }
    const QString kind = f.primaryKey ? u"The record's id."_s : u"`%1` field."_s.arg(Data::fieldTypeName(f.type));
    notes.prepend(kind);
    if (f.hidden && direction == Direction::Output)
        notes << u"Hidden: only superusers get it."_s;
    return with(s, u"description"_s, notes.join(u' '));
}

QJsonObject expandSchema(const Collection &c, const Catalog &catalog)
{
    QJsonObject properties;
    for (const Field &f : c.fields) {
        if (f.type != FieldType::Relation)
            continue;
        const qsizetype target = catalog.indexOf(f.collectionId);
        const QJsonObject record
            = target < 0 ? typed(u"object"_s) : schemaRef(catalog.schemaNames[target] + u"Record"_s);
        properties.insert(f.name, f.isMultiple() ? arrayOf(record) : record);
    }
    if (properties.isEmpty())
        return {};
    return objectSchema(properties, {}, u"The related records named in `expand`; only present with it."_s);
}

void addRecordSchemas(QJsonObject &schemas, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    const QString name = catalog.schemaNames[index];
    QJsonObject output {{u"collectionId"_s, with(typed(u"string"_s), u"const"_s, c.id)},
                        {u"collectionName"_s, with(typed(u"string"_s), u"const"_s, c.name)}};
    QStringList outputRequired {u"collectionId"_s, u"collectionName"_s}, createRequired;
    QJsonObject create, update;
    for (const Field &f : c.fields) {
        if (!f.isSecret())
            output.insert(f.name, valueSchema(f, Direction::Output, catalog));
        if (!f.hidden && !(c.type == u"auth" && f.system && f.name == u"email"))
            outputRequired << f.name;
        if (f.type == FieldType::AutoDate || (f.isSecret() && f.type != FieldType::Password))
            continue;
        create.insert(f.name, valueSchema(f, Direction::Input, catalog));
        if (f.required && f.autogeneratePattern.isEmpty())
            createRequired << f.name;
        if (!f.primaryKey)
            update.insert(f.name, create.value(f.name));
    }
    if (c.type == u"auth") {
        const QJsonObject confirm = with(typed(u"string"_s), u"description"_s, u"The same as `password`."_s);
        create.insert(u"passwordConfirm"_s, confirm);
        update.insert(u"passwordConfirm"_s, confirm);
        update.insert(u"oldPassword"_s,
                      with(typed(u"string"_s), u"description"_s,
                           u"The current password: required, with `password`, unless a superuser "
                           "changes it. Changing the password ends the account's other sessions."_s));
        createRequired << u"passwordConfirm"_s;
    }
    if (const QJsonObject expand = expandSchema(c, catalog); !expand.isEmpty())
        output.insert(u"expand"_s, expand);
    const QString about = u"A record of %1; `fields` can leave keys out."_s.arg(code(c.name));
    schemas.insert(name + u"Record"_s, objectSchema(output, outputRequired, about));
    schemas.insert(name + u"RecordList"_s,
                   listSchema(schemaRef(name + u"Record"_s), u"A page of %1 records."_s.arg(code(c.name))));
    schemas.insert(
        name + u"CreateBody"_s,
        objectSchema(create, createRequired, u"A new %1 record; unknown keys are ignored."_s.arg(code(c.name))));
    schemas.insert(name + u"UpdateBody"_s,
                   objectSchema(update, {}, u"The %1 fields to change; unknown keys are ignored."_s.arg(code(c.name))));
}

// ---- Operations ---------------------------------------------------------------------------------

// How a rule governs an operation, for its description.
QString ruleDescription(const std::optional<QString> &rule, const QString &key, const QString &effect)
{
    if (!rule)
        return u"Superusers and API keys only: the collection's `%1` is null."_s.arg(key);
    if (rule->isEmpty())
        return u"Public: the collection's `%1` is empty, so anyone may call it, with or without a token."_s.arg(key);
    return u"Allowed when the request satisfies the collection's `%1` %2 (superusers always are); %3"_s.arg(
        key, code(*rule), effect);
}

enum class Rule { List, View, Create, Update, Delete }; // the order of kRuleKeys

// `op`, a record operation of `catalog.collections[index]`, governed by its rule `rule`: its id and
// summary get the schema name and the collection name for %1.
Operation governed(const Catalog &catalog, qsizetype index, Rule rule, const QString &effect, Operation op)
{
    const Collection &c = catalog.collections[index];
    const std::optional<QString> *rules[] = {&c.listRule, &c.viewRule, &c.createRule, &c.updateRule, &c.deleteRule};
    const std::optional<QString> &value = *rules[int(rule)];
    op.id = op.id.arg(catalog.schemaNames[index]);
    op.tag = catalog.tags[index];
    op.summary = op.summary.arg(c.name);
    op.access = value ? Access::Token : Access::Superuser;
    op.scope
        = rule == Rule::List || rule == Rule::View ? Auth::Permission::RecordsRead : Auth::Permission::RecordsWrite;
    const QString scope = Auth::permissionName(*op.scope);
    op.description += ruleDescription(value, kRuleKeys[int(rule)], effect)
        + u"\n\nAPI keys need the %1 or %2 scope; they then pass the rule as superusers do."_s.arg(
            code(scope), code(scope + u':' + c.name));
    op.rule = value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
    return op;
}

QString recordsPath(const Collection &c)
{
    return u"/api/collections/"_s + c.name + u"/records"_s;
}

void addRecordsPaths(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const QString name = catalog.schemaNames[index], path = recordsPath(catalog.collections[index]);
    Operation list
        = governed(catalog, index, Rule::List, u"records it excludes are left out."_s,
                   {.method = u"get"_s, .path = path, .id = u"list%1Records"_s, .summary = u"List %1 records"_s});
    list.parameters = parameterRefs(
        {u"Page"_s, u"PerPage"_s, u"Sort"_s, u"Filter"_s, u"Fields"_s, u"Expand"_s, u"SkipTotal"_s, u"IfNoneMatch"_s});
    list.responses = {{u"200"_s, withETag(jsonResponse(u"A page of records."_s, schemaRef(name + u"RecordList"_s)))}};
    list.shared << 304 << 400;
    addOperation(paths, list);

    Operation create
        = governed(catalog, index, Rule::Create, u"a record it excludes is refused (400)."_s,
                   {.method = u"post"_s, .path = path, .id = u"create%1Record"_s, .summary = u"Create a %1 record"_s});
    create.parameters = parameterRefs({u"Fields"_s, u"Expand"_s});
    create.requestBody = jsonBody(schemaRef(name + u"CreateBody"_s), u"The new record's values."_s);
    create.responses = {{u"200"_s, jsonResponse(u"The new record."_s, schemaRef(name + u"Record"_s))}};
    create.shared << 400 << 415;
    addOperation(paths, create);
}

void addRecordPaths(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    const QString name = catalog.schemaNames[index], path = recordsPath(c) + u"/{id}"_s;
    const QJsonObject record = schemaRef(name + u"Record"_s);
    const Field *idField = c.field(u"id"_s);
    const QJsonObject idSchema = idField ? valueSchema(*idField, Direction::Output, catalog)
                                         : with(typed(u"string"_s), u"pattern"_s, kRecordIdPattern);
    const QJsonObject id = parameter(u"id"_s, u"path"_s, idSchema, u"The record's id."_s);
    const QString hides = u"a record it excludes answers 404."_s;

    Operation view
        = governed(catalog, index, Rule::View, hides,
                   {.method = u"get"_s, .path = path, .id = u"get%1Record"_s, .summary = u"View a %1 record"_s});
    view.parameters = parameterRefs({u"Fields"_s, u"Expand"_s, u"IfNoneMatch"_s}, {id});
    view.responses = {{u"200"_s, withETag(jsonResponse(u"The record."_s, record))}};
    view.shared << 304 << 404;
    addOperation(paths, view);

    Operation update
        = governed(catalog, index, Rule::Update, hides,
                   {.method = u"patch"_s, .path = path, .id = u"update%1Record"_s, .summary = u"Update a %1 record"_s});
    update.parameters = parameterRefs({u"Fields"_s, u"Expand"_s}, {id});
    update.requestBody = jsonBody(schemaRef(name + u"UpdateBody"_s), u"The values to change."_s);
    update.responses = {{u"200"_s, jsonResponse(u"The updated record."_s, record)}};
    update.shared << 400 << 404 << 415;
    addOperation(paths, update);

    Operation remove = governed(
        catalog, index, Rule::Delete, hides,
        {.method = u"delete"_s, .path = path, .id = u"delete%1Record"_s, .summary = u"Delete a %1 record"_s});
    remove.parameters = {id};
    remove.responses = {{u"204"_s, QJsonObject {{u"description"_s, u"Deleted."_s}}}};
    remove.shared << 400 << 404;
    addOperation(paths, remove);
}

void addExportPath(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    const QString name = catalog.schemaNames[index];
    Operation op = governed(catalog, index, Rule::List, u"records it excludes are left out."_s,
                            {.method = u"get"_s,
                             .path = u"/api/collections/"_s + c.name + u"/export"_s,
                             .id = u"export%1Records"_s,
                             .summary = u"Export %1 records"_s,
                             .description = u"Every record (optionally filtered and sorted), streamed; superusers "
                                            "also get hidden fields. At most 4 exports run at once.\n\n"_s});
    op.parameters = parameterRefs({u"ExportFormat"_s, u"Filter"_s, u"Sort"_s});
    QJsonObject media = content(u"application/json"_s, arrayOf(schemaRef(name + u"Record"_s)));
    media.insert(u"text/csv"_s,
                 QJsonObject {{u"schema"_s,
                               typed(u"string"_s,
                                     u"RFC 4180: a header row of field "
                                     "names in schema order, then a row per "
                                     "record; arrays and json values as "
                                     "JSON text."_s)}});
    const QJsonObject disposition {{u"description"_s, u"`attachment; filename=\"%1.csv\"` (or `.json`)."_s.arg(c.name)},
                                   {u"schema"_s, typed(u"string"_s)}};
    op.responses = {{u"200"_s,
                     QJsonObject {{u"description"_s, u"The records."_s},
                                  {u"headers"_s, QJsonObject {{u"Content-Disposition"_s, disposition}}},
                                  {u"content"_s, media}}},
                    {u"503"_s, problemResponse(u"Too many exports are running; try again later."_s)}};
    op.shared << 400;
    addOperation(paths, op);
}

void addImportPath(QJsonObject &paths, const Catalog &catalog, qsizetype index)
{
    const Collection &c = catalog.collections[index];
    Operation op = governed(catalog, index, Rule::Create, u"a row it excludes fails."_s,
                            {.method = u"post"_s,
                             .path = u"/api/collections/"_s + c.name + u"/import"_s,
                             .id = u"import%1Records"_s,
                             .summary = u"Import %1 records"_s,
                             .description = u"Creates a record per row (at most 100,000), each checked as a create "
                                            "is. CSV cells are read like form values; superusers may also set "
                                            "`created` and `updated`.\n\n"_s});
    op.parameters = parameterRefs({u"ImportOnError"_s});
    QJsonObject rows = content(u"application/json"_s, arrayOf(schemaRef(catalog.schemaNames[index] + u"CreateBody"_s)));
    rows.insert(u"text/csv"_s,
                QJsonObject {{u"schema"_s,
                              typed(u"string"_s,
                                    u"A header row of field names, then a "
                                    "row per record (RFC 4180)."_s)}});
    op.requestBody = {{u"required"_s, true}, {u"description"_s, u"The rows."_s}, {u"content"_s, rows}};
    op.responses = {{u"200"_s, jsonResponse(u"What was imported."_s, schemaRef(u"ImportResult"_s))},
                    {u"400"_s,
                     problemResponse(u"The body or a parameter is malformed, or rows failed with `onError=abort`: "
                                     "nothing was imported and `errors` lists the failed rows."_s,
                                     u"ImportProblem"_s)},
                    {u"415"_s, problemResponse(u"The body is neither `text/csv` nor `application/json`."_s)}};
    addOperation(paths, op);
}

} // namespace

void addCollectionParts(const QList<Collection> &collections, const QStringList &takenTags, QJsonObject &schemas,
                        QJsonObject &paths, QJsonArray &tags)
{
    const Catalog catalog = makeCatalog(collections, takenTags);
    for (qsizetype i = 0; i < collections.size(); ++i) {
        addRecordSchemas(schemas, catalog, i);
        addRecordsPaths(paths, catalog, i);
        addRecordPaths(paths, catalog, i);
        addExportPath(paths, catalog, i);
        addImportPath(paths, catalog, i);
        tags.append(
            QJsonObject {{u"name"_s, catalog.tags[i]},
                         {u"description"_s, u"Records of the %1 collection."_s.arg(code(collections[i].name))}});
    }
}

} // namespace Outpost::Http::OpenApi
