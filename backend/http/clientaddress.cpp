#include "clientaddress.h"

#include "../auth/keyformat.h"

namespace Outpost::Http {

namespace {

// One X-Forwarded-For entry as an address; null when it is none.
QHostAddress parseForwarded(const QByteArray &entry)
{
    QByteArray text = entry.trimmed();
    if (text.startsWith('[')) {
        const qsizetype close = text.indexOf(']');
        if (close < 0)
            return {};
        text = text.mid(1, close - 1);
    } else if (text.count(':') == 1) {
        text.truncate(text.indexOf(':')); // IPv4 with a port
    }
    QHostAddress address;
    if (!address.setAddress(QString::fromLatin1(text)))
        return {};
    return Auth::unmappedAddress(address);
}

} // namespace

QHostAddress clientAddress(const Request &request, const QList<QPair<QHostAddress, int>> &trustedProxies)
{
    QHostAddress client = Auth::unmappedAddress(request.peer);
    if (trustedProxies.isEmpty())
        return client;
    QList<QByteArray> hops;
    for (const auto &[name, value] : request.headers)
        if (name.compare("x-forwarded-for", Qt::CaseInsensitive) == 0)
            hops += value.split(',');
    // addressAllowed() admits everything for an empty list; the list is not empty here.
    while (!hops.isEmpty() && Auth::addressAllowed(trustedProxies, client)) {
        const QHostAddress next = parseForwarded(hops.takeLast());
        if (next.isNull())
            break;
        client = next;
    }
    return client;
}

Store::AuditActor auditActor(const Request &request, const QList<QPair<QHostAddress, int>> &trustedProxies)
{
    return {request.caller.label(), clientAddress(request, trustedProxies).toString()};
}

} // namespace Outpost::Http
