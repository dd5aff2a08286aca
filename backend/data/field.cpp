#include "field.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <algorithm>
#include <climits>
#include <cmath>

#include "fieldformats.h"

namespace Outpost::Data {

namespace {

// Codes as PocketBase's ozzo-validation rules name them, so clients can map them the same way.
const QString kInvalidValue = QStringLiteral("validation_invalid_value");
const QString kRequired = QStringLiteral("validation_required");
const QString kMinGreater = QStringLiteral("validation_min_greater_equal_than_required");
const QString kInvalidRegex = QStringLiteral("validation_invalid_regex");

constexpr qint64 kMaxSafeInteger = (qint64(1) << 53); // beyond it a JSON number is not an exact integer

const QList<std::pair<FieldType, QString>> &typeNames()
{
    static const QList<std::pair<FieldType, QString>> names {
        {FieldType::Text, QStringLiteral("text")},         {FieldType::Number, QStringLiteral("number")},
        {FieldType::Bool, QStringLiteral("bool")},         {FieldType::Email, QStringLiteral("email")},
        {FieldType::Url, QStringLiteral("url")},           {FieldType::Date, QStringLiteral("date")},
        {FieldType::Select, QStringLiteral("select")},     {FieldType::Json, QStringLiteral("json")},
        {FieldType::Relation, QStringLiteral("relation")}, {FieldType::AutoDate, QStringLiteral("autodate")},
        {FieldType::Password, QStringLiteral("password")},
    };
    return names;
}

// Reads typed options from a field definition; the first problem is kept and reported.
class OptionReader
{
public:
    OptionReader(const QJsonObject &json, const QString &fieldName)
        : m_json(json)
        , m_field(fieldName)
    {
    }

    bool boolean(const char *key)
    {
        const QJsonValue v = m_json.value(QLatin1String(key));
        if (!v.isBool() && !v.isNull() && !v.isUndefined())
            fail(key, kInvalidValue, QStringLiteral("must be a boolean"));
        return v.toBool();
    }

    // A whole number in [0, highest]; `fallback` when absent or null.
    qint64 integer(const char *key, qint64 fallback, qint64 highest = INT_MAX)
    {
        const QJsonValue v = m_json.value(QLatin1String(key));
        if (v.isNull() || v.isUndefined())
            return fallback;
        const double d = v.toDouble(-1);
        if (!v.isDouble() || d != std::trunc(d) || d < 0 || d > double(highest)) {
            fail(key, kInvalidValue, QStringLiteral("must be a whole number from 0 to %1").arg(highest));
            return fallback;
        }
        return static_cast<qint64>(d);
    }

    std::optional<double> number(const char *key)
    {
        const QJsonValue v = m_json.value(QLatin1String(key));
        if (v.isNull() || v.isUndefined())
            return std::nullopt;
        if (!v.isDouble())
            fail(key, kInvalidValue, QStringLiteral("must be a number or null"));
        return v.isDouble() ? std::optional<double>(v.toDouble()) : std::nullopt;
    }

    QString string(const char *key)
    {
        const QJsonValue v = m_json.value(QLatin1String(key));
        if (!v.isString() && !v.isNull() && !v.isUndefined())
            fail(key, kInvalidValue, QStringLiteral("must be a string"));
        return v.toString();
    }

    QStringList strings(const char *key)
    {
        const QJsonValue v = m_json.value(QLatin1String(key));
        QStringList result;
        if (v.isNull() || v.isUndefined())
            return result;
        const QJsonArray array = v.toArray();
        for (const QJsonValue &item : array)
            result.append(item.toString());
        if (!v.isArray() || std::any_of(array.begin(), array.end(), [](const QJsonValue &i) { return !i.isString(); }))
            fail(key, kInvalidValue, QStringLiteral("must be an array of strings"));
        return result;
    }

    void fail(const char *key, const QString &code, const QString &problem)
    {
        if (m_error)
            return;
        const QString option = QLatin1String(key);
        m_error = makeError(ErrorCode::InvalidArgument,
                            QStringLiteral("Field \"%1\": option \"%2\" %3.").arg(m_field, option, problem),
                            QJsonObject {{QStringLiteral("field"), m_field},
                                         {QStringLiteral("option"), option},
                                         {QStringLiteral("code"), code},
                                         {QStringLiteral("message"), problem}});
    }

