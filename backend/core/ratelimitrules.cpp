#include "ratelimitrules.h"

#include <QRegularExpression>
#include <QStringList>

namespace Outpost {

namespace {

constexpr int kMaxLimit = 1'000'000;
constexpr int kMaxWindowSeconds = 86'400;

} // namespace

QString rateGroupName(RateGroup group)
{
    switch (group) {
    case RateGroup::Auth:
        return QStringLiteral("auth");
    case RateGroup::Read:
        return QStringLiteral("read");
    case RateGroup::Write:
        return QStringLiteral("write");
    case RateGroup::Admin:
        return QStringLiteral("admin");
    }
    return {};
}

bool RateRules::anyEnabled() const
{
    for (const RateRule &rule : groups)
        if (rule.enabled())
            return true;
    return false;
}

RateRules RateRules::defaults()
{
    // Per caller (API key, user, superuser; the client address for anonymous callers). Generous
    // for reads and writes, which a well-behaved app rarely reaches on one machine's worth of
    // load; strict for the auth group, where every attempt costs an Argon2 hash (~19 MiB, tens of
    // ms) and brute-force protection only counts failures.
    RateRules rules;
    rules[RateGroup::Auth] = {30, 60};
    rules[RateGroup::Read] = {2000, 10};
    rules[RateGroup::Write] = {500, 10};
    rules[RateGroup::Admin] = {600, 10};
    return rules;
}

Result<RateRules> RateRules::parse(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed.compare(u"off", Qt::CaseInsensitive) == 0)
        return RateRules::off();
    if (trimmed.isEmpty())
        return makeError(ErrorCode::InvalidArgument,
                         QStringLiteral("is empty (write e.g. \"auth:30/60s, read:2000/10s\", or \"off\")"));
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    static const QRegularExpression item(QStringLiteral("^([a-z]+):(?:(off)|(\\d{1,7})/(\\d{1,5})([smh]?))$"));
    RateRules rules;
    std::array<bool, kRateGroupCount> seen {};
    for (const QString &part : trimmed.split(separators, Qt::SkipEmptyParts)) {
        const QRegularExpressionMatch m = item.match(part.toLower());
        if (!m.hasMatch())
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("has \"%1\", which is not GROUP:LIMIT/WINDOW (e.g. read:2000/10s) "
                                            "or GROUP:off")
                                 .arg(part));
        int index = -1;
        for (int g = 0; g < kRateGroupCount; ++g)
            if (rateGroupName(RateGroup(g)) == m.captured(1))
                index = g;
        if (index < 0)
            return makeError(
                ErrorCode::InvalidArgument,
                QStringLiteral("names the group \"%1\" (groups: auth, read, write, admin)").arg(m.captured(1)));
        if (seen[size_t(index)])
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("names the group \"%1\" twice").arg(m.captured(1)));
        seen[size_t(index)] = true;
        if (!m.captured(2).isEmpty())
            continue; // "group:off"
        const int limit = m.captured(3).toInt();
        const int unit = m.captured(5) == u"h" ? 3600 : m.captured(5) == u"m" ? 60 : 1;
        const qint64 window = qint64(m.captured(4).toInt()) * unit;
        if (limit < 1 || limit > kMaxLimit)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("has the limit %1 for \"%2\" (allowed: 1 to %3 requests)")
                                 .arg(m.captured(3), m.captured(1))
                                 .arg(kMaxLimit));
        if (window < 1 || window > kMaxWindowSeconds)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("has the window %1%2 for \"%3\" (allowed: 1 s to 24 h)")
                                 .arg(m.captured(4), m.captured(5), m.captured(1)));
        rules.groups[size_t(index)] = {limit, int(window)};
    }
    return rules;
}

QString RateRules::toString() const
{
    if (!anyEnabled())
        return QStringLiteral("off");
    QStringList parts;
    for (int g = 0; g < kRateGroupCount; ++g) {
        const RateRule &rule = groups[size_t(g)];
        const QString name = rateGroupName(RateGroup(g));
        parts << (rule.enabled() ? QStringLiteral("%1:%2/%3s").arg(name).arg(rule.limit).arg(rule.windowSeconds)
                                 : name + QStringLiteral(":off"));
    }
    return parts.join(QStringLiteral(", "));
}

} // namespace Outpost
