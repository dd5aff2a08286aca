#include <QJsonArray>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QTest>

#include "auth/jwt.h"
#include "core/clock.h"

using namespace Outpost;
using Outpost::Auth::Jwt;

namespace {

constexpr auto kB64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
constexpr qint64 kStartMs = 1'700'000'000'000;
constexpr qint64 kTtl = 3600;

const QByteArray kSecret = QByteArrayLiteral("0123456789abcdef0123456789abcdef");
const QByteArray kKeyId = QByteArrayLiteral("key-1");
const QByteArray kSuffix = QByteArrayLiteral("account-suffix");

QByteArray encodeJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact).toBase64(kB64);
}

// A token built by hand, HMAC-SHA256-signed over whatever header and payload it is given, so that a
// test can change exactly one thing and keep the signature valid.
QByteArray handMade(const QByteArray &header, const QByteArray &payload, const QByteArray &key)
{
    const QByteArray input = header + '.' + payload;
    return input + '.' + QMessageAuthenticationCode::hash(input, key, QCryptographicHash::Sha256).toBase64(kB64);
}

QJsonObject standardHeader()
{
    return QJsonObject {{QStringLiteral("alg"), QStringLiteral("HS256")},
                        {QStringLiteral("typ"), QStringLiteral("JWT")},
                        {QStringLiteral("kid"), QString::fromLatin1(kKeyId)}};
}

QJsonObject standardClaims(qint64 nowSeconds)
{
    return QJsonObject {{QStringLiteral("id"), QStringLiteral("user1")},
                        {QStringLiteral("iat"), nowSeconds},
                        {QStringLiteral("exp"), nowSeconds + kTtl}};
}

std::function<Result<QByteArray>(const QJsonObject &)> suffix(const QByteArray &value)
{
    return [value](const QJsonObject &) -> Result<QByteArray> { return value; };
}

QJsonObject decodeSegment(const QByteArray &token, int index)
{
    const QByteArray part = token.split('.').value(index);
    return QJsonDocument::fromJson(QByteArray::fromBase64(part, QByteArray::Base64UrlEncoding)).object();
}

} // namespace

class TestJwt : public QObject
{
    Q_OBJECT

public:
    TestJwt()
        : m_clock(kStartMs)
        , m_jwt(kSecret, kKeyId, m_clock)
    {
    }

private slots:
    void init();

    void signAndVerify();
    void handMadeTokenVerifies();
    void expiry_data();
    void expiry();
    void issuedInTheFuture_data();
    void issuedInTheFuture();
    void malformedTokens_data();
    void malformedTokens();
    void forbiddenHeaders_data();
    void forbiddenHeaders();
    void badTimeClaims_data();
    void badTimeClaims();
    void otherSecretRefused();
    void keySuffixMatters();
    void keySuffixForErrorRefuses();

private:
    void verifyRefused(const QByteArray &token,
                       const std::function<Result<QByteArray>(const QJsonObject &)> &keySuffixFor = suffix(kSuffix));

    ManualClock m_clock;
    Jwt m_jwt;
};

void TestJwt::init()
{
    m_clock.setMs(kStartMs);
}

void TestJwt::verifyRefused(const QByteArray &token,
                            const std::function<Result<QByteArray>(const QJsonObject &)> &keySuffixFor)
{
    auto claims = m_jwt.verify(token, keySuffixFor);
    QVERIFY2(!claims.ok(), token.constData());
    QCOMPARE(claims.error().code, ErrorCode::Unauthenticated);
    QVERIFY(!claims.error().message.isEmpty());
}