    const std::optional<Error> &error() const { return m_error; }

private:
    const QJsonObject &m_json;
    QString m_field;
    std::optional<Error> m_error;
};

void readName(OptionReader &r, Field &f)
{
    static const QRegularExpression pattern(QStringLiteral("\\A[A-Za-z_][A-Za-z0-9_]{0,62}\\z"));
    if (f.name.isEmpty())
        r.fail("name", kRequired, QStringLiteral("is required"));
    else if (!pattern.match(f.name).hasMatch())
        r.fail("name", QStringLiteral("validation_match_invalid"),
               QStringLiteral("must start with a letter or _ and hold at most 63 letters, digits or _"));
    else if (!f.system
             && QStringList {QStringLiteral("id"), QStringLiteral("collectionId"), QStringLiteral("collectionName"),
                             QStringLiteral("expand"), QStringLiteral("null"), QStringLiteral("true"),
                             QStringLiteral("false"), QStringLiteral("_rowid_")}
                    .contains(f.name, Qt::CaseInsensitive))
        r.fail("name", QStringLiteral("validation_not_in_invalid"), QStringLiteral("is reserved for system fields"));
}

void readText(OptionReader &r, Field &f)
{
    f.minLength = int(r.integer("min", 0));
    f.maxLength = int(r.integer("max", 0));
    f.pattern = r.string("pattern");
    f.autogeneratePattern = r.string("autogeneratePattern");
    f.primaryKey = r.boolean("primaryKey");
    if (f.maxLength > 0 && f.minLength > f.maxLength)
        r.fail("max", kMinGreater, QStringLiteral("must not be less than \"min\""));
    const QRegularExpression re(Formats::toPcre(f.pattern));
    if (!re.isValid())
        r.fail("pattern", kInvalidRegex,
               QStringLiteral("is not a valid regular expression (%1)").arg(re.errorString()));
    if (!f.autogeneratePattern.isEmpty() && !Formats::canGenerate(f.autogeneratePattern))
        r.fail("autogeneratePattern", kInvalidRegex,
               QStringLiteral("must be literals, \\d, \\w and [classes] with {n}, {n,m} or ? quantifiers"));
}

void readNumber(OptionReader &r, Field &f)
{
    f.min = r.number("min");
    f.max = r.number("max");
    f.onlyInt = r.boolean("onlyInt");
    if (f.min && f.max && *f.max < *f.min)
        r.fail("max", kMinGreater, QStringLiteral("must not be less than \"min\""));
}

void readDomains(OptionReader &r, Field &f)
{
    static const QRegularExpression domain(QStringLiteral(
        "\\A[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\\z"));
    f.exceptDomains = r.strings("exceptDomains");
    f.onlyDomains = r.strings("onlyDomains");
    if (!f.exceptDomains.isEmpty() && !f.onlyDomains.isEmpty())
        r.fail("exceptDomains", kInvalidValue, QStringLiteral("must be empty when \"onlyDomains\" is set"));
    const auto notDomain = [](const QString &d) { return !domain.match(d).hasMatch(); };
    if (std::any_of(f.exceptDomains.cbegin(), f.exceptDomains.cend(), notDomain))
        r.fail("exceptDomains", QStringLiteral("validation_is_domain"), QStringLiteral("must hold domain names"));
    if (std::any_of(f.onlyDomains.cbegin(), f.onlyDomains.cend(), notDomain))
        r.fail("onlyDomains", QStringLiteral("validation_is_domain"), QStringLiteral("must hold domain names"));
}

void readDate(OptionReader &r, Field &f)
{
    const auto bound = [&r](const char *key) {
        const QString text = r.string(key);
        if (text.isEmpty())
            return QString();
        const auto date = Formats::parseDate(text);
        if (!date)
            r.fail(key, QStringLiteral("validation_invalid_date"), QStringLiteral("must be a date or empty"));
        return date ? Formats::formatDate(*date) : QString();
    };
    f.minDate = bound("min");
    f.maxDate = bound("max");
    if (!f.minDate.isEmpty() && !f.maxDate.isEmpty() && f.maxDate < f.minDate) // the stored form sorts as text
        r.fail("max", kMinGreater, QStringLiteral("must not be before \"min\""));
}

void readSelect(OptionReader &r, Field &f)
{
    f.values = r.strings("values");
    f.maxSelect = int(r.integer("maxSelect", 1));
    if (f.values.isEmpty())
        r.fail("values", kRequired, QStringLiteral("must hold at least one value"));
    else if (f.values.contains(QString()))
        r.fail("values", kInvalidValue, QStringLiteral("must not hold an empty value"));
    else if (QStringList unique = f.values; unique.removeDuplicates() != 0)
        r.fail("values", kInvalidValue, QStringLiteral("must not hold a value twice"));
    if (f.maxSelect < 1)
        r.fail("maxSelect", QStringLiteral("validation_min_greater_equal_than_required"),
               QStringLiteral("must be at least 1"));
    else if (!f.values.isEmpty() && f.maxSelect > f.values.size())
        r.fail("maxSelect", QStringLiteral("validation_max_less_equal_than_required"),
               QStringLiteral("must not exceed the number of values (%1)").arg(f.values.size()));
}

void readRelation(OptionReader &r, Field &f)
{
    static const QRegularExpression collectionId(QStringLiteral("\\A[A-Za-z0-9_]{1,100}\\z"));
    f.collectionId = r.string("collectionId");
    f.cascadeDelete = r.boolean("cascadeDelete");
    f.minSelect = int(r.integer("minSelect", 0));
    f.maxSelect = int(r.integer("maxSelect", 1));
    if (f.collectionId.isEmpty())
        r.fail("collectionId", kRequired, QStringLiteral("is required"));
    else if (!collectionId.match(f.collectionId).hasMatch())
        r.fail("collectionId", kInvalidValue, QStringLiteral("must be a collection id"));
    if (f.maxSelect < 1)
        r.fail("maxSelect", kMinGreater, QStringLiteral("must be at least 1"));
    else if (f.minSelect > f.maxSelect)
        r.fail("maxSelect", kMinGreater, QStringLiteral("must not be less than \"minSelect\""));
}

void readTypeOptions(OptionReader &r, Field &f)
{
    switch (f.type) {
    case FieldType::Text:
        return readText(r, f);
    case FieldType::Number:
        return readNumber(r, f);
    case FieldType::Bool:
        return;
    case FieldType::Email:
    case FieldType::Url:
        return readDomains(r, f);
    case FieldType::Date:
        return readDate(r, f);
    case FieldType::Select:
        return readSelect(r, f);
    case FieldType::Json:
        f.maxSize = r.integer("maxSize", 0, kMaxSafeInteger);
        return;
    case FieldType::Relation:
        return readRelation(r, f);
    case FieldType::AutoDate:
        f.onCreate = r.boolean("onCreate");
        f.onUpdate = r.boolean("onUpdate");
        if (!f.onCreate && !f.onUpdate)
            r.fail("onCreate", kRequired, QStringLiteral("or \"onUpdate\" must be true"));
        return;
    case FieldType::Password:
        // The shortest password accepted (0: the default policy's minimum).
        f.minLength = int(r.integer("min", 0, 1024));
        return;
    }
}

QJsonValue domainsJson(const QStringList &domains)
{
    return domains.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(QJsonArray::fromStringList(domains));
}

QJsonValue optionalJson(const std::optional<double> &value)
{
    return value ? QJsonValue(*value) : QJsonValue(QJsonValue::Null);
}

} // namespace

QString fieldTypeName(FieldType type)
{
    for (const auto &[t, name] : typeNames()) {
        if (t == type)
            return name;
    }
    return {};
}

std::optional<FieldType> fieldTypeFromName(const QString &name)
{
    for (const auto &[type, n] : typeNames()) {
        if (n == name)
            return type;
    }
    return std::nullopt;
}

Result<Field> Field::fromJson(const QJsonObject &json)
{
    Field f;
    OptionReader r(json, json.value(QStringLiteral("name")).toString());
    f.id = r.string("id");
    f.name = r.string("name");
    f.required = r.boolean("required");
    f.hidden = r.boolean("hidden");
    f.system = r.boolean("system");
    f.presentable = r.boolean("presentable");
    readName(r, f);
    const QString typeName = r.string("type");
    if (const auto type = fieldTypeFromName(typeName)) {
        f.type = *type;
        readTypeOptions(r, f);
    } else {
        r.fail("type", kInvalidValue, QStringLiteral("has an unsupported value \"%1\"").arg(typeName));
    }
    if (r.error())
        return *r.error();
    return f;
}

QJsonObject Field::toJson() const
{
    QJsonObject json {{QStringLiteral("id"), id},
                      {QStringLiteral("name"), name},
                      {QStringLiteral("type"), fieldTypeName(type)},
                      {QStringLiteral("required"), required},
                      {QStringLiteral("hidden"), hidden},
                      {QStringLiteral("system"), system},
                      {QStringLiteral("presentable"), presentable}};
    const auto put = [&json](const char *key, const QJsonValue &value) { json.insert(QLatin1String(key), value); };
    switch (type) {
    case FieldType::Text:
        put("min", minLength);
        put("max", maxLength);
        put("pattern", pattern);
        put("autogeneratePattern", autogeneratePattern);
        put("primaryKey", primaryKey);
        break;
    case FieldType::Number:
        put("min", optionalJson(min));
        put("max", optionalJson(max));
        put("onlyInt", onlyInt);
        break;
    case FieldType::Bool:
        break;
    case FieldType::Email:
    case FieldType::Url:
        put("exceptDomains", domainsJson(exceptDomains));
        put("onlyDomains", domainsJson(onlyDomains));
        break;
    case FieldType::Date:
        put("min", minDate);
        put("max", maxDate);
        break;
    case FieldType::Select:
        put("values", QJsonArray::fromStringList(values));
        put("maxSelect", maxSelect);
        break;
    case FieldType::Json:
        put("maxSize", maxSize);
        break;
    case FieldType::Relation:
        put("collectionId", collectionId);
        put("cascadeDelete", cascadeDelete);
        put("minSelect", minSelect);
        put("maxSelect", maxSelect);
        break;
    case FieldType::AutoDate:
        put("onCreate", onCreate);
        put("onUpdate", onUpdate);
        break;
    case FieldType::Password:
        put("min", minLength);
        break;
    }
    return json;
}

bool Field::isMultiple() const
{
    return (type == FieldType::Select || type == FieldType::Relation) && maxSelect > 1;
}

QString Field::sqlType() const
{
    switch (type) {
    case FieldType::Number:
        return QStringLiteral("REAL");
    case FieldType::Bool:
        return QStringLiteral("INTEGER");
    default:
        return QStringLiteral("TEXT");
    }
}

} // namespace Outpost::Data
