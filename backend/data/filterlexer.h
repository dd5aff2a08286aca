#pragma once

#include <QList>
#include <QString>
#include <optional>

#include "../core/result.h"

// Internal to the filter compiler (filter.h is the public interface).
namespace Outpost::Data {

struct FilterToken
{
    enum Kind { Identifier, String, Number, Operator, And, Or, OpenParen, CloseParen, End };
    Kind kind = End;
    QString text; // identifier, number or operator as written; a string's value without quotes and escapes
    int position = 0; // 1-based offset of the first character in the expression
    int length = 0; // characters the token spans in the expression
};

enum class FilterOp { Equal, NotEqual, Greater, GreaterOrEqual, Less, LessOrEqual, Like, NotLike };

struct FilterOperator
{
    FilterOp op = FilterOp::Equal;
    bool anyOf = false; // the "?" forms
};

// The operator spelled text, or nullopt when it is not one of the filter language's.
std::optional<FilterOperator> parseFilterOperator(QStringView text);

// Splits expression into tokens, skipping whitespace and "//" comments; the list always ends with an End
// token positioned one past the last character. Errors are InvalidArgument from filterSyntaxError().
Result<QList<FilterToken>> tokenizeFilter(QStringView expression);

// `filter: at position N: <what>` as InvalidArgument with details {"position": N}.
Error filterSyntaxError(int position, const QString &what);

} // namespace Outpost::Data