void TestJwt::signAndVerify()
{
    QCOMPARE(m_jwt.keyId(), kKeyId);
    const QByteArray token = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("user1")}}, kTtl, kSuffix);
    QCOMPARE(token.count('.'), 2);

    const QJsonObject header = decodeSegment(token, 0);
    QCOMPARE(header.value(QStringLiteral("alg")).toString(), QStringLiteral("HS256"));
    QCOMPARE(header.value(QStringLiteral("typ")).toString(), QStringLiteral("JWT"));
    QCOMPARE(header.value(QStringLiteral("kid")).toString(), QString::fromLatin1(kKeyId));

    QJsonObject seen;
    auto claims = m_jwt.verify(token, [&seen](const QJsonObject &c) -> Result<QByteArray> {
        seen = c;
        return kSuffix;
    });
    QVERIFY2(claims.ok(), qPrintable(claims.ok() ? QString() : claims.error().message));
    const qint64 now = kStartMs / 1000;
    QCOMPARE(claims->value(QStringLiteral("id")).toString(), QStringLiteral("user1"));
    QCOMPARE(qint64(claims->value(QStringLiteral("iat")).toDouble()), now);
    QCOMPARE(qint64(claims->value(QStringLiteral("exp")).toDouble()), now + kTtl);
    QCOMPARE(seen, *claims); // the callback gets the claims to find the account
}

void TestJwt::handMadeTokenVerifies()
{
    // Proves that handMade() builds valid tokens, so the refusals below are about what they change.
    const QByteArray token
        = handMade(encodeJson(standardHeader()), encodeJson(standardClaims(kStartMs / 1000)), kSecret + kSuffix);
    auto claims = m_jwt.verify(token, suffix(kSuffix));
    QVERIFY2(claims.ok(), qPrintable(claims.ok() ? QString() : claims.error().message));
    QCOMPARE(claims->value(QStringLiteral("id")).toString(), QStringLiteral("user1"));
}

void TestJwt::expiry_data()
{
    QTest::addColumn<qint64>("advanceSeconds");
    QTest::addColumn<bool>("valid");

    // exp = iat + kTtl; verifiers allow 30 seconds of clock skew.
    QTest::newRow("fresh") << qint64(0) << true;
    QTest::newRow("just before exp") << kTtl - 1 << true;
    QTest::newRow("at exp, within leeway") << kTtl << true;
    QTest::newRow("exp + 29 s") << kTtl + 29 << true;
    QTest::newRow("exp + 30 s") << kTtl + 30 << false;
    QTest::newRow("exp + 31 s") << kTtl + 31 << false;
    QTest::newRow("a day later") << qint64(86400) << false;
}

void TestJwt::expiry()
{
    QFETCH(qint64, advanceSeconds);
    QFETCH(bool, valid);

    const QByteArray token = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("u")}}, kTtl, kSuffix);
    m_clock.advanceMs(advanceSeconds * 1000);
    if (valid)
        QVERIFY(m_jwt.verify(token, suffix(kSuffix)).ok());
    else
        verifyRefused(token);
}

void TestJwt::issuedInTheFuture_data()
{
    QTest::addColumn<qint64>("issuedAheadSeconds");
    QTest::addColumn<bool>("valid");

    QTest::newRow("now") << qint64(0) << true;
    QTest::newRow("30 s ahead, within leeway") << qint64(30) << true;
    QTest::newRow("31 s ahead") << qint64(31) << false;
    QTest::newRow("an hour ahead") << qint64(3600) << false;
}

void TestJwt::issuedInTheFuture()
{
    QFETCH(qint64, issuedAheadSeconds);
    QFETCH(bool, valid);

    m_clock.advanceMs(issuedAheadSeconds * 1000);
    const QByteArray token = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("u")}}, kTtl, kSuffix);
    m_clock.setMs(kStartMs);
    if (valid)
        QVERIFY(m_jwt.verify(token, suffix(kSuffix)).ok());
    else
        verifyRefused(token);
}

