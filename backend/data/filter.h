#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVariantList>

#include "../core/result.h"

namespace Outpost {
class Clock;
}

namespace Outpost::Data {

// PocketBase-compatible record filters ("title ~ 'abc' && views > 10"), compiled to a parameterised SQLite
// WHERE-clause expression. Nothing from the expression or the request context is ever spliced into the SQL
// text: literals and @request.* values become bound parameters, field names go through a FieldResolver the
// caller owns, and everything else is fixed text from this module.
//
// Grammar (PocketBase's):
//   expression := and ( "||" and )*          "&&" binds tighter than "||"
//   and        := group ( "&&" group )*
//   group      := "(" expression ")" | operand operator operand
//   operand    := field path ("title", "author.name") | 'string' | "string" | number | true | false | null
//               | @now | @yesterday | @tomorrow | @todayStart | @todayEnd | @monthStart | @monthEnd
//               | @yearStart | @yearEnd | @second | @minute | @hour | @weekday | @day | @month | @year
//               | @request.auth.<path> | @request.body.<path> | @request.query.<path> | @request.headers.<path>
//   operator   := = != > >= < <= ~ !~ and their any-of forms ?= ?!= ?> ?>= ?< ?<= ?~ ?!~
// Whitespace is free and "//" starts a comment that runs to the end of the line. Inside a string only a
// backslash before the string's own quote is an escape; other backslashes are kept, as in PocketBase, so
// "50\%" reaches LIKE as an escaped percent sign; a "\\" pair stays two backslashes but does not escape a
// quote after it. null/true/false are case-insensitive.
//
// Semantics (PocketBase's):
// - "=" and "!=" treat NULL and '' alike: `f = null` is (f = '' OR f IS NULL); "!=" is NULL-safe
//   (IS NOT), so `f != 'x'` matches rows where f is NULL. Two fields compare as COALESCE(a, '') = COALESCE(b, '').
// - "~" is LIKE ... ESCAPE '\'. A bound right-hand value without '%' is wrapped as '%value%' and its
//   unescaped '\' and '_' are escaped first (a contains-match); a value with '%' is used as written. A field
//   on the right becomes ('%' || field || '%').
// - Multi-valued operands (ResolvedField::multiple, or a JSON array in the request context) hold a JSON
//   array. The any-of forms ("?=") match when at least one element satisfies the comparison:
//   EXISTS (SELECT 1 FROM json_each(f) WHERE value = ?). The plain forms match when every element does:
//   NOT EXISTS (... WHERE (value = ?) IS NOT 1). An empty array or NULL behaves as a single null element,
//   so `tags = null` matches an empty list and `tags = 'a'` does not. On single-valued operands the any-of
//   forms are the plain ones.
// - Date macros are UTC strings formatted like PocketBase dates ("2006-01-02 15:04:05.000Z"); @second ..
//   @year are integers (@weekday: 0 = Sunday). A missing @request value is null.
//
// Modifiers: "field:lower" (LOWER()), "field:length" (elements of a multi-valued field, characters of
// a single one), "@request.body.x:isset" (whether the key was submitted), "@request.*.x:length" and
// ":lower" on request values.
//
// Not supported yet (they fail with an InvalidArgument naming the position): the ":each" and
// ":changed" modifiers, @collection.* joins, @request.method and @request.context, and geo/strftime
// functions.

// Limits that keep a hostile filter from using unbounded memory or stack.
constexpr qsizetype kMaxFilterLength = 4096; // characters (UTF-16 code units)
constexpr int kMaxFilterDepth = 32; // nested parentheses

// True for ^[A-Za-z_][A-Za-z0-9_]{0,62}$, the only identifiers this backend puts into SQL text.
bool isValidIdentifier(QStringView identifier);

// The identifier double-quoted for SQL, or InvalidArgument when it is not valid (see above).
Result<QString> quoteIdentifier(QStringView identifier);

// What a field path stands for in SQL.
struct ResolvedField
{
    // An SQL expression built only from validated, quoted identifiers and fixed text, never from request
    // text: "\"posts\".\"title\"", or a correlated subquery for a relation path. It must not contain "?".
    QString sqlExpression;
    // True when the expression yields JSON array text (multiple select, relation or file field).
    bool multiple = false;
};

// Maps field paths to SQL. The caller implements it over its collection schema.
class FieldResolver
{
public:
    virtual ~FieldResolver() = default;
    // path is the dotted identifier split at '.'; every element already matches isValidIdentifier().
    // Return an error (typically InvalidArgument "unknown field") for a path the caller does not allow;
    // compileFilter() passes its code on and prefixes its message with the position.
    virtual Result<ResolvedField> resolve(const QStringList &path) const = 0;
};

// Values for @request.* placeholders and the date macros. Missing keys resolve to null.
struct FilterContext
{
    QJsonObject auth; // the authenticated record; empty for guests
    QJsonObject body;
    QJsonObject query;
    QJsonObject headers; // keys as PocketBase spells them: lower case, '-' replaced by '_'
    const Clock *clock = nullptr; // required only when a date macro is used; not owned
};

struct CompiledFilter
{
    QString sql; // a boolean SQL expression; values appear only as "?" placeholders
    QVariantList params; // in placeholder order: QString, qint64 (also for booleans, 1/0), double, or
                         // a null QVariant for NULL
};

// Compiles expression to SQL. Errors are InvalidArgument with a message such as
// `filter: at position 14: expected a value after "=", found end of input` and details {"position": N}
// (1-based, in UTF-16 code units); an empty expression is an error too (callers skip filtering instead).
// Resolver errors keep their code and gain the position. Using a date macro without a clock is Internal.
// Pure function: thread-safe as long as the resolver is.
Result<CompiledFilter> compileFilter(QStringView expression, const FieldResolver &resolver,
                                     const FilterContext &context);

// compileFilter() for a list's `filter` query parameter: the same, but an error's message reads
// `Invalid filter: at position 14: ...` and its code is InvalidArgument (the API answers 400);
// details are kept.
Result<CompiledFilter> compileRequestFilter(QStringView expression, const FieldResolver &resolver,
                                            const FilterContext &context);

} // namespace Outpost::Data
