#include <QTest>

#include "data/csv.h"

using namespace Outpost::Data;

using Records = QList<QStringList>;

namespace {

QString s(const char *utf8)
{
    return QString::fromUtf8(utf8);
}

QStringList row(std::initializer_list<const char *> fields)
{
    QStringList out;
    for (const char *f : fields)
        out.append(s(f));
    return out;
}

// Every record up to the first End or Error; `lines` gets the line each one starts on.
Records readAll(CsvReader &reader, QList<int> &lines, CsvReader::Next &last)
{
    Records records;
    QStringList fields;
    while ((last = reader.next(fields)) == CsvReader::Next::Record) {
        records.append(fields);
        lines.append(reader.line());
    }
    return records;
}

QByteArray writeAll(const Records &records)
{
    QByteArray out;
    CsvWriter writer(out);
    for (const QStringList &fields : records) {
        for (const QString &f : fields)
            writer.addField(f);
        writer.endRecord();
    }
    return out;
}

} // namespace

class TestCsv : public QObject
{
    Q_OBJECT

private slots:
    void read_data();
    void read();
    void malformed_data();
    void malformed();
    void write_data();
    void write();
    void roundTrip_data();
    void roundTrip();
    void writerBufferMayBeEmptiedBetweenRecords();
};

void TestCsv::read_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<Records>("records");
    QTest::addColumn<QList<int>>("lines");

    QTest::newRow("empty input") << QByteArray() << Records {} << QList<int> {};
    QTest::newRow("only line ends") << QByteArray("\r\n\n\r") << Records {} << QList<int> {};
    QTest::newRow("plain, CRLF, trailing newline")
        << QByteArray("id,name\r\n1,ann\r\n") << Records {row({"id", "name"}), row({"1", "ann"})} << QList<int> {1, 2};
    QTest::newRow("no trailing newline") << QByteArray("id,name\r\n1,ann")
                                         << Records {row({"id", "name"}), row({"1", "ann"})} << QList<int> {1, 2};
    QTest::newRow("LF line ends") << QByteArray("a,b\n1,2\n") << Records {row({"a", "b"}), row({"1", "2"})}
                                  << QList<int> {1, 2};
    QTest::newRow("CR line ends") << QByteArray("a,b\r1,2\r") << Records {row({"a", "b"}), row({"1", "2"})}
                                  << QList<int> {1, 2};
    QTest::newRow("mixed line ends") << QByteArray("a\r\nb\nc\rd")
                                     << Records {row({"a"}), row({"b"}), row({"c"}), row({"d"})}
                                     << QList<int> {1, 2, 3, 4};
    QTest::newRow("blank lines skipped, still counted")
        << QByteArray("\na\n\r\n\nb\n\n") << Records {row({"a"}), row({"b"})} << QList<int> {2, 5};
    QTest::newRow("empty fields") << QByteArray(",a,,\n,\n") << Records {row({"", "a", "", ""}), row({"", ""})}
                                  << QList<int> {1, 2};
    QTest::newRow("trailing comma at the end of the data")
        << QByteArray("a,") << Records {row({"a", ""})} << QList<int> {1};
    QTest::newRow("spaces kept") << QByteArray(" a , b \n") << Records {row({" a ", " b "})} << QList<int> {1};
    QTest::newRow("quoted plain") << QByteArray("\"a\",\"b\"\n") << Records {row({"a", "b"})} << QList<int> {1};
    QTest::newRow("quoted empty") << QByteArray("\"\"\n\"\",x\n") << Records {row({""}), row({"", "x"})}
                                  << QList<int> {1, 2};
    QTest::newRow("quoted comma") << QByteArray("\"a,b\",c\n") << Records {row({"a,b", "c"})} << QList<int> {1};
    QTest::newRow("quoted doubled quotes")
        << QByteArray("\"say \"\"hi\"\"\",\"\"\"\"\n") << Records {row({"say \"hi\"", "\""})} << QList<int> {1};
    QTest::newRow("quoted LF counts a line")
        << QByteArray("\"x\ny\",z\n1,2\n") << Records {row({"x\ny", "z"}), row({"1", "2"})} << QList<int> {1, 3};
    QTest::newRow("quoted CRLF counts one line")
        << QByteArray("\"x\r\ny\",z\r\n1,2\r\n") << Records {row({"x\r\ny", "z"}), row({"1", "2"})}
        << QList<int> {1, 3};
    QTest::newRow("quoted CR counts a line")
        << QByteArray("\"x\ry\"\r1\r") << Records {row({"x\ry"}), row({"1"})} << QList<int> {1, 3};
    QTest::newRow("quoted line ends around a doubled quote")
        << QByteArray("\"a\r\"\"\nb\"\nc\n") << Records {row({"a\r\"\nb"}), row({"c"})} << QList<int> {1, 4};
    QTest::newRow("quoted field last, no newline")
        << QByteArray("a,\"b\"") << Records {row({"a", "b"})} << QList<int> {1};
    QTest::newRow("BOM skipped") << QByteArray("\xEF\xBB\xBFid,name\n1,x\n")
                                 << Records {row({"id", "name"}), row({"1", "x"})} << QList<int> {1, 2};
    QTest::newRow("BOM before a quoted field")
        << QByteArray("\xEF\xBB\xBF\"id\"\n") << Records {row({"id"})} << QList<int> {1};
    QTest::newRow("BOM only") << QByteArray("\xEF\xBB\xBF") << Records {} << QList<int> {};
    // QString::fromUtf8() takes U+FEFF at the start of a field for a BOM and drops it.
    QTest::newRow("BOM starting a later field is dropped") << QByteArray("a\n\xEF\xBB\xBF,\xEF\xBB\xBF"
                                                                         "b")
                                                           << Records {row({"a"}), row({"", "b"})} << QList<int> {1, 2};
    QTest::newRow("BOM inside a field is text")
        << QByteArray("a\xEF\xBB\xBF") << Records {QStringList {QStringLiteral("a\uFEFF")}} << QList<int> {1};
    QTest::newRow("UTF-8") << QByteArray("\xC3\xBC,\"\xE6\x97\xA5,\"\n") << Records {row({"\xC3\xBC", "\xE6\x97\xA5,"})}
                           << QList<int> {1};
    QTest::newRow("invalid UTF-8 decodes to U+FFFD")
        << QByteArray("a\xFF") << Records {QStringList {QStringLiteral("a\uFFFD")}} << QList<int> {1};
}