void TestJwt::malformedTokens_data()
{
    QTest::addColumn<QByteArray>("token");

    m_clock.setMs(kStartMs);
    const QByteArray valid = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("user1")}}, kTtl, kSuffix);
    const QList<QByteArray> parts = valid.split('.');
    const QByteArray &header = parts.at(0);
    const QByteArray &payload = parts.at(1);
    const QByteArray &signature = parts.at(2);
    const QByteArray key = kSecret + kSuffix;

    QJsonObject otherClaims = decodeSegment(valid, 1);
    otherClaims.insert(QStringLiteral("id"), QStringLiteral("admin"));
    QByteArray flippedSignature = signature;
    flippedSignature[0] = flippedSignature[0] == 'A' ? 'B' : 'A';

    QTest::newRow("empty") << QByteArray();
    QTest::newRow("dots only") << QByteArray("..");
    QTest::newRow("tampered payload") << header + '.' + encodeJson(otherClaims) + '.' + signature;
    QTest::newRow("tampered signature") << header + '.' + payload + '.' + flippedSignature;
    QTest::newRow("signature of another token") << header + '.' + payload + '.'
            + m_jwt.sign({{QStringLiteral("id"), QStringLiteral("admin")}}, kTtl, kSuffix).split('.').at(2);
    QTest::newRow("truncated") << valid.left(valid.size() - 5);
    QTest::newRow("truncated signature") << valid.left(valid.size() - signature.size() / 2);
    QTest::newRow("signature removed") << header + '.' + payload + '.';
    QTest::newRow("two segments") << header + '.' + payload;
    QTest::newRow("one segment") << header;
    QTest::newRow("extra segment") << valid + ".AAAA";
    QTest::newRow("empty extra segment") << valid + '.';
    QTest::newRow("empty header") << '.' + payload + '.' + signature;
    QTest::newRow("empty payload") << header + ".." + signature;
    QTest::newRow("signature not base64url")
        << header + '.' + payload + '.' + signature.left(10) + "*+/=" + signature.mid(14);
    QTest::newRow("header not base64url") << handMade("e30*", payload, key);
    QTest::newRow("header not JSON") << handMade(QByteArray("not json").toBase64(kB64), payload, key);
    QTest::newRow("header a JSON array") << handMade(QByteArray("[\"HS256\"]").toBase64(kB64), payload, key);
    QTest::newRow("payload not JSON") << handMade(header, QByteArray("{\"id\":").toBase64(kB64), key);
    QTest::newRow("payload a JSON string") << handMade(header, QByteArray("\"user1\"").toBase64(kB64), key);
    QTest::newRow("whitespace around") << ' ' + valid + ' ';

    QJsonObject big = decodeSegment(valid, 1);
    big.insert(QStringLiteral("padding"), QString(4096, u'x'));
    QTest::newRow("longer than 4096 bytes") << handMade(header, encodeJson(big), key);
}

void TestJwt::malformedTokens()
{
    QFETCH(QByteArray, token);
    verifyRefused(token);
}

void TestJwt::forbiddenHeaders_data()
{
    QTest::addColumn<QByteArray>("token");

    m_clock.setMs(kStartMs);
    const QByteArray payload = encodeJson(standardClaims(kStartMs / 1000));
    const QByteArray key = kSecret + kSuffix;
    const auto withHeader = [&](const QString &name, const QJsonValue &value) {
        QJsonObject header = standardHeader();
        if (value.isUndefined())
            header.remove(name);
        else
            header.insert(name, value);
        return encodeJson(header);
    };

    // RFC 8725 §2.1: an unsigned token must never pass, with or without a signature segment.
    QTest::newRow("alg none, empty signature")
        << withHeader(QStringLiteral("alg"), QStringLiteral("none")) + '.' + payload + '.';
    QTest::newRow("alg none, HMAC signature")
        << handMade(withHeader(QStringLiteral("alg"), QStringLiteral("none")), payload, key);
    QTest::newRow("alg None") << handMade(withHeader(QStringLiteral("alg"), QStringLiteral("None")), payload, key);
    QTest::newRow("alg HS512") << handMade(withHeader(QStringLiteral("alg"), QStringLiteral("HS512")), payload, key);
    QTest::newRow("alg RS256") << handMade(withHeader(QStringLiteral("alg"), QStringLiteral("RS256")), payload, key);
    QTest::newRow("alg hs256") << handMade(withHeader(QStringLiteral("alg"), QStringLiteral("hs256")), payload, key);
    QTest::newRow("alg missing") << handMade(withHeader(QStringLiteral("alg"), QJsonValue::Undefined), payload, key);
    QTest::newRow("alg not a string") << handMade(withHeader(QStringLiteral("alg"), 256), payload, key);
    QTest::newRow("alg list") << handMade(withHeader(QStringLiteral("alg"), QJsonArray {QStringLiteral("HS256")}),
                                          payload, key);
    QTest::newRow("wrong kid") << handMade(withHeader(QStringLiteral("kid"), QStringLiteral("key-2")), payload, key);
    QTest::newRow("kid prefix") << handMade(withHeader(QStringLiteral("kid"), QStringLiteral("key-")), payload, key);
    QTest::newRow("kid missing") << handMade(withHeader(QStringLiteral("kid"), QJsonValue::Undefined), payload, key);
    QTest::newRow("crit") << handMade(withHeader(QStringLiteral("crit"), QJsonArray {QStringLiteral("exp")}), payload,
                                      key);
    QTest::newRow("empty crit") << handMade(withHeader(QStringLiteral("crit"), QJsonArray {}), payload, key);
}

