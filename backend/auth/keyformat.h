#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <optional>

#include "../core/result.h"

// What an API key looks like and where it may be used from: pure functions, no state, thread-safe.
namespace Outpost::Auth {

// The secret: "opk_" + 32 random base62 characters, then six base62 characters holding the CRC-32
// of those 36 (so a typo, a truncation or a secret scanner's find is recognised without a lookup).
inline constexpr qsizetype keyLength = 42;
// How much of a secret lists show to tell keys apart: "opk_" + 8 characters.
inline constexpr qsizetype keyShownPrefixLength = 12;

// A new secret, checksum included, from the system CSPRNG.
QByteArray generateKeySecret();

// CRC-32 as zlib and PNG compute it (reflected polynomial 0xEDB88320): crc32("123456789") is 0xCBF43926.
quint32 crc32(QByteArrayView data);

// `data`'s CRC-32 as six base62 digits, most significant first, left-padded with '0'.
QByteArray keyChecksum(QByteArrayView data);

// Prefix, length and alphabet only: whether `text` is meant as a key (rather than, say, a JWT).
bool hasKeyShape(QByteArrayView text);

// The shape, and the last six characters are the checksum of the others.
bool hasValidKeyChecksum(QByteArrayView text);

// An allowed network, as QHostAddress::parseSubnet() returns it.
using Cidr = QPair<QHostAddress, int>;

// "10.0.0.0/8", "2001:db8::/32", or a bare address meaning itself (/32 or /128); surrounding
// spaces are ignored. Empty for anything else, including inet_aton's short forms such as "10.1".
std::optional<Cidr> parseCidr(const QString &text);

// Every entry of `texts` parsed; InvalidArgument naming the first entry that is not a CIDR range.
Result<QList<Cidr>> parseCidrs(const QStringList &texts);

// "10.0.0.0/8" for each, as parseCidr() reads them back.
QStringList cidrStrings(const QList<Cidr> &cidrs);

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack listener reports for IPv4
// clients) as the plain IPv4 address; any other address unchanged.
QHostAddress unmappedAddress(const QHostAddress &address);

// Whether `client` is inside one of `allowed`; an empty list allows every address. IPv4-mapped
// clients match IPv4 networks.
bool addressAllowed(const QList<Cidr> &allowed, const QHostAddress &client);

} // namespace Outpost::Auth
