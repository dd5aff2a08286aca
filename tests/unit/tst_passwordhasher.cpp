#include <QTest>

#include "auth/passwordhasher.h"

using Outpost::Auth::PasswordHasher;

namespace {

// Far below OWASP's minimum, to keep the tests fast; one test uses the real defaults.
constexpr PasswordHasher::Params kCheap {64, 1, 1};

QString hashOrFail(const PasswordHasher &hasher, const QByteArray &password)
{
    auto encoded = hasher.hash(password);
    return encoded ? *encoded : QString();
}

// Replaces the first character of `$`-separated segment `index` with another base64 character.
QString alterSegment(const QString &encoded, int index)
{
    QStringList parts = encoded.split(u'$');
    QChar &c = parts[index][0];
    c = c == u'A' ? u'B' : u'A';
    return parts.join(u'$');
}

} // namespace

class TestPasswordHasher : public QObject
{
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void saltMakesHashesDiffer();
    void defaultParamsAreOwasps();
    void encodedStringCarriesParams();
    void hashesWithOtherParamsStillVerify();
    void malformedHashesDoNotVerify_data();
    void malformedHashesDoNotVerify();
    void needsRehash_data();
    void needsRehash();
    void decoyHash();
};

void TestPasswordHasher::roundTrip_data()
{
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QByteArray>("wrongPassword");

    QTest::newRow("ascii") << QByteArray("correct horse battery staple") << QByteArray("correct horse battery stapler");
    QTest::newRow("case matters") << QByteArray("Secret-Password") << QByteArray("secret-password");
    QTest::newRow("empty") << QByteArray() << QByteArray(" ");
    QTest::newRow("utf-8") << QStringLiteral("pässwörd 🔑").toUtf8() << QStringLiteral("passwort 🔑").toUtf8();
    // The length is passed along: bytes after a NUL count.
    QTest::newRow("embedded NUL") << QByteArray("abc\0def", 7) << QByteArray("abc");
    QTest::newRow("1024 bytes") << QByteArray(1024, 'p') << QByteArray(1023, 'p');
}

void TestPasswordHasher::roundTrip()
{
    QFETCH(QByteArray, password);
    QFETCH(QByteArray, wrongPassword);

    const PasswordHasher hasher(kCheap);
    auto encoded = hasher.hash(password);
    QVERIFY(encoded.ok());
    QVERIFY(hasher.verify(*encoded, password));
    QVERIFY(!hasher.verify(*encoded, wrongPassword));
    QVERIFY(!hasher.needsRehash(*encoded));
}

void TestPasswordHasher::saltMakesHashesDiffer()
{
    const PasswordHasher hasher(kCheap);
    const QString first = hashOrFail(hasher, "same password");
    const QString second = hashOrFail(hasher, "same password");
    QVERIFY(!first.isEmpty());
    QVERIFY(!second.isEmpty());
    QVERIFY(first != second);
    QVERIFY(first.split(u'$').at(4) != second.split(u'$').at(4)); // the salts
    QVERIFY(hasher.verify(first, "same password"));
    QVERIFY(hasher.verify(second, "same password"));
}

