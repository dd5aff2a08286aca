#include "filter.h"

#include "../core/clock.h"
#include "filterlexer.h"
#include "filtersql.h"
#include "filtervalues.h"

namespace Outpost::Data {

namespace {

constexpr qsizetype kMaxQuotedLength = 32; // of request text echoed in an error message
constexpr qsizetype kMaxIdentifierLength = 63;

class FilterParser
{
public:
    FilterParser(QStringView input, QList<FilterToken> tokens, const FieldResolver &resolver,
                 const FilterContext &context)
        : m_input(input)
        , m_tokens(std::move(tokens))
        , m_resolver(resolver)
        , m_context(context)
    {
    }

    Result<CompiledFilter> compile()
    {
        auto sql = parseChain(0, FilterToken::Or);
        if (!sql)
            return sql.error();
        if (peek().kind != FilterToken::End)
            return unexpected(peek(), QStringLiteral("\"&&\", \"||\" or end of input"));
        return CompiledFilter {std::move(sql->sql), std::move(sql->params)};
    }

private:
    // joiner Or: and-chains joined by "||"; joiner And: groups joined by "&&".
    Result<SqlFragment> parseChain(int depth, FilterToken::Kind joiner)
    {
        const bool isOr = joiner == FilterToken::Or;
        SqlFragment chain;
        int count = 0;
        do {
            auto part = isOr ? parseChain(depth, FilterToken::And) : parseGroup(depth);
            if (!part)
                return part.error();
            if (count++ > 0)
                chain.sql += isOr ? QStringView(u" OR ") : QStringView(u" AND ");
            chain.sql += part->sql;
            chain.params += part->params;
        } while (accept(joiner));
        if (count > 1)
            chain.sql = u'(' + chain.sql + u')';
        return chain;
    }

    Result<SqlFragment> parseGroup(int depth)
    {
        if (peek().kind != FilterToken::OpenParen)
            return parseComparison();
        const FilterToken &open = take();
        if (depth >= kMaxFilterDepth)
            return filterSyntaxError(
                open.position, QStringLiteral("parentheses are nested deeper than %1 levels").arg(kMaxFilterDepth));
        auto inner = parseChain(depth + 1, FilterToken::Or);
        if (!inner)
            return inner.error();
        if (peek().kind != FilterToken::CloseParen)
            return unexpected(
                peek(), QStringLiteral("\"&&\", \"||\" or \")\" to close the \"(\" at position %1").arg(open.position));
        take();
        return inner;
    }

    Result<SqlFragment> parseComparison()
    {
        if (!isOperand(peek()))
            return unexpected(peek(), QStringLiteral("a field, a value or \"(\""));
        const FilterToken &leftToken = take();
        auto left = parseOperand(leftToken);
        if (!left)
            return left.error();
        if (peek().kind != FilterToken::Operator)
            return unexpected(peek(), QStringLiteral("an operator such as \"=\" after %1").arg(describe(leftToken)));
        const FilterToken &opToken = take();
        if (!isOperand(peek()))
            return unexpected(peek(), QStringLiteral("a value after %1").arg(describe(opToken)));
        auto right = parseOperand(take());
        if (!right)
            return right.error();
        return compareOperands(*parseFilterOperator(opToken.text), *left, *right, m_aliasCounter);
    }

    Result<FilterOperand> parseOperand(const FilterToken &token)
    {
        if (token.kind == FilterToken::String)
            return valueOperand(token.text);
        if (token.kind == FilterToken::Number)
            return numberOperand(token.text);
        if (auto keyword = keywordOperand(token.text))
            return *keyword;
        if (token.text.startsWith(u'@'))
            return resolveMacro(token);
        return resolveField(token);
    }

    // The ":modifier" after a path, if any: lower, length or isset (PocketBase's names).
    Result<QString> modifierOf(const FilterToken &token, bool allowIsset) const
    {
        const qsizetype colon = token.text.indexOf(u':');
        if (colon < 0)
            return QString();
        const QString modifier = token.text.mid(colon + 1);
        if (modifier == u"lower" || modifier == u"length" || (allowIsset && modifier == u"isset"))
            return modifier;
        return filterSyntaxError(
            token.position + int(colon),
            QStringLiteral("the modifier \":%1\" is not supported here; use :lower or :length%2")
                .arg(modifier, allowIsset ? QStringLiteral(", or :isset on @request.body") : QString()));
    }

