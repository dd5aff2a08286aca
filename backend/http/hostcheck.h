#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHostAddress>
#include <QList>
#include <QStringList>
#include <optional>

namespace Outpost::Http {

struct RequestHead;

// The Host check against DNS rebinding: a web page can make its own host name resolve to 127.0.0.1
// and then read our answers as "same-origin", but its requests still carry its own name in Host,
// which this check refuses.
//
// While the server is bound to a loopback address it answers only requests whose Host is
// localhost, a name under .localhost, a loopback IP literal (127.0.0.0/8, [::1]), or one of
// `allowedHosts`; any port. On other addresses the check is off unless `allowedHosts` is set; then
// those names are allowed, with the loopback ones, the bound address, and (when bound to every
// address) any IP literal: IP literals cannot be rebound.
//
// `allowedHosts`: exact names or IP literals, or `*.example.com` for every name under example.com;
// no ports (config.cpp validates them). Immutable; safe to share between network threads.
class HostCheck
{
public:
    // Null when no check applies.
    static std::optional<HostCheck> create(const QHostAddress &listen, const QStringList &allowedHosts);

    // The Host field (and, for an absolute-form target, its authority). A request without Host
    // (HTTP/1.0) passes: browsers always send one.
    bool allows(const RequestHead &head) const;
    // One Host value: a name or IP literal with an optional port.
    bool allowsHost(QByteArrayView value) const;

private:
    QList<QByteArray> m_names; // lower case, without a trailing dot
    QList<QByteArray> m_suffixes; // ".example.com" for "*.example.com"
    QList<QHostAddress> m_addresses;
    bool m_anyLiteral = false;
};

} // namespace Outpost::Http