void TestPasswordHasher::defaultParamsAreOwasps()
{
    const PasswordHasher hasher;
    QCOMPARE(hasher.params().memoryKiB, quint32(19456));
    QCOMPARE(hasher.params().iterations, quint32(2));
    QCOMPARE(hasher.params().parallelism, quint32(1));

    const QString encoded = hashOrFail(hasher, "owasp");
    QVERIFY(encoded.startsWith(QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$")));
    QVERIFY(hasher.verify(encoded, "owasp"));
    QVERIFY(!hasher.verify(encoded, "0wasp"));
    QVERIFY(!hasher.needsRehash(encoded));
    QVERIFY(PasswordHasher(kCheap).needsRehash(encoded));
}

void TestPasswordHasher::encodedStringCarriesParams()
{
    const PasswordHasher hasher({128, 3, 2});
    const QString encoded = hashOrFail(hasher, "params");
    // $argon2id$v=19$m=128,t=3,p=2$<salt>$<hash>
    const QStringList parts = encoded.split(u'$');
    QCOMPARE(parts.size(), 6);
    QVERIFY(parts.at(0).isEmpty());
    QCOMPARE(parts.at(1), QStringLiteral("argon2id"));
    QCOMPARE(parts.at(2), QStringLiteral("v=19"));
    QCOMPARE(parts.at(3), QStringLiteral("m=128,t=3,p=2"));
    QCOMPARE(parts.at(4).size(), 22); // 16-byte salt, unpadded base64
    QCOMPARE(parts.at(5).size(), 43); // 32-byte hash, unpadded base64
}

void TestPasswordHasher::hashesWithOtherParamsStillVerify()
{
    // Raising the parameters later must not lock out existing accounts.
    const QString old = hashOrFail(PasswordHasher(kCheap), "legacy");
    const PasswordHasher stronger({256, 2, 1});
    QVERIFY(stronger.verify(old, "legacy"));
    QVERIFY(!stronger.verify(old, "legacy!"));
    QVERIFY(stronger.needsRehash(old));
}

void TestPasswordHasher::malformedHashesDoNotVerify_data()
{
    QTest::addColumn<QString>("encoded");

    const QString valid = hashOrFail(PasswordHasher(kCheap), "password");
    QVERIFY(valid.startsWith(QStringLiteral("$argon2id$")));
    const auto with = [&valid](const char *from, const char *to) {
        return QString(valid).replace(QString::fromLatin1(from), QString::fromLatin1(to));
    };
    QTest::newRow("empty") << QString();
    QTest::newRow("garbage") << QStringLiteral("not a hash");
    QTest::newRow("prefix only") << QStringLiteral("$argon2id$");
    QTest::newRow("argon2i") << with("$argon2id$", "$argon2i$");
    QTest::newRow("argon2d") << with("$argon2id$", "$argon2d$");
    QTest::newRow("upper-case algorithm") << with("$argon2id$", "$ARGON2ID$");
    QTest::newRow("bcrypt") << QStringLiteral("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW");
    QTest::newRow("plain text password") << QStringLiteral("password");
    QTest::newRow("truncated") << valid.left(valid.size() - 10);
    QTest::newRow("hash missing") << valid.left(valid.lastIndexOf(u'$'));
    QTest::newRow("hash altered") << alterSegment(valid, 5);
    QTest::newRow("salt altered") << alterSegment(valid, 4);
    QTest::newRow("memory altered") << with("m=64,", "m=72,");
    QTest::newRow("iterations altered") << with(",t=1,", ",t=2,");
    QTest::newRow("version altered") << with("$v=19$", "$v=16$");
    QTest::newRow("params missing") << with("$m=64,t=1,p=1", "");
    QTest::newRow("trailing segment") << valid + QStringLiteral("$extra");
    QTest::newRow("leading space") << u' ' + valid;
}

void TestPasswordHasher::malformedHashesDoNotVerify()
{
    QFETCH(QString, encoded);
    const PasswordHasher hasher(kCheap);
    QVERIFY(!hasher.verify(encoded, "password"));
    QVERIFY(!hasher.verify(encoded, QByteArray()));
}

void TestPasswordHasher::needsRehash_data()
{
    QTest::addColumn<quint32>("hashMemory");
    QTest::addColumn<quint32>("hashIterations");
    QTest::addColumn<quint32>("hashParallelism");
    QTest::addColumn<bool>("expected"); // for a hasher with kCheap

    QTest::newRow("same params") << kCheap.memoryKiB << kCheap.iterations << kCheap.parallelism << false;
    QTest::newRow("more memory") << quint32(128) << kCheap.iterations << kCheap.parallelism << true;
    QTest::newRow("memory with the same prefix") << quint32(640) << kCheap.iterations << kCheap.parallelism << true;
    QTest::newRow("more iterations") << kCheap.memoryKiB << quint32(2) << kCheap.parallelism << true;
    QTest::newRow("more parallelism") << kCheap.memoryKiB << kCheap.iterations << quint32(2) << true;
}

void TestPasswordHasher::needsRehash()
{
    QFETCH(quint32, hashMemory);
    QFETCH(quint32, hashIterations);
    QFETCH(quint32, hashParallelism);
    QFETCH(bool, expected);

    const QString encoded = hashOrFail(PasswordHasher({hashMemory, hashIterations, hashParallelism}), "pw");
    QVERIFY(!encoded.isEmpty());
    const PasswordHasher hasher(kCheap);
    QCOMPARE(hasher.needsRehash(encoded), expected);
    QVERIFY(hasher.verify(encoded, "pw")); // needing a rehash does not mean failing to verify
}

void TestPasswordHasher::decoyHash()
{
    const PasswordHasher hasher(kCheap);
    const QString &decoy = hasher.decoyHash();
    QVERIFY(decoy.startsWith(QStringLiteral("$argon2id$")));
    QVERIFY(!hasher.needsRehash(decoy)); // costs what a real verification costs
    QVERIFY(!hasher.verify(decoy, QByteArray()));
    QVERIFY(!hasher.verify(decoy, "password"));
    QCOMPARE(hasher.decoyHash(), decoy); // computed once

    // The header promises a decoy "with our parameters"; a hasher with other parameters must not
    // get the first hasher's decoy, or an unknown account answers faster than a wrong password.
    const PasswordHasher other({128, 1, 1});
    QVERIFY(!other.needsRehash(other.decoyHash()));
}

QTEST_GUILESS_MAIN(TestPasswordHasher)
#include "tst_passwordhasher.moc"