void TestCsv::read()
{
    QFETCH(QByteArray, input);
    QFETCH(Records, records);
    QFETCH(QList<int>, lines);

    CsvReader reader(input);
    QList<int> actualLines;
    CsvReader::Next last = CsvReader::Next::Record;
    QCOMPARE(readAll(reader, actualLines, last), records);
    QCOMPARE(last, CsvReader::Next::End);
    QCOMPARE(actualLines, lines);
    QVERIFY(reader.errorString().isEmpty());
    QStringList fields {QStringLiteral("stale")};
    QCOMPARE(reader.next(fields), CsvReader::Next::End); // End stays End
    QVERIFY(fields.isEmpty());
}

void TestCsv::malformed_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<Records>("before"); // the records read before the fault
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("error");

    const QString neverClosed = QStringLiteral("the quoted field starting here is never closed");
    const QString strayQuote
        = QStringLiteral("a double quote inside an unquoted field (quote the field and double its quotes)");
    const QString afterClosing = QStringLiteral("unexpected text after a closing quote");

    QTest::newRow("unterminated quote") << QByteArray("\"abc") << Records {} << 1 << neverClosed;
    QTest::newRow("unterminated quote names the line it opens on")
        << QByteArray("a,b\n1,\"two\nthree\nfour\n") << Records {row({"a", "b"})} << 2 << neverClosed;
    QTest::newRow("unterminated quote after a multi-line field")
        << QByteArray("\"x\r\ny\"\r\n\n\"z,1") << Records {row({"x\r\ny"})} << 4 << neverClosed;
    QTest::newRow("unterminated after a doubled quote") << QByteArray("\"a\"\"") << Records {} << 1 << neverClosed;
    QTest::newRow("stray quote in an unquoted field")
        << QByteArray("a,b\nc,d\"e\n") << Records {row({"a", "b"})} << 2 << strayQuote;
    QTest::newRow("stray quote ending an unquoted field") << QByteArray("ab\"\n") << Records {} << 1 << strayQuote;
    QTest::newRow("text after a closing quote") << QByteArray("\"a\"b,c\n") << Records {} << 1 << afterClosing;
    QTest::newRow("space after a closing quote")
        << QByteArray("x\n\"a\" ,c\n") << Records {row({"x"})} << 2 << afterClosing;
    QTest::newRow("text after a multi-line quoted field")
        << QByteArray("\"a\nb\"c\n") << Records {} << 2 << afterClosing;
}