void TestJwt::forbiddenHeaders()
{
    QFETCH(QByteArray, token);
    verifyRefused(token);
}

void TestJwt::badTimeClaims_data()
{
    QTest::addColumn<QByteArray>("token");

    const qint64 now = kStartMs / 1000;
    const QByteArray header = encodeJson(standardHeader());
    const QByteArray key = kSecret + kSuffix;
    const auto withClaim = [&](const QString &name, const QJsonValue &value) {
        QJsonObject claims = standardClaims(now);
        if (value.isUndefined())
            claims.remove(name);
        else
            claims.insert(name, value);
        return handMade(header, encodeJson(claims), key);
    };
    QTest::newRow("exp missing") << withClaim(QStringLiteral("exp"), QJsonValue::Undefined);
    QTest::newRow("iat missing") << withClaim(QStringLiteral("iat"), QJsonValue::Undefined);
    QTest::newRow("exp a string") << withClaim(QStringLiteral("exp"), QString::number(now + kTtl));
    QTest::newRow("iat a string") << withClaim(QStringLiteral("iat"), QString::number(now));
    QTest::newRow("exp null") << withClaim(QStringLiteral("exp"), QJsonValue::Null);
    QTest::newRow("exp in the past") << withClaim(QStringLiteral("exp"), now - 3600);
}

void TestJwt::badTimeClaims()
{
    QFETCH(QByteArray, token);
    verifyRefused(token);
}

void TestJwt::otherSecretRefused()
{
    const Jwt other(QByteArrayLiteral("another secret, also 32 bytes!!!"), kKeyId, m_clock);
    const QByteArray token = other.sign({{QStringLiteral("id"), QStringLiteral("user1")}}, kTtl, kSuffix);
    QVERIFY(other.verify(token, suffix(kSuffix)).ok());
    verifyRefused(token);
}

void TestJwt::keySuffixMatters()
{
    const QByteArray token = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("user1")}}, kTtl, "suffix-A");
    QVERIFY(m_jwt.verify(token, suffix("suffix-A")).ok());
    verifyRefused(token, suffix("suffix-B"));
    verifyRefused(token, suffix(QByteArray()));
    // The suffix is not optional: a token signed without one needs the empty suffix.
    const QByteArray unsuffixed = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("user1")}}, kTtl, QByteArray());
    QVERIFY(m_jwt.verify(unsuffixed, suffix(QByteArray())).ok());
    verifyRefused(unsuffixed, suffix("suffix-A"));
}

void TestJwt::keySuffixForErrorRefuses()
{
    const QByteArray token = m_jwt.sign({{QStringLiteral("id"), QStringLiteral("gone")}}, kTtl, kSuffix);
    int calls = 0;
    const auto unknown = [&calls](const QJsonObject &claims) -> Result<QByteArray> {
        ++calls;
        return makeError(ErrorCode::NotFound,
                         QStringLiteral("no account %1").arg(claims.value(QStringLiteral("id")).toString()));
    };
    verifyRefused(token, unknown);
    QCOMPARE(calls, 1);
    auto claims = m_jwt.verify(token, unknown);
    QVERIFY(!claims.ok());
    // Whatever the callback said, the caller gets Unauthenticated (not NotFound).
    QCOMPARE(claims.error().code, ErrorCode::Unauthenticated);
}

QTEST_GUILESS_MAIN(TestJwt)
#include "tst_jwt.moc"