    Result<FilterOperand> resolveField(const FilterToken &token)
    {
        auto modifier = modifierOf(token, false);
        if (!modifier)
            return modifier.error();
        auto path = splitPath(token, 0);
        if (!path)
            return path.error();
        auto field = m_resolver.resolve(*path);
        if (!field) {
            Error error = field.error();
            error.message
                = QStringLiteral("filter: at position %1: %2").arg(QString::number(token.position), error.message);
            error.details.insert(QStringLiteral("position"), token.position);
            return error;
        }
        // A "?" would shift every parameter after it; quoted, validated identifiers never contain one.
        if (field->sqlExpression.isEmpty() || field->sqlExpression.contains(u'?'))
            return makeError(
                ErrorCode::Internal,
                QStringLiteral("filter: the field resolver returned unusable SQL for %1").arg(describe(token)));
        if (*modifier == u"lower")
            return fieldOperand(QStringLiteral("LOWER(%1)").arg(field->sqlExpression), field->multiple);
        if (*modifier == u"length") {
            // Elements of a multi-valued field; characters of a single value.
            const QString e = field->sqlExpression;
            return fieldOperand(field->multiple ? QStringLiteral("(CASE WHEN json_valid(%1) AND json_type(%1) = "
                                                                 "'array' THEN json_array_length(%1) ELSE 0 END)")
                                                      .arg(e)
                                                : QStringLiteral("LENGTH(COALESCE(%1, ''))").arg(e),
                                false);
        }
        return fieldOperand(std::move(field->sqlExpression), field->multiple);
    }

    Result<FilterOperand> resolveMacro(const FilterToken &token)
    {
        if (token.text.startsWith(u"@request."))
            return resolveRequest(token);
        if (token.text.startsWith(u"@collection."))
            return filterSyntaxError(token.position, QStringLiteral("@collection references are not supported yet"));
        const QDateTime now = m_context.clock ? m_context.clock->now() : QDateTime::fromMSecsSinceEpoch(0, Qt::UTC);
        const auto value = dateMacroValue(token.text, now);
        if (!value)
            return filterSyntaxError(token.position,
                                     QStringLiteral("unknown macro %1, expected a date macro such as "
                                                    "@now or a @request.auth/body field")
                                         .arg(describe(token)));
        if (!m_context.clock)
            return makeError(ErrorCode::Internal,
                             QStringLiteral("filter: %1 needs FilterContext::clock").arg(token.text));
        return valueOperand(*value);
    }

    Result<FilterOperand> resolveRequest(const FilterToken &token)
    {
        auto path = splitPath(token, 1); // after the '@': request, area, field...
        if (!path)
            return path.error();
        const QString &area = path->at(1);
        const QJsonObject *object = area == u"auth" ? &m_context.auth
            : area == u"body"                       ? &m_context.body
            : area == u"query"                      ? &m_context.query
            : area == u"headers"                    ? &m_context.headers
                                                    : nullptr;
        if (!object)
            return filterSyntaxError(token.position,
                                     QStringLiteral("%1 is not supported; use @request.auth, "
                                                    "@request.body, @request.query or @request.headers")
                                         .arg(describe(token)));
        if (path->size() < 3)
            return filterSyntaxError(token.position + token.length,
                                     QStringLiteral("expected a field name after %1").arg(describe(token)));
        auto modifier = modifierOf(token, area == u"body");
        if (!modifier)
            return modifier.error();
        QJsonValue value = *object;
        bool present = true;
        for (const QString &key : path->mid(2)) {
            present = value.isObject() && value.toObject().contains(key);
            value = value.isObject() ? value.toObject().value(key) : QJsonValue();
        }
        if (*modifier == u"isset")
            return valueOperand(qint64(present ? 1 : 0));
        if (*modifier == u"length")
            return valueOperand(qint64(value.isArray() ? value.toArray().size() : value.toString().size()));
        if (*modifier == u"lower")
            return contextOperand(QJsonObject {{QStringLiteral("v"), value.toString().toLower()}},
                                  {QStringLiteral("v")});
        return contextOperand(*object, path->mid(2));
    }

