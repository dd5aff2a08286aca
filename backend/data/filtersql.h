#pragma once

#include <QString>
#include <QVariant>
#include <QVariantList>

#include "filterlexer.h"

// Internal to the filter compiler: the SQL for one comparison.
namespace Outpost::Data {

// One side of a comparison: a resolved field (SQL text, no parameters) or a value bound as one "?".
struct FilterOperand
{
    QString sql; // the resolver's expression, or "?" for a value
    QVariant value; // the bound value when isValue; a null QVariant binds NULL
    bool isValue = false;
    bool multiple = false; // sql yields, or value is, JSON array text
};

FilterOperand fieldOperand(QString sqlExpression, bool multiple);
FilterOperand valueOperand(QVariant value);
// A JSON array bound as text; an empty array becomes [null] (see "Multi-valued" in filter.h).
FilterOperand arrayOperand(const QString &jsonArray, bool isEmpty);

// SQL text with its parameters in placeholder order.
struct SqlFragment
{
    QString sql;
    QVariantList params;
};

// The comparison `left op right` with PocketBase's semantics (filter.h). aliasCounter numbers the json_each
// aliases of one compilation so that nested subqueries never shadow each other.
SqlFragment compareOperands(FilterOperator op, const FilterOperand &left, const FilterOperand &right,
                            int &aliasCounter);

// The LIKE pattern PocketBase makes of a "~" value: used as written when it contains '%', otherwise with
// unescaped '\', '%' and '_' escaped and wrapped in '%'.
QString likePattern(const QString &value);

} // namespace Outpost::Data
