#include "requestid.h"

#include <QRandomGenerator>
#include <algorithm>
#include <atomic>

namespace Outpost::Http {

namespace {

constexpr qsizetype kMaxLength = 64;
constexpr qsizetype kPrefixLength = 10;

// Crockford's base32 alphabet in lower case: no i, l, o or u to misread.
constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

const QByteArray &prefix()
{
    static const QByteArray value = [] {
        quint64 bits = QRandomGenerator::system()->generate64();
        QByteArray out(kPrefixLength, Qt::Uninitialized);
        for (char &c : out) {
            c = kAlphabet[bits & 31];
            bits >>= 5;
        }
        return out;
    }();
    return value;
}

std::atomic<quint64> g_counter {0};

} // namespace

bool isAcceptableRequestId(QByteArrayView id)
{
    if (id.isEmpty() || id.size() > kMaxLength)
        return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
            || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

QByteArray newRequestId()
{
    const quint64 n = g_counter.fetch_add(1, std::memory_order_relaxed) + 1;
    char digits[16];
    int count = 0;
    for (quint64 rest = n; rest != 0 || count == 0; rest >>= 4)
        digits[count++] = "0123456789abcdef"[rest & 15];
    const QByteArray &head = prefix();
    QByteArray id(head.size() + 1 + count, Qt::Uninitialized);
    char *out = id.data();
    out = std::copy(head.cbegin(), head.cend(), out);
    *out++ = '-';
    while (count > 0)
        *out++ = digits[--count];
    return id;
}

} // namespace Outpost::Http
