#include "filterlexer.h"

namespace Outpost::Data {

namespace {

bool isAsciiLetter(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
}

bool isAsciiDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

// The characters PocketBase's fexpr scanner accepts in identifiers; '#' and ':' are rejected later with a
// precise message rather than as "unexpected character".
bool isIdentifierStart(QChar c)
{
    return isAsciiLetter(c) || c == u'_' || c == u'@' || c == u'#';
}

bool isIdentifierPart(QChar c)
{
    return isIdentifierStart(c) || isAsciiDigit(c) || c == u'.' || c == u':';
}

bool isOperatorChar(QChar c)
{
    return c == u'=' || c == u'!' || c == u'<' || c == u'>' || c == u'~' || c == u'?';
}

QString quoted(QStringView text)
{
    return u'"' + text.toString() + u'"';
}

class Lexer
{
public:
    explicit Lexer(QStringView input)
        : m_input(input)
    {
    }

    Result<QList<FilterToken>> run()
    {
        QList<FilterToken> tokens;
        for (skipSpaceAndComments(); m_pos < m_input.size(); skipSpaceAndComments()) {
            auto token = next();
            if (!token)
                return token.error();
            tokens.append(std::move(*token));
        }
        tokens.append(FilterToken {FilterToken::End, QString(), int(m_input.size()) + 1, 0});
        return tokens;
    }

private:
    QChar at(qsizetype i) const { return i < m_input.size() ? m_input[i] : QChar(); }

    void skipSpaceAndComments()
    {
        while (m_pos < m_input.size()) {
            if (m_input[m_pos].isSpace()) {
                ++m_pos;
            } else if (m_input[m_pos] == u'/' && at(m_pos + 1) == u'/') {
                while (m_pos < m_input.size() && m_input[m_pos] != u'\n')
                    ++m_pos;
            } else {
                return;
            }
        }
    }

    FilterToken make(FilterToken::Kind kind, qsizetype start, QString text = {})
    {
        return FilterToken {kind, std::move(text), int(start) + 1, int(m_pos - start)};
    }

    Result<FilterToken> next()
    {
        const qsizetype start = m_pos;
        const QChar c = m_input[m_pos];
        if (c == u'(' || c == u')') {
            ++m_pos;
            return make(c == u'(' ? FilterToken::OpenParen : FilterToken::CloseParen, start);
        }
        if (c == u'&' || c == u'|')
            return scanJoin(c);
        if (c == u'\'' || c == u'"')
            return scanString();
        if (isAsciiDigit(c) || ((c == u'-' || c == u'+') && (isAsciiDigit(at(m_pos + 1)))))
            return scanNumber();
        if (isIdentifierStart(c)) {
            while (m_pos < m_input.size() && isIdentifierPart(m_input[m_pos]))
                ++m_pos;
            return make(FilterToken::Identifier, start, m_input.sliced(start, m_pos - start).toString());
        }
        if (isOperatorChar(c))
            return scanOperator();
        return filterSyntaxError(int(start) + 1,
                                 QStringLiteral("unexpected character %1").arg(quoted(QStringView(&c, 1))));
    }

    Result<FilterToken> scanJoin(QChar c)
    {
        const qsizetype start = m_pos;
        if (at(m_pos + 1) != c) {
            const QString expected = QString(2, c);
            return filterSyntaxError(
                int(start) + 1,
                QStringLiteral("unknown operator %1, expected %2").arg(quoted(QStringView(&c, 1)), quoted(expected)));
        }
        m_pos += 2;
        return make(c == u'&' ? FilterToken::And : FilterToken::Or, start);
    }

    // Only a backslash before the string's own quote is an escape (PocketBase's fexpr); other backslashes
    // stay, so LIKE sees "\%" and "\_" as escaped wildcards. A "\\" pair is consumed whole so that a string
    // may end in a backslash.
    Result<FilterToken> scanString()
    {
        const qsizetype start = m_pos;
        const QChar quote = m_input[m_pos++];
        QString value = QStringLiteral("");
        while (m_pos < m_input.size()) {
            const QChar c = m_input[m_pos];
            if (c == quote) {
                ++m_pos;
                return make(FilterToken::String, start, std::move(value));
            }
            if (c == u'\\' && m_pos + 1 < m_input.size()) {
                const QChar escaped = m_input[m_pos + 1];
                if (escaped != quote)
                    value += c;
                value += escaped;
                m_pos += 2;
                continue;
            }
            value += c;
            ++m_pos;
        }
        return filterSyntaxError(int(start) + 1,
                                 QStringLiteral("unterminated string starting here, expected a closing %1").arg(quote));
    }

    Result<FilterToken> scanNumber()
    {
        const qsizetype start = m_pos;
        if (m_input[m_pos] == u'-' || m_input[m_pos] == u'+')
            ++m_pos;
        while (isAsciiDigit(at(m_pos)))
            ++m_pos;
        if (at(m_pos) == u'.' && isAsciiDigit(at(m_pos + 1))) {
            ++m_pos;
            while (isAsciiDigit(at(m_pos)))
                ++m_pos;
        }
        if (isIdentifierPart(at(m_pos))) {
            while (isIdentifierPart(at(m_pos)))
                ++m_pos;
            return filterSyntaxError(
                int(start) + 1, QStringLiteral("invalid number %1").arg(quoted(m_input.sliced(start, m_pos - start))));
        }
        return make(FilterToken::Number, start, m_input.sliced(start, m_pos - start).toString());
    }

    Result<FilterToken> scanOperator()
    {
        const qsizetype start = m_pos;
        while (isOperatorChar(at(m_pos)))
            ++m_pos;
        const QStringView text = m_input.sliced(start, m_pos - start);
        if (!parseFilterOperator(text))
            return filterSyntaxError(int(start) + 1, QStringLiteral("unknown operator %1").arg(quoted(text)));
        return make(FilterToken::Operator, start, text.toString());
    }

    QStringView m_input;
    qsizetype m_pos = 0;
};

} // namespace

std::optional<FilterOperator> parseFilterOperator(QStringView text)
{
    const bool anyOf = text.startsWith(u'?');
    const QStringView plain = anyOf ? text.sliced(1) : text;
    static constexpr struct
    {
        const char16_t *spelling;
        FilterOp op;
    } kOperators[] = {
        {u"=", FilterOp::Equal},   {u"!=", FilterOp::NotEqual},
        {u">", FilterOp::Greater}, {u">=", FilterOp::GreaterOrEqual},
        {u"<", FilterOp::Less},    {u"<=", FilterOp::LessOrEqual},
        {u"~", FilterOp::Like},    {u"!~", FilterOp::NotLike},
    };
    for (const auto &candidate : kOperators) {
        if (plain == QStringView(candidate.spelling))
            return FilterOperator {candidate.op, anyOf};
    }
    return std::nullopt;
}

Result<QList<FilterToken>> tokenizeFilter(QStringView expression)
{
    return Lexer(expression).run();
}

Error filterSyntaxError(int position, const QString &what)
{
    return makeError(ErrorCode::InvalidArgument,
                     QStringLiteral("filter: at position %1: %2").arg(QString::number(position), what),
                     QJsonObject {{QStringLiteral("position"), position}});
}

} // namespace Outpost::Data
