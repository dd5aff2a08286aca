#include "keyformat.h"

#include <algorithm>
#include <array>

#include "../core/ids.h"

namespace Outpost::Auth {

namespace {

constexpr QByteArrayView kPrefix = "opk_";
constexpr qsizetype kBodyLength = 4 + 32; // the part the checksum covers
constexpr qsizetype kChecksumLength = keyLength - kBodyLength;
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static_assert(kChecksumLength == 6, "62^6 > 2^32: six base62 digits hold any CRC-32");

bool isBase62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

} // namespace

QByteArray generateKeySecret()
{
    QByteArray secret = kPrefix.toByteArray();
    while (secret.size() < kBodyLength) {
        // Bytes of 248 and above are dropped so that each of the 62 characters is equally likely
        // (248 = 4 * 62); a plain `byte % 62` would favour the first eight.
        for (char b : Ids::randomBytes(48)) {
            if (quint8(b) < 248 && secret.size() < kBodyLength)
                secret.append(kBase62[quint8(b) % 62]);
        }
    }
    return secret + keyChecksum(secret);
}

namespace {

// CRC-32 (IEEE 802.3, reflected) with a table made at compile time: it runs for every request that
// carries a key.
constexpr std::array<quint32, 256> kCrcTable = [] {
    std::array<quint32, 256> table {};
    for (quint32 n = 0; n < 256; ++n) {
        quint32 c = n;
        for (int bit = 0; bit < 8; ++bit)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        table[n] = c;
    }
    return table;
}();

} // namespace

quint32 crc32(QByteArrayView data)
{
    quint32 crc = 0xFFFFFFFFu;
    for (char c : data)
        crc = kCrcTable[(crc ^ quint8(c)) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

namespace {

// The checksum's base62 digits, most significant first, into `out` (kChecksumLength chars).
void writeChecksum(QByteArrayView data, char *out)
{
    quint32 value = crc32(data);
    for (qsizetype i = kChecksumLength - 1; i >= 0; --i, value /= 62)
        out[i] = kBase62[value % 62];
}

} // namespace

QByteArray keyChecksum(QByteArrayView data)
{
    QByteArray out(kChecksumLength, Qt::Uninitialized);
    writeChecksum(data, out.data());
    return out;
}

bool hasKeyShape(QByteArrayView text)
{
    return text.size() == keyLength && text.startsWith(kPrefix)
        && std::all_of(text.begin() + kPrefix.size(), text.end(), isBase62);
}

bool hasValidKeyChecksum(QByteArrayView text)
{
    if (!hasKeyShape(text))
        return false;
    char checksum[kChecksumLength];
    writeChecksum(text.first(kBodyLength), checksum);
    return QByteArrayView(checksum, kChecksumLength) == text.sliced(kBodyLength);
}

std::optional<Cidr> parseCidr(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (!trimmed.contains(u'/')) {
        // QHostAddress accepts inet_aton's short forms ("10.1" for 10.0.0.1), but whoever writes
        // one in an allow list probably means a network: refused.
        QHostAddress address;
        if (!address.setAddress(trimmed))
            return std::nullopt;
        const bool v4 = address.protocol() == QAbstractSocket::IPv4Protocol;
        if (v4 && trimmed.count(u'.') != 3)
            return std::nullopt;
        return Cidr {address, v4 ? 32 : 128};
    }
    const Cidr subnet = QHostAddress::parseSubnet(trimmed);
    if (subnet.second < 0)
        return std::nullopt;
    return subnet;
}

Result<QList<Cidr>> parseCidrs(const QStringList &texts)
{
    QList<Cidr> out;
    for (const QString &text : texts) {
        const auto cidr = parseCidr(text);
        if (!cidr)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("\"%1\" is not an address or CIDR range.").arg(text));
        out.append(*cidr);
    }
    return out;
}

QStringList cidrStrings(const QList<Cidr> &cidrs)
{
    QStringList out;
    for (const Cidr &c : cidrs)
        out.append(c.first.toString() + u'/' + QString::number(c.second));
    return out;
}

QHostAddress unmappedAddress(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

// isInSubnet() never matches addresses of different protocols, so ::ffff:10.0.0.1 is not in
// 10.0.0.0/8 until it is unmapped; the mapped form is tried too for rules written as ::ffff:0:0/96.
bool addressAllowed(const QList<Cidr> &allowed, const QHostAddress &client)
{
    const QHostAddress plain = unmappedAddress(client);
    return allowed.isEmpty() || std::any_of(allowed.begin(), allowed.end(), [&](const Cidr &c) {
               return plain.isInSubnet(c) || client.isInSubnet(c);
           });
}

} // namespace Outpost::Auth