void TestCsv::malformed()
{
    QFETCH(QByteArray, input);
    QFETCH(Records, before);
    QFETCH(int, line);
    QFETCH(QString, error);

    CsvReader reader(input);
    QList<int> lines;
    CsvReader::Next last = CsvReader::Next::Record;
    QCOMPARE(readAll(reader, lines, last), before);
    QCOMPARE(last, CsvReader::Next::Error);
    QCOMPARE(reader.line(), line);
    QCOMPARE(reader.errorString(), QStringLiteral("line %1: %2").arg(line).arg(error));
    QStringList fields;
    QCOMPARE(reader.next(fields), CsvReader::Next::Error); // an error stays
    QVERIFY(fields.isEmpty());
    QCOMPARE(reader.line(), line);
}

void TestCsv::write_data()
{
    QTest::addColumn<Records>("records");
    QTest::addColumn<QByteArray>("csv");

    QTest::newRow("nothing") << Records {} << QByteArray();
    QTest::newRow("plain") << Records {row({"id", "name"}), row({"1", "ann"})} << QByteArray("id,name\r\n1,ann\r\n");
    QTest::newRow("empty fields") << Records {row({"", "a", ""}), row({"", ""})} << QByteArray(",a,\r\n,\r\n");
    QTest::newRow("a record's only field empty is quoted")
        << Records {row({""}), row({"x"})} << QByteArray("\"\"\r\nx\r\n");
    QTest::newRow("comma quoted") << Records {row({"a,b", "c"})} << QByteArray("\"a,b\",c\r\n");
    QTest::newRow("quotes doubled") << Records {row({"say \"hi\"", "\""})}
                                    << QByteArray("\"say \"\"hi\"\"\",\"\"\"\"\r\n");
    QTest::newRow("LF quoted") << Records {row({"a\nb"})} << QByteArray("\"a\nb\"\r\n");
    QTest::newRow("CR quoted") << Records {row({"a\rb"})} << QByteArray("\"a\rb\"\r\n");
    QTest::newRow("CRLF quoted") << Records {row({"a\r\nb", "c"})} << QByteArray("\"a\r\nb\",c\r\n");
    QTest::newRow("spaces not quoted") << Records {row({" a ", "b c"})} << QByteArray(" a ,b c\r\n");
    QTest::newRow("UTF-8") << Records {row({"\xC3\xBC", "\xE6\x97\xA5"})} << QByteArray("\xC3\xBC,\xE6\x97\xA5\r\n");
}

void TestCsv::write()
{
    QFETCH(Records, records);
    QFETCH(QByteArray, csv);

    QCOMPARE(writeAll(records), csv);
}

void TestCsv::roundTrip_data()
{
    QTest::addColumn<Records>("records");

    QTest::newRow("plain") << Records {row({"id", "name"}), row({"1", "ann"}), row({"2", "bob"})};
    QTest::newRow("empty fields") << Records {row({"", "a", ""}), row({"", ""}), row({""}), row({"", "", ""})};
    QTest::newRow("special characters") << Records {row({"a,b", "say \"hi\"", "\""}), row({"x\ny", "x\r\ny", "x\ry"}),
                                                    row({"\"\"", ",", "\r\n"})};
    QTest::newRow("quotes at the edges") << Records {row({"\"a", "b\"", "\"c\""})};
    QTest::newRow("spaces and blank-looking text") << Records {row({" ", "\t", " a "}), row({"\n"}), row({"\r\n\r\n"})};
    QTest::newRow("UTF-8") << Records {row({"\xC3\xBC\xE6\x97\xA5", "\xF0\x9F\x99\x82"})};
    QTest::newRow("JSON text") << Records {row({"[\"a\",\"b\"]", "{\"k\": \"v, w\"}", "null"})};
    QTest::newRow("ragged") << Records {row({"a"}), row({"a", "b", "c"}), row({"", "b"})};
}

void TestCsv::roundTrip()
{
    QFETCH(Records, records);

    const QByteArray csv = writeAll(records);
    CsvReader reader(csv);
    QList<int> lines;
    CsvReader::Next last = CsvReader::Next::Record;
    QCOMPARE(readAll(reader, lines, last), records);
    QCOMPARE(last, CsvReader::Next::End);
}

void TestCsv::writerBufferMayBeEmptiedBetweenRecords()
{
    QByteArray out;
    QByteArray sent;
    CsvWriter writer(out);
    writer.addField(QStringLiteral("a"));
    writer.addField(QStringLiteral("b"));
    writer.endRecord();
    sent += std::exchange(out, QByteArray());
    writer.addField(QString());
    writer.endRecord();
    sent += std::exchange(out, QByteArray());
    writer.addField(QStringLiteral("c"));
    writer.endRecord();
    sent += out;
    QCOMPARE(sent, QByteArray("a,b\r\n\"\"\r\nc\r\n"));
}

QTEST_APPLESS_MAIN(TestCsv)
#include "tst_csv.moc"
