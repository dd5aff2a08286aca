#include "jwt.h"

#include <QJsonDocument>
#include <QMessageAuthenticationCode>

#include <openssl/crypto.h>

namespace Outpost::Auth {

namespace {

constexpr auto kB64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
// Tolerance for clocks of other machines that verify our tokens; RFC 7519 §4.1.4 allows "a few minutes".
constexpr qint64 kLeewaySeconds = 30;

Error invalid(const QString &why)
{
    return makeError(ErrorCode::Unauthenticated, QStringLiteral("Invalid or expired token: %1.").arg(why));
}

Result<QJsonObject> decodePart(QByteArrayView part)
{
    auto decoded = QByteArray::fromBase64Encoding(
        part.toByteArray(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return invalid(QStringLiteral("not base64url"));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(*decoded, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return invalid(QStringLiteral("not a JSON object"));
    return doc.object();
}

} // namespace

Jwt::Jwt(QByteArray secret, QByteArray keyId, const Clock &clock)
    : m_secret(std::move(secret))
    , m_keyId(std::move(keyId))
    , m_clock(clock)
{
}

QByteArray Jwt::mac(QByteArrayView signingInput, const QByteArray &keySuffix) const
{
    return QMessageAuthenticationCode::hash(signingInput.toByteArray(), m_secret + keySuffix,
                                            QCryptographicHash::Sha256);
}

QByteArray Jwt::sign(QJsonObject claims, qint64 ttlSeconds, const QByteArray &keySuffix) const
{
    const qint64 now = m_clock.nowSeconds();
    claims.insert(QStringLiteral("iat"), now);
    claims.insert(QStringLiteral("exp"), now + ttlSeconds);
    const QJsonObject header {{QStringLiteral("alg"), QStringLiteral("HS256")},
                              {QStringLiteral("typ"), QStringLiteral("JWT")},
                              {QStringLiteral("kid"), QString::fromLatin1(m_keyId)}};
    const QByteArray input = QJsonDocument(header).toJson(QJsonDocument::Compact).toBase64(kB64) + '.'
        + QJsonDocument(claims).toJson(QJsonDocument::Compact).toBase64(kB64);
    return input + '.' + mac(input, keySuffix).toBase64(kB64);
}

QJsonObject Jwt::peekClaims(QByteArrayView token)
{
    const qsizetype dot1 = token.size() > 4096 ? -1 : token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot2 < 0)
        return {};
    auto claims = decodePart(token.sliced(dot1 + 1, dot2 - dot1 - 1));
    return claims ? *claims : QJsonObject();
}

Result<QJsonObject> Jwt::verify(QByteArrayView token,
                                const std::function<Result<QByteArray>(const QJsonObject &)> &keySuffixFor) const
{
    if (token.size() > 4096)
        return invalid(QStringLiteral("too long"));
    const qsizetype dot1 = token.indexOf('.');
    const qsizetype dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) >= 0)
        return invalid(QStringLiteral("not a compact JWS"));

    auto header = decodePart(token.first(dot1));
    if (!header)
        return header.error();
    // RFC 8725 §3.1: use only the algorithm we expect; never let the token choose.
    if (header->value(QStringLiteral("alg")).toString() != u"HS256")
        return invalid(QStringLiteral("algorithm not allowed"));
    if (header->value(QStringLiteral("kid")).toString().toLatin1() != m_keyId)
        return invalid(QStringLiteral("unknown key"));
    if (header->contains(QStringLiteral("crit")))
        return invalid(QStringLiteral("unsupported critical header"));

    auto claims = decodePart(token.sliced(dot1 + 1, dot2 - dot1 - 1));
    if (!claims)
        return claims.error();
    auto suffix = keySuffixFor(*claims);
    if (!suffix)
        return invalid(QStringLiteral("unknown account"));

    // Compare the encoded text: decoding would ignore the unused low bits of the last base64
    // character, so several spellings of one signature would verify.
    const QByteArrayView signature = token.sliced(dot2 + 1);
    const QByteArray expected = mac(token.first(dot2), *suffix).toBase64(kB64);
    if (signature.size() != expected.size()
        || CRYPTO_memcmp(signature.data(), expected.constData(), size_t(expected.size())) != 0)
        return invalid(QStringLiteral("bad signature"));

    const qint64 now = m_clock.nowSeconds();
    const QJsonValue exp = claims->value(QStringLiteral("exp"));
    const QJsonValue iat = claims->value(QStringLiteral("iat"));
    if (!exp.isDouble() || !iat.isDouble())
        return invalid(QStringLiteral("missing exp or iat"));
    if (qint64(exp.toDouble()) + kLeewaySeconds <= now)
        return invalid(QStringLiteral("expired"));
    if (qint64(iat.toDouble()) - kLeewaySeconds > now)
        return invalid(QStringLiteral("issued in the future"));
    return claims;
}

} // namespace Outpost::Auth
