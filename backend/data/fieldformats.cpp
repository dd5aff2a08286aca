#include "fieldformats.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QList>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QUrl>
#include <vector>

namespace Outpost::Data::Formats {

namespace {

constexpr qsizetype kMaxUrlLength = 2083; // govalidator's limit, which PocketBase's is.URL applies
constexpr int kMaxGeneratedLength = 1000;

// One step of a generable pattern: `min`..`max` characters drawn from `chars`.
struct Atom
{
    QString chars;
    int min = 1;
    int max = 1;
};

// Adds the characters an escape (the character after the backslash) stands for.
bool addEscape(QChar c, QString &chars)
{
    if (c == u'd') {
        chars += QStringLiteral("0123456789");
        return true;
    }
    if (c == u'w') {
        chars += QStringLiteral("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_");
        return true;
    }
    if (c.isLetterOrNumber())
        return false; // \s, \b, \1, \p{...}: not something we can draw from
    chars += c;
    return true;
}

// Parses a class body; `i` is just past the '[' and ends just past the ']'.
std::optional<QString> parseClass(const QString &p, qsizetype &i)
{
    if (i < p.size() && p[i] == u'^')
        return std::nullopt; // negated classes are not supported
    QString chars;
    while (i < p.size() && p[i] != u']') {
        const QChar c = p[i++];
        if (c == u'\\') {
            if (i >= p.size() || !addEscape(p[i++], chars))
                return std::nullopt;
        } else if (i + 1 < p.size() && p[i] == u'-' && p[i + 1] != u']') {
            const QChar last = p[i + 1];
            i += 2;
            if (last < c || last == u'\\')
                return std::nullopt;
            for (int x = c.unicode(); x <= last.unicode(); ++x)
                chars += QChar(x);
        } else {
            chars += c;
        }
    }
    if (i >= p.size() || chars.isEmpty())
        return std::nullopt;
    ++i;
    return chars;
}

// Parses an optional quantifier at `i` into `atom`; false on one we cannot bound.
bool parseQuantifier(const QString &p, qsizetype &i, Atom &atom)
{
    if (i >= p.size())
        return true;
    if (p[i] == u'?') {
        atom.min = 0;
        ++i;
        return true;
    }
    if (p[i] == u'*' || p[i] == u'+')
        return false;
    if (p[i] != u'{')
        return true;
    const qsizetype close = p.indexOf(u'}', i);
    if (close < 0)
        return false;
    const QStringList parts = p.mid(i + 1, close - i - 1).split(u',');
    bool lowOk = false;
    bool highOk = true;
    const int low = parts.constFirst().toInt(&lowOk);
    const int high = parts.size() == 2 ? parts[1].toInt(&highOk) : low;
    if (parts.size() > 2 || !lowOk || !highOk || low < 0 || high < low || high > kMaxGeneratedLength)
        return false;
    atom.min = low;
    atom.max = high;
    i = close + 1;
    return true;
}

std::optional<QList<Atom>> parsePattern(QString p)
{
    if (p.startsWith(u'^'))
        p.remove(0, 1);
    if (p.endsWith(u'$') && !p.endsWith(QStringLiteral("\\$")))
        p.chop(1);
    static const QString special = QStringLiteral("()|*+?{}]^$.");
    QList<Atom> atoms;
    int longest = 0;
    qsizetype i = 0;
    while (i < p.size()) {
        Atom atom;
        const QChar c = p[i++];
        if (c == u'[') {
            auto chars = parseClass(p, i);
            if (!chars)
                return std::nullopt;
            atom.chars = *chars;
        } else if (c == u'\\') {
            if (i >= p.size() || !addEscape(p[i++], atom.chars))
                return std::nullopt;
        } else if (special.contains(c)) {
            return std::nullopt;
        } else {
            atom.chars = c;
        }
        if (!parseQuantifier(p, i, atom))
            return std::nullopt;
        longest += atom.max;
        atoms.append(atom);
    }
    if (atoms.isEmpty() || longest > kMaxGeneratedLength)
        return std::nullopt;
    return atoms;
}

} // namespace

std::optional<QDateTime> parseDate(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("^(\\d{4})-(\\d{2})-(\\d{2})"
                                                      "(?:[Tt ](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?"
                                                      "(Z|z|[+-]\\d{2}:\\d{2})?)?\\z"));
    const QRegularExpressionMatch m = re.match(text.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    const QDate date(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt());
    QTime time(0, 0);
    if (m.hasCaptured(4)) {
        const int ms = m.captured(7).leftJustified(3, u'0').left(3).toInt(); // truncates, as Go formats .000
        time = QTime(m.captured(4).toInt(), m.captured(5).toInt(), m.captured(6).toInt(), ms);
    }
    if (!date.isValid() || !time.isValid())
        return std::nullopt;
    QDateTime result(date, time, Qt::UTC);
    const QString zone = m.captured(8);
    if (zone.size() == 6) {
        const int hours = zone.mid(1, 2).toInt();
        const int minutes = zone.mid(4, 2).toInt();
        if (hours > 23 || minutes > 59)
            return std::nullopt;
        const int offset = (hours * 3600 + minutes * 60) * (zone[0] == u'-' ? -1 : 1);
        result = result.addSecs(-offset);
    }
    if (result.date().year() < 1 || result.date().year() > 9999)
        return std::nullopt; // the stored form has exactly four year digits
    return result;
}

QString formatDate(const QDateTime &utc)
{
    return utc.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) + u'Z';
}

