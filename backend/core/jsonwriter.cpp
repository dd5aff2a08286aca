#include "jsonwriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <algorithm>
#include <cmath>
#include <type_traits>

namespace Outpost::Json {

namespace {

// Appends the code units of a quoted JSON string body: escapes as Qt writes them, everything
// else (UTF-8 bytes, or ASCII-only UTF-16 units) as it is.
template <typename Unit> void appendEscaped(QByteArray &out, const Unit *begin, qsizetype size)
{
    static constexpr char hex[] = "0123456789abcdef";
    out.append('"');
    for (qsizetype i = 0; i < size; ++i) {
        const auto c = static_cast<unsigned>(static_cast<std::make_unsigned_t<Unit>>(begin[i]));
        if (c >= 0x20 && c != '"' && c != '\\') {
            out.append(char(c));
            continue;
        }
        out.append('\\');
        switch (c) {
        case '"':
            out.append('"');
            break;
        case '\\':
            out.append('\\');
            break;
        case '\b':
            out.append('b');
            break;
        case '\f':
            out.append('f');
            break;
        case '\n':
            out.append('n');
            break;
        case '\r':
            out.append('r');
            break;
        case '\t':
            out.append('t');
            break;
        default:
            out.append("u00", 3);
            out.append(hex[c >> 4]);
            out.append(hex[c & 0xf]);
        }
    }
    out.append('"');
}

} // namespace

void appendUtf8(QByteArray &out, QByteArrayView utf8)
{
    appendEscaped(out, utf8.data(), utf8.size());
}

void appendString(QByteArray &out, QStringView text)
{
    const bool ascii = std::all_of(text.begin(), text.end(), [](QChar c) { return c.unicode() < 0x80; });
    if (ascii)
        appendEscaped(out, text.utf16(), text.size());
    else
        appendUtf8(out, text.toUtf8());
}

void appendNumber(QByteArray &out, double value)
{
    if (!std::isfinite(value)) {
        out.append("null", 4);
        return;
    }
    // QJsonValue keeps a whole number that a double holds exactly (|v| <= 2^53) as an integer,
    // and writes it without exponent; anything else is written in its shortest round-trip form.
    constexpr double exactLimit = 9007199254740992.0;
    if (std::trunc(value) == value && std::fabs(value) <= exactLimit)
        out.append(QByteArray::number(static_cast<qint64>(value)));
    else
        out.append(QByteArray::number(value, 'g', QLocale::FloatingPointShortest));
}

void appendValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::String:
        appendString(out, value.toString());
        break;
    case QJsonValue::Double:
        appendNumber(out, value.toDouble());
        break;
    case QJsonValue::Bool:
        out.append(value.toBool() ? QByteArrayView("true") : QByteArrayView("false"));
        break;
    case QJsonValue::Array:
        out.append(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::Object:
        out.append(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out.append("null", 4);
        break;
    }
}

} // namespace Outpost::Json
