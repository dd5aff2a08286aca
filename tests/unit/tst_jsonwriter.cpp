#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/jsonwriter.h"

using namespace Outpost;

namespace {

// What Qt writes for `value` as the only member of an object, without the braces and key.
QByteArray qtWrites(const QJsonValue &value)
{
    const QByteArray doc = QJsonDocument(QJsonObject {{QStringLiteral("v"), value}}).toJson(QJsonDocument::Compact);
    return doc.mid(5, doc.size() - 6); // {"v":...}
}

QByteArray oursWrites(const QJsonValue &value)
{
    QByteArray out;
    Json::appendValue(out, value);
    return out;
}

} // namespace

class TestJsonWriter : public QObject
{
    Q_OBJECT

private slots:
    void matchesQt_data()
    {
        QTest::addColumn<QJsonValue>("value");
        QTest::newRow("empty string") << QJsonValue(QString());
        QTest::newRow("ascii") << QJsonValue(QStringLiteral("hello world"));
        QTest::newRow("quote and backslash") << QJsonValue(QStringLiteral("a\"b\\c/d"));
        QTest::newRow("short escapes") << QJsonValue(QStringLiteral("\b\f\n\r\t"));
        QString controls;
        for (char16_t c = 0; c < 0x20; ++c)
            controls.append(QChar(c));
        controls.append(QChar(0x7f));
        QTest::newRow("every control character") << QJsonValue(controls);
        QTest::newRow("non-ascii") << QJsonValue(QStringLiteral("café ☕ 日本語 \U0001F600"));
        QTest::newRow("line separators") << QJsonValue(QString::fromUtf16(u"a\u2028b\u2029c"));
        QTest::newRow("escape at the end") << QJsonValue(QStringLiteral("end\n"));
        QTest::newRow("true") << QJsonValue(true);
        QTest::newRow("false") << QJsonValue(false);
        QTest::newRow("null") << QJsonValue(QJsonValue::Null);
        QTest::newRow("zero") << QJsonValue(0.0);
        QTest::newRow("negative zero") << QJsonValue(-0.0);
        QTest::newRow("integer") << QJsonValue(42.0);
        QTest::newRow("negative integer") << QJsonValue(-17.0);
        QTest::newRow("fraction") << QJsonValue(0.1);
        QTest::newRow("third") << QJsonValue(1.0 / 3.0);
        QTest::newRow("2^53") << QJsonValue(9007199254740992.0);
        QTest::newRow("2^53 + 2") << QJsonValue(9007199254740994.0);
        QTest::newRow("-2^53") << QJsonValue(-9007199254740992.0);
        QTest::newRow("1e15") << QJsonValue(1e15);
        QTest::newRow("1e20") << QJsonValue(1e20);
        QTest::newRow("1e300") << QJsonValue(1e300);
        QTest::newRow("tiny") << QJsonValue(1e-300);
        QTest::newRow("denormal") << QJsonValue(std::numeric_limits<double>::denorm_min());
        QTest::newRow("max double") << QJsonValue(std::numeric_limits<double>::max());
        QTest::newRow("array") << QJsonValue(QJsonArray {1, QStringLiteral("x\n"), true, QJsonValue::Null});
        QTest::newRow("object") << QJsonValue(QJsonObject {{QStringLiteral("b"), 1}, {QStringLiteral("a"), 2.5}});
    }

    void matchesQt()
    {
        QFETCH(QJsonValue, value);
        QCOMPARE(oursWrites(value), qtWrites(value));
    }

    // Random doubles across the whole range, and random strings over the first 0x3000 code units.
    void matchesQtOnRandomInput()
    {
        QRandomGenerator random(20261124);
        for (int i = 0; i < 20000; ++i) {
            double d = 0;
            switch (i % 4) {
            case 0:
                d = std::ldexp(random.generateDouble() - 0.5, int(random.bounded(-1070, 1020)));
                break;
            case 1:
                d = double(qint64(random.generate64() >> int(random.bounded(0, 63)))) * (random.bounded(2) ? 1 : -1);
                break;
            case 2:
                d = std::round(random.generateDouble() * 1e6) / 100;
                break;
            default: {
                quint64 bits = random.generate64();
                std::memcpy(&d, &bits, sizeof d);
                break;
            }
            }
            if (!std::isfinite(d))
                continue;
            QCOMPARE(oursWrites(QJsonValue(d)), qtWrites(QJsonValue(d)));
        }
        for (int i = 0; i < 2000; ++i) {
            QString s;
            const int length = int(random.bounded(0, 40));
            for (int n = 0; n < length; ++n)
                s.append(QChar(char16_t(random.bounded(1, 0x3000))));
            QCOMPARE(oursWrites(QJsonValue(s)), qtWrites(QJsonValue(s)));
        }
    }

    void nonFiniteIsNull()
    {
        QByteArray out;
        Json::appendNumber(out, std::numeric_limits<double>::infinity());
        Json::appendNumber(out, std::nan(""));
        QCOMPARE(out, QByteArray("nullnull"));
    }
};

QTEST_GUILESS_MAIN(TestJsonWriter)
#include "tst_jsonwriter.moc"
