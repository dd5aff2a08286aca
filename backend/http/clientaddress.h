#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>

#include "../store/auditlog.h"
#include "router.h"

namespace Outpost::Http {

// The address a request comes from, for login throttling and audit entries.
//
// Without trusted proxies (the default) it is the TCP peer, and X-Forwarded-For is ignored: any
// client can write that header. When the peer is inside one of `trustedProxies`, the header's
// entries are read from the right (the one the nearest proxy appended) and the first that is not
// itself a trusted proxy is the client; if every entry is a trusted proxy, the leftmost. An entry
// that is not an IP address ("unknown", a forged "x") stops the walk at the proxy that passed it
// on, so that garbage never becomes an address to count separately. Several X-Forwarded-For
// fields count as one list, in order (RFC 9110 §5.3). Entries may carry a port ("192.0.2.1:4711",
// "[2001:db8::1]:4711"). IPv4-mapped IPv6 addresses come back as IPv4.
//
// Pure function; any thread.
QHostAddress clientAddress(const Request &request, const QList<QPair<QHostAddress, int>> &trustedProxies);

// Who a request's audit entries name: the caller's label (Caller::label()) and clientAddress().
Store::AuditActor auditActor(const Request &request, const QList<QPair<QHostAddress, int>> &trustedProxies);

} // namespace Outpost::Http
