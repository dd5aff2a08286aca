#include "filtervalues.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTimeZone>
#include <cmath>

namespace Outpost::Data {

namespace {

// PocketBase's DefaultDateLayout, "2006-01-02 15:04:05.000Z", always in UTC.
QString pocketBaseDate(const QDateTime &time)
{
    return time.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) + u'Z';
}

QString dayBoundary(QDate day, bool end)
{
    return pocketBaseDate(QDateTime(day, end ? QTime(23, 59, 59, 999) : QTime(0, 0), Qt::UTC));
}

std::optional<QString> dateStringMacro(QStringView name, const QDateTime &now)
{
    const QDate today = now.date();
    if (name == u"@now")
        return pocketBaseDate(now);
    if (name == u"@yesterday")
        return pocketBaseDate(now.addDays(-1));
    if (name == u"@tomorrow")
        return pocketBaseDate(now.addDays(1));
    if (name == u"@todayStart" || name == u"@todayEnd")
        return dayBoundary(today, name == u"@todayEnd");
    if (name == u"@monthStart")
        return dayBoundary(QDate(today.year(), today.month(), 1), false);
    if (name == u"@monthEnd")
        return dayBoundary(QDate(today.year(), today.month(), today.daysInMonth()), true);
    if (name == u"@yearStart")
        return dayBoundary(QDate(today.year(), 1, 1), false);
    if (name == u"@yearEnd")
        return dayBoundary(QDate(today.year(), 12, 31), true);
    return std::nullopt;
}

std::optional<qint64> dateNumberMacro(QStringView name, const QDateTime &now)
{
    if (name == u"@second")
        return now.time().second();
    if (name == u"@minute")
        return now.time().minute();
    if (name == u"@hour")
        return now.time().hour();
    if (name == u"@weekday")
        return now.date().dayOfWeek() % 7; // Go's time.Weekday: Sunday is 0
    if (name == u"@day")
        return now.date().day();
    if (name == u"@month")
        return now.date().month();
    if (name == u"@year")
        return now.date().year();
    return std::nullopt;
}

FilterOperand jsonOperand(const QJsonValue &value)
{
    // Whole doubles within 2^53 are integers, so that `views = @request.body.views` compares as integers.
    constexpr double kMaxExactInteger = 9007199254740992.0;
    switch (value.type()) {
    case QJsonValue::Bool:
        return valueOperand(qint64(value.toBool() ? 1 : 0));
    case QJsonValue::Double: {
        const double number = value.toDouble();
        if (std::trunc(number) == number && std::abs(number) <= kMaxExactInteger)
            return valueOperand(qint64(number));
        return valueOperand(number);
    }
    case QJsonValue::String:
        return valueOperand(value.toString());
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        return arrayOperand(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact)), array.isEmpty());
    }
    case QJsonValue::Object:
        return valueOperand(QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact)));
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        break;
    }
    return valueOperand(QVariant());
}

} // namespace

std::optional<FilterOperand> keywordOperand(QStringView identifier)
{
    if (identifier.compare(u"null", Qt::CaseInsensitive) == 0)
        return valueOperand(QVariant());
    if (identifier.compare(u"true", Qt::CaseInsensitive) == 0)
        return valueOperand(qint64(1));
    if (identifier.compare(u"false", Qt::CaseInsensitive) == 0)
        return valueOperand(qint64(0));
    return std::nullopt;
}

FilterOperand numberOperand(const QString &text)
{
    if (!text.contains(u'.')) {
        bool ok = false;
        const qint64 integer = text.toLongLong(&ok);
        if (ok)
            return valueOperand(integer);
    }
    return valueOperand(text.toDouble());
}

std::optional<QVariant> dateMacroValue(QStringView name, const QDateTime &now)
{
    const QDateTime utc = now.toUTC();
    if (auto text = dateStringMacro(name, utc))
        return QVariant(*text);
    if (auto number = dateNumberMacro(name, utc))
        return QVariant(*number);
    return std::nullopt;
}

FilterOperand contextOperand(const QJsonObject &object, const QStringList &path)
{
    QJsonValue value = object;
    for (const QString &key : path)
        value = value.isObject() ? value.toObject().value(key) : QJsonValue();
    return jsonOperand(value);
}

} // namespace Outpost::Data
