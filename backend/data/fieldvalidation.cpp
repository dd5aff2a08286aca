#include "fieldvalidation.h"

#include <QHash>
#include <QJsonArray>
#include <QLocale>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>

#include "fieldformats.h"

namespace Outpost::Data {

namespace {

using ValueResult = Result<QJsonValue>;

const QString kInvalidValue = QStringLiteral("validation_invalid_value");

Error problem(const Field &field, const QString &code, const QString &message)
{
    const QJsonObject details {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
    return makeError(ErrorCode::InvalidArgument, message,
                     QJsonObject {{QStringLiteral("fields"), QJsonObject {{field.name, details}}}});
}

Error blankRequired(const Field &field)
{
    return problem(field, QStringLiteral("validation_required"), QStringLiteral("Cannot be blank."));
}

QString numberText(double value)
{
    return QString::number(value, 'g', QLocale::FloatingPointShortest);
}

// A string as PocketBase's cast.ToString makes one from a scalar; nullopt for arrays and objects.
std::optional<QString> toText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return QString();
    case QJsonValue::String:
        return value.toString();
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Double:
        return numberText(value.toDouble());
    default:
        return std::nullopt;
    }
}

// Characters as PocketBase counts them (runes): a surrogate pair is one.
qsizetype codePoints(const QString &text)
{
    qsizetype count = text.size();
    for (qsizetype i = 0; i + 1 < text.size(); ++i) {
        if (text[i].isHighSurrogate() && text[i + 1].isLowSurrogate())
            --count;
    }
    return count;
}

// Compiling a pattern costs far more than matching it (it was a tenth of a create's CPU time), so
// each thread keeps the ones it has compiled: no locking, and patterns are few. The bound only
// guards against a schema that churns through patterns.
const QRegularExpression &compiledPattern(const QString &pattern)
{
    thread_local QHash<QString, QRegularExpression> compiled;
    if (auto it = compiled.constFind(pattern); it != compiled.cend())
        return *it;
    if (compiled.size() >= 256)
        compiled.clear();
    QRegularExpression re(Formats::toPcre(pattern));
    re.optimize();
    return *compiled.insert(pattern, re);
}

ValueResult validateText(const Field &f, const QJsonValue &input)
{
    const auto text = toText(input);
    if (!text)
        return problem(f, kInvalidValue, QStringLiteral("Must be a string."));
    if (text->isEmpty())
        return f.required || f.primaryKey ? ValueResult(blankRequired(f)) : ValueResult(QJsonValue(QString()));
    const qsizetype length = codePoints(*text);
    if (f.minLength > 0 && length < f.minLength)
        return problem(f, QStringLiteral("validation_min_text_constraint"),
                       QStringLiteral("Must be at least %1 character(s).").arg(f.minLength));
    if (length > f.effectiveMaxLength())
        return problem(f, QStringLiteral("validation_max_text_constraint"),
                       QStringLiteral("Must be less than %1 character(s).").arg(f.effectiveMaxLength()));
    if (!f.pattern.isEmpty() && !compiledPattern(f.pattern).match(*text).hasMatch())
        return problem(f, QStringLiteral("validation_invalid_format"), QStringLiteral("Invalid value format."));
    return QJsonValue(*text);
}

ValueResult validateNumber(const Field &f, const QJsonValue &input)
{
    double value = 0;
    bool ok = true;
    if (input.isDouble())
        value = input.toDouble();
    else if (input.isString() && !input.toString().trimmed().isEmpty())
        value = input.toString().toDouble(&ok);
    else if (!input.isString() && !input.isNull() && !input.isUndefined())
        ok = false;
    if (!ok || !std::isfinite(value))
        return problem(f, QStringLiteral("validation_not_a_number"),
                       QStringLiteral("The submitted number is not properly formatted."));
    if (value == 0) // PocketBase's blank number: only `required` applies
        return f.required ? ValueResult(blankRequired(f)) : ValueResult(QJsonValue(0.0));
    if (f.onlyInt && value != std::trunc(value))
        return problem(f, QStringLiteral("validation_only_int_constraint"),
                       QStringLiteral("Decimal numbers are not allowed."));
    if (f.min && value < *f.min)
        return problem(f, QStringLiteral("validation_min_number_constraint"),
                       QStringLiteral("Must be larger than %1.").arg(numberText(*f.min)));
    if (f.max && value > *f.max)
        return problem(f, QStringLiteral("validation_max_number_constraint"),
                       QStringLiteral("Must be less than %1.").arg(numberText(*f.max)));
    return QJsonValue(value);
}

std::optional<bool> toBool(const QJsonValue &value)
{
    if (value.isBool())
        return value.toBool();
    if (value.isNull() || value.isUndefined())
        return false;
    if (value.isDouble() && (value.toDouble() == 0 || value.toDouble() == 1))
        return value.toDouble() == 1;
    const QString text = value.toString(QStringLiteral("?"));
    if (text == u"true" || text == u"1")
        return true;
    if (text == u"false" || text == u"0" || text.isEmpty())
        return false;
    return std::nullopt;
}

ValueResult validateBool(const Field &f, const QJsonValue &input)
{
    const auto value = toBool(input);
    if (!value)
        return problem(f, kInvalidValue, QStringLiteral("Must be a boolean."));
    if (f.required && !*value)
        return blankRequired(f);
    return QJsonValue(*value);
}

// Email and url: the same blank, format and domain rules with their own codes.
ValueResult validateAddress(const Field &f, const QJsonValue &input)
{
    const bool email = f.type == FieldType::Email;
    const auto text = toText(input);
    const Error invalid = email
        ? problem(f, QStringLiteral("validation_is_email"), QStringLiteral("Must be a valid email address."))
        : problem(f, QStringLiteral("validation_is_url"), QStringLiteral("Must be a valid url."));
    if (!text)
        return invalid;
    if (text->isEmpty())
        return f.required ? ValueResult(blankRequired(f)) : ValueResult(QJsonValue(QString()));
    std::optional<QString> domain;
    if (email && Formats::isValidEmail(*text))
        domain = text->mid(text->lastIndexOf(u'@') + 1);
    else if (!email)
        domain = Formats::urlHost(*text);
    if (!domain)
        return invalid;
    if ((!f.onlyDomains.isEmpty() && !f.onlyDomains.contains(*domain, Qt::CaseInsensitive))
        || f.exceptDomains.contains(*domain, Qt::CaseInsensitive))
        return email ? problem(f, QStringLiteral("validation_email_domain_not_allowed"),
                               QStringLiteral("Email domain is not allowed."))
                     : problem(f, QStringLiteral("validation_url_domain_not_allowed"),
                               QStringLiteral("Url domain is not allowed."));
    return QJsonValue(*text);
}

ValueResult validateDate(const Field &f, const QJsonValue &input)
{
    if (input.isNull() || input.isUndefined() || (input.isString() && input.toString().trimmed().isEmpty()))
        return f.required ? ValueResult(blankRequired(f)) : ValueResult(QJsonValue(QString()));
    const auto date = input.isString() ? Formats::parseDate(input.toString()) : std::nullopt;
    if (!date)
        return problem(f, QStringLiteral("validation_invalid_date"), QStringLiteral("Must be a valid date."));
    const QString stored = Formats::formatDate(*date);
    // The stored form has fixed width, so text order is time order.
    if (!f.minDate.isEmpty() && stored < f.minDate)
        return problem(f, QStringLiteral("validation_min_date_constraint"),
                       QStringLiteral("Must be no earlier than %1.").arg(f.minDate));
    if (!f.maxDate.isEmpty() && stored > f.maxDate)
        return problem(f, QStringLiteral("validation_max_date_constraint"),
                       QStringLiteral("Must be no later than %1.").arg(f.maxDate));
    return QJsonValue(stored);
}

// PocketBase's list.ToUniqueStringSlice: a string or an array of strings, without empty strings
// and duplicates, in submitted order. nullopt for anything else.
std::optional<QStringList> toStrings(const QJsonValue &value)
{
    QStringList result;
    if (value.isNull() || value.isUndefined())
        return result;
    if (value.isString()) {
        if (!value.toString().isEmpty())
            result.append(value.toString());
        return result;
    }
    if (!value.isArray())
        return std::nullopt;
    const QJsonArray array = value.toArray();
    for (const QJsonValue &item : array) {
        if (!item.isString())
            return std::nullopt;
        if (!item.toString().isEmpty() && !result.contains(item.toString()))
            result.append(item.toString());
    }
    return result;
}

// The list a select or relation field keeps: a single field keeps the last value, as PocketBase does.
std::optional<QStringList> selection(const Field &f, const QJsonValue &input)
{
    auto list = toStrings(input);
    if (list && !f.isMultiple() && list->size() > 1)
        list = QStringList {list->constLast()};
    return list;
}

QJsonValue storedSelection(const Field &f, const QStringList &list)
{
    return f.isMultiple() ? QJsonValue(QJsonArray::fromStringList(list)) : QJsonValue(list.value(0));
}

ValueResult validateSelect(const Field &f, const QJsonValue &input)
{
    const auto list = selection(f, input);
    if (!list)
        return problem(f, kInvalidValue, QStringLiteral("Must be a string or an array of strings."));
    if (list->isEmpty())
        return f.required ? ValueResult(blankRequired(f)) : ValueResult(storedSelection(f, {}));
    if (list->size() > f.maxSelect)
        return problem(f, QStringLiteral("validation_too_many_values"),
                       QStringLiteral("Select no more than %1.").arg(f.maxSelect));
    for (const QString &value : *list) {
        if (!f.values.contains(value))
            return problem(f, kInvalidValue, QStringLiteral("Invalid value %1.").arg(value));
    }
    return storedSelection(f, *list);
}

ValueResult validateRelation(const Field &f, const QJsonValue &input)
{
    const auto list = selection(f, input);
    if (!list)
        return problem(f, kInvalidValue, QStringLiteral("Must be a record id or an array of record ids."));
    if (list->isEmpty())
        return f.required ? ValueResult(blankRequired(f)) : ValueResult(storedSelection(f, {}));
    if (f.minSelect > 0 && list->size() < f.minSelect)
        return problem(f, QStringLiteral("validation_not_enough_values"),
                       QStringLiteral("Select at least %1.").arg(f.minSelect));
    if (list->size() > std::max(f.maxSelect, 1))
        return problem(f, QStringLiteral("validation_too_many_values"),
                       QStringLiteral("Select no more than %1.").arg(std::max(f.maxSelect, 1)));
    for (const QString &id : *list) {
        if (!Formats::isRecordId(id))
            return problem(f, kInvalidValue, QStringLiteral("Invalid record id %1.").arg(id));
    }
    return storedSelection(f, *list);
}

ValueResult validateJson(const Field &f, const QJsonValue &input, InputSource source)
{
    QJsonValue value = input.isUndefined() ? QJsonValue(QJsonValue::Null) : input;
    if (source == InputSource::FormData && input.isString()) {
        const QString text = input.toString();
        if (text.size() > f.effectiveMaxSize()) // UTF-16 units never outnumber UTF-8 bytes: no parse needed
            return problem(f, QStringLiteral("validation_json_too_large"),
                           QStringLiteral("The maximum allowed JSON size is %1 bytes.").arg(f.effectiveMaxSize()));
        const auto parsed = text.trimmed().isEmpty() ? QJsonValue(QJsonValue::Null) : Formats::parseJson(text);
        if (!parsed)
            return problem(f, QStringLiteral("validation_invalid_json"), QStringLiteral("Must be a valid json value."));
        value = *parsed;
    }
    if (Formats::jsonSize(value) > f.effectiveMaxSize())
        return problem(f, QStringLiteral("validation_json_too_large"),
                       QStringLiteral("The maximum allowed JSON size is %1 bytes.").arg(f.effectiveMaxSize()));
    if (f.required && isBlank(value))
        return blankRequired(f);
    return value;
}

// The auth layer hashes a submitted password before the record is written (see Auth::AppUsers);
// what reaches validation is the PHC string, so anything else is a caller bypassing that step.
ValueResult validatePasswordHash(const Field &f, const QJsonValue &value)
{
    if (isBlank(value))
        return f.required ? ValueResult(blankRequired(f)) : ValueResult(QJsonValue(QString()));
    if (!value.isString() || !value.toString().startsWith(u"$argon2id$"))
        return problem(f, kInvalidValue, QStringLiteral("Passwords are set through the record API only."));
    return value;
}

} // namespace

