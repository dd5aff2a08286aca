#include "hostcheck.h"

#include "requestframer.h"

namespace Outpost::Http {

namespace {

// Splits "name", "name:port", "[v6]" or "[v6]:port"; false when malformed. `host` keeps the
// brackets of an IPv6 literal.
bool splitHostPort(QByteArrayView value, QByteArrayView *host)
{
    QByteArrayView rest;
    if (value.startsWith('[')) {
        const qsizetype close = value.indexOf(']');
        if (close < 0)
            return false;
        *host = value.first(close + 1);
        rest = value.sliced(close + 1);
    } else {
        const qsizetype colon = value.indexOf(':');
        *host = colon < 0 ? value : value.first(colon);
        rest = colon < 0 ? QByteArrayView() : value.sliced(colon);
    }
    if (host->isEmpty())
        return false;
    if (rest.isEmpty())
        return true;
    if (rest.size() < 2 || rest.size() > 6 || rest[0] != ':')
        return false;
    for (char c : rest.sliced(1))
        if (c < '0' || c > '9')
            return false;
    return true;
}

// A dotted-quad IPv4 literal (the form browsers put in Host), e.g. 127.0.0.1.
std::optional<quint32> dottedQuad(QByteArrayView host)
{
    quint32 address = 0;
    int parts = 0;
    qsizetype at = 0;
    while (parts < 4) {
        int value = 0;
        int digits = 0;
        while (at < host.size() && host[at] >= '0' && host[at] <= '9' && digits < 4) {
            value = value * 10 + (host[at++] - '0');
            ++digits;
        }
        if (digits == 0 || digits > 3 || value > 255)
            return std::nullopt;
        address = address << 8 | quint32(value);
        if (++parts < 4) {
            if (at >= host.size() || host[at] != '.')
                return std::nullopt;
            ++at;
        }
    }
    if (at != host.size())
        return std::nullopt;
    return address;
}

bool equalsLower(QByteArrayView a, QByteArrayView lower)
{
    return a.compare(lower, Qt::CaseInsensitive) == 0;
}

bool endsWithLower(QByteArrayView a, QByteArrayView lowerSuffix)
{
    return a.size() > lowerSuffix.size() && equalsLower(a.last(lowerSuffix.size()), lowerSuffix);
}

} // namespace

std::optional<HostCheck> HostCheck::create(const QHostAddress &listen, const QStringList &allowedHosts)
{
    if (!listen.isLoopback() && allowedHosts.isEmpty())
        return std::nullopt;
    HostCheck check;
    for (const QString &entry : allowedHosts) {
        const QByteArray name = entry.trimmed().toLower().toLatin1();
        QHostAddress address;
        const QByteArray bare = name.startsWith('[') && name.endsWith(']') ? name.mid(1, name.size() - 2) : name;
        if (address.setAddress(QString::fromLatin1(bare)))
            check.m_addresses.append(address);
        else if (name.startsWith("*."))
            check.m_suffixes.append(name.mid(1));
        else
            check.m_names.append(name.endsWith('.') ? name.chopped(1) : name);
    }
    if (!listen.isLoopback()) {
        check.m_addresses.append(listen);
        check.m_anyLiteral
            = listen == QHostAddress::AnyIPv4 || listen == QHostAddress::AnyIPv6 || listen == QHostAddress::Any;
    }
    return check;
}

bool HostCheck::allows(const RequestHead &head) const
{
    const QByteArrayView target = head.target;
    if (target.startsWith("http://") || target.startsWith("https://")) {
        // RFC 9112 §3.2.2: the target's authority is the one that counts; check both.
        const qsizetype start = target.indexOf("//") + 2;
        qsizetype end = start;
        while (end < target.size() && target[end] != '/' && target[end] != '?' && target[end] != '#')
            ++end;
        if (!allowsHost(target.sliced(start, end - start)))
            return false;
    }
    if (head.host.isEmpty() && head.minorVersion == 0)
        return true;
    return allowsHost(head.host);
}

bool HostCheck::allowsHost(QByteArrayView value) const
{
    QByteArrayView host;
    if (!splitHostPort(value, &host))
        return false;
    if (host.endsWith('.'))
        host.chop(1); // "localhost." is localhost
    if (equalsLower(host, "localhost") || endsWithLower(host, ".localhost"))
        return true;
    std::optional<QHostAddress> literal;
    if (const auto v4 = dottedQuad(host)) {
        if (*v4 >> 24 == 127)
            return true;
        literal = QHostAddress(*v4);
    } else if (host.startsWith('[')) {
        QHostAddress v6;
        if (!host.endsWith(']') || !v6.setAddress(QString::fromLatin1(host.sliced(1, host.size() - 2))))
            return false;
        if (v6.isLoopback())
            return true;
        literal = v6;
    }
    if (literal) {
        if (m_anyLiteral)
            return true;
        for (const QHostAddress &address : m_addresses)
            if (address.isEqual(*literal, QHostAddress::TolerantConversion))
                return true;
        return false;
    }
    for (const QByteArray &name : m_names)
        if (equalsLower(host, name))
            return true;
    for (const QByteArray &suffix : m_suffixes)
        if (endsWithLower(host, suffix))
            return true;
    return false;
}

} // namespace Outpost::Http