bool isValidEmail(const QString &email)
{
    static const QRegularExpression pattern(
        QStringLiteral("^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       "(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\\z"));
    return email.size() <= 254 && pattern.match(email).hasMatch();
}

std::optional<QString> urlHost(const QString &url)
{
    static const QRegularExpression whitespace(QStringLiteral("\\s"));
    if (url.size() > kMaxUrlLength || url.contains(whitespace))
        return std::nullopt;
    const QUrl parsed(url, QUrl::StrictMode);
    const QString scheme = parsed.scheme().toLower();
    if (!parsed.isValid() || parsed.host().isEmpty() || (scheme != u"http" && scheme != u"https" && scheme != u"ftp"))
        return std::nullopt;
    return parsed.host().toLower();
}

bool isRecordId(const QString &id)
{
    if (id.size() != 15)
        return false;
    for (const QChar c : id) {
        if (!((c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9')))
            return false;
    }
    return true;
}

qint64 jsonSize(const QJsonValue &value)
{
    // Wrapped in an array because QJsonDocument holds only arrays and objects; minus the brackets.
    return QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact).size() - 2;
}

std::optional<QJsonValue> parseJson(const QString &text)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QString(u'[' + text + u']').toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isArray() || doc.array().size() != 1)
        return std::nullopt;
    return doc.array().first();
}

QString toPcre(const QString &pattern)
{
    QString result;
    result.reserve(pattern.size() + 4);
    bool inClass = false;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern[i];
        if (c == u'\\' && i + 1 < pattern.size()) {
            result += c;
            result += pattern[++i];
            continue;
        }
        if (c == u'[')
            inClass = true;
        else if (c == u']')
            inClass = false;
        if (c == u'$' && !inClass)
            result += QStringLiteral("\\z");
        else
            result += c;
    }
    return result;
}

bool canGenerate(const QString &pattern)
{
    return parsePattern(pattern).has_value();
}

QString generate(const QString &pattern)
{
    const auto atoms = parsePattern(pattern);
    if (!atoms)
        return {};
    // One read from the system generator for the whole value (a count per atom, a character per
    // position): drawing each number separately cost a system call apiece.
    qsizetype draws = 0;
    for (const Atom &atom : *atoms)
        draws += 1 + atom.max;
    std::vector<quint32> random(static_cast<size_t>(draws));
    QRandomGenerator::system()->fillRange(random.data(), random.size());
    auto next = random.cbegin();
    const auto below = [&next](qsizetype bound) { return qsizetype((quint64(*next++) * quint64(bound)) >> 32); };
    QString result;
    for (const Atom &atom : *atoms) {
        const qsizetype count = atom.min + below(atom.max - atom.min + 1);
        for (qsizetype n = 0; n < count; ++n)
            result += atom.chars[below(atom.chars.size())];
    }
    return result;
}

} // namespace Outpost::Data::Formats