    // The dotted identifier in token split at '.', from the character at offset on, each part validated.
    Result<QStringList> splitPath(const FilterToken &token, qsizetype offset) const
    {
        QStringView text(token.text);
        if (const qsizetype colon = text.indexOf(u':'); colon >= 0)
            text = text.first(colon); // the modifier was checked by modifierOf()
        QStringList path;
        for (qsizetype start = offset; start <= text.size();) {
            qsizetype dot = text.indexOf(u'.', start);
            if (dot < 0)
                dot = text.size();
            const QStringView part = text.sliced(start, dot - start);
            if (!isValidIdentifier(part))
                return filterSyntaxError(token.position + int(start),
                                         QStringLiteral("invalid name %1 in %2: names are 1-63 letters, digits or "
                                                        "underscores and do not start with a digit")
                                             .arg(quote(part), describe(token)));
            path.append(part.toString());
            start = dot + 1;
        }
        return path;
    }

    static bool isOperand(const FilterToken &token)
    {
        return token.kind == FilterToken::Identifier || token.kind == FilterToken::String
            || token.kind == FilterToken::Number;
    }

    static QString quote(QStringView text)
    {
        if (text.size() > kMaxQuotedLength)
            return u'"' + text.first(kMaxQuotedLength).toString() + u"...\"";
        return u'"' + text.toString() + u'"';
    }

    // How a token is named in messages: its source text, quoted and shortened.
    QString describe(const FilterToken &token) const
    {
        if (token.kind == FilterToken::End)
            return QStringLiteral("end of input");
        const QStringView source = m_input.sliced(token.position - 1, token.length);
        if (token.kind == FilterToken::String)
            return u"string "
                + (source.size() > kMaxQuotedLength ? source.first(kMaxQuotedLength).toString() + u"..."
                                                    : source.toString());
        return quote(source);
    }

    Error unexpected(const FilterToken &found, const QString &expected) const
    {
        return filterSyntaxError(found.position,
                                 QStringLiteral("expected %1, found %2").arg(expected, describe(found)));
    }

    const FilterToken &peek() const { return m_tokens[m_index]; }
    // The End token is never consumed, so peek() stays valid.
    const FilterToken &take()
    {
        const FilterToken &token = m_tokens[m_index];
        if (token.kind != FilterToken::End)
            ++m_index;
        return token;
    }
    bool accept(FilterToken::Kind kind)
    {
        if (peek().kind != kind)
            return false;
        take();
        return true;
    }

    QStringView m_input;
    QList<FilterToken> m_tokens;
    qsizetype m_index = 0;
    int m_aliasCounter = 0;
    const FieldResolver &m_resolver;
    const FilterContext &m_context;
};

} // namespace

bool isValidIdentifier(QStringView identifier)
{
    if (identifier.isEmpty() || identifier.size() > kMaxIdentifierLength)
        return false;
    for (qsizetype i = 0; i < identifier.size(); ++i) {
        const char16_t c = identifier[i].unicode();
        const bool letter = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_';
        const bool digit = c >= u'0' && c <= u'9';
        if (!letter && !(digit && i > 0))
            return false;
    }
    return true;
}

Result<QString> quoteIdentifier(QStringView identifier)
{
    if (!isValidIdentifier(identifier))
        return makeError(ErrorCode::InvalidArgument,
                         QStringLiteral("invalid identifier \"%1\": use 1-63 letters, digits or underscores, not "
                                        "starting with a digit")
                             .arg(identifier.first(std::min(identifier.size(), kMaxQuotedLength))),
                         QJsonObject {{QStringLiteral("identifier"), identifier.toString()}});
    return QString(u'"' + identifier.toString() + u'"');
}

Result<CompiledFilter> compileFilter(QStringView expression, const FieldResolver &resolver,
                                     const FilterContext &context)
{
    if (expression.size() > kMaxFilterLength)
        return filterSyntaxError(int(kMaxFilterLength) + 1,
                                 QStringLiteral("the filter is longer than %1 characters").arg(kMaxFilterLength));
    auto tokens = tokenizeFilter(expression);
    if (!tokens)
        return tokens.error();
    return FilterParser(expression, std::move(*tokens), resolver, context).compile();
}

Result<CompiledFilter> compileRequestFilter(QStringView expression, const FieldResolver &resolver,
                                            const FilterContext &context)
{
    auto compiled = compileFilter(expression, resolver, context);
    if (compiled)
        return compiled;
    QString message = compiled.error().message;
    if (message.startsWith(u"filter: "))
        message = message.mid(8);
    return makeError(ErrorCode::InvalidArgument, QStringLiteral("Invalid filter: %1").arg(message),
                     compiled.error().details);
}

} // namespace Outpost::Data
