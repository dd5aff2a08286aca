#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QStringList>
#include <optional>

#include "filtersql.h"

// Internal to the filter compiler: the values of literals, macros and @request placeholders.
namespace Outpost::Data {

// true, false or null (any case) as a bound value, or nullopt for any other identifier.
std::optional<FilterOperand> keywordOperand(QStringView identifier);

// A number token: qint64 when it has no fraction and fits, double otherwise.
FilterOperand numberOperand(const QString &text);

// The value of a date macro ("@now", "@monthEnd", "@year", ...) at now (UTC), or nullopt for an unknown name.
std::optional<QVariant> dateMacroValue(QStringView name, const QDateTime &now);

// The value at path inside object, or null when any step is missing or not an object.
FilterOperand contextOperand(const QJsonObject &object, const QStringList &path);

} // namespace Outpost::Data