bool isBlank(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        return true;
    case QJsonValue::String:
        return value.toString().isEmpty();
    case QJsonValue::Array:
        return value.toArray().isEmpty();
    case QJsonValue::Object:
        return value.toObject().isEmpty();
    default:
        return false;
    }
}

Result<QJsonValue> validateValue(const Field &field, const QJsonValue &input, InputSource source)
{
    switch (field.type) {
    case FieldType::Text:
        return validateText(field, input);
    case FieldType::Number:
        return validateNumber(field, input);
    case FieldType::Bool:
        return validateBool(field, input);
    case FieldType::Email:
    case FieldType::Url:
        return validateAddress(field, input);
    case FieldType::Date:
    case FieldType::AutoDate:
        return validateDate(field, input);
    case FieldType::Select:
        return validateSelect(field, input);
    case FieldType::Json:
        return validateJson(field, input, source);
    case FieldType::Relation:
        return validateRelation(field, input);
    case FieldType::Password:
        return validatePasswordHash(field, input);
    }
    return problem(field, kInvalidValue, QStringLiteral("Unsupported field type."));
}

Result<QJsonObject> validateRecord(const QList<Field> &fields, const QJsonObject &input, Mode mode, const Clock &clock,
                                   InputSource source)
{
    const QString now = Formats::formatDate(clock.now());
    QJsonObject record;
    QJsonObject problems;
    for (const Field &field : fields) {
        if (field.type == FieldType::AutoDate) {
            if (mode == Mode::Create ? field.onCreate : field.onUpdate)
                record.insert(field.name, now);
            else if (mode == Mode::Create)
                record.insert(field.name, QString());
            continue;
        }
        if (mode == Mode::Update && (field.primaryKey || !input.contains(field.name)))
            continue;
        QJsonValue value = input.value(field.name);
        if (mode == Mode::Create && field.type == FieldType::Text && !field.autogeneratePattern.isEmpty()
            && isBlank(value))
            value = Formats::generate(field.autogeneratePattern);
        const auto result = validateValue(field, value, source);
        if (result)
            record.insert(field.name, *result);
        else
            problems.insert(field.name, result.error().details.value(QStringLiteral("fields"))[field.name]);
    }
    if (!problems.isEmpty())
        return makeError(ErrorCode::InvalidArgument,
                         mode == Mode::Create ? QStringLiteral("Failed to create record.")
                                              : QStringLiteral("Failed to update record."),
                         QJsonObject {{QStringLiteral("fields"), problems}});
    return record;
}

} // namespace Outpost::Data
