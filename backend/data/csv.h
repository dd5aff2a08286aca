#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>
#include <QStringView>

// CSV as RFC 4180 describes it, in UTF-8: a reader that hands out one record at a time and a writer
// that appends records to a buffer. Neither is thread-safe; each may be used from any one thread.
namespace Outpost::Data {

// Reads records from `data`, which is not copied and must outlive the reader.
// Accepts CRLF, LF and CR line ends, skips a leading UTF-8 BOM and blank lines (so a record of one
// empty field must be written "", as CsvWriter does). Strict about quotes: a quote inside an unquoted
// field, text after a closing quote and a quoted field never closed are errors that name their line.
// Fields decode as QString::fromUtf8() does: invalid UTF-8 becomes U+FFFD (check the input first
// where that matters) and a U+FEFF opening a field is dropped.
class CsvReader
{
public:
    enum class Next { Record, End, Error };

    explicit CsvReader(QByteArrayView data);

    // Reads the next record into `fields` (cleared first). End: there are no more records.
    // Error: the input is malformed (see line() and errorString()); every later call answers Error.
    Next next(QStringList &fields);

    // From 1: after Record, the line the record starts on; after Error, the line the fault is on
    // (for a quoted field never closed, the line it opens on).
    int line() const { return m_recordLine; }

    // After Error, "line N: <what is wrong>"; empty before.
    QString errorString() const { return m_error; }

private:
    bool isLineEnd(qsizetype pos) const;
    void endLine();
    bool fail(int line, const QString &what);
    bool readPlain(QByteArray &field);
    bool readQuoted(QByteArray &field);

    QByteArrayView m_data;
    qsizetype m_pos = 0;
    int m_line = 1;
    int m_recordLine = 0;
    QString m_error;
};

// Appends records to `out`, which the caller owns and may empty (say, to send it on) between
// records: fields separated by commas, each record ended by CRLF. A field holding a quote, comma,
// CR or LF is quoted with its quotes doubled (RFC 4180 §2.6-2.7); so is a record's only field when
// empty, which would otherwise be a blank line that readers skip. A record needs at least one field.
class CsvWriter
{
public:
    explicit CsvWriter(QByteArray &out)
        : m_out(&out)
    {
    }

    void addField(QStringView text);
    void endRecord();

private:
    QByteArray *m_out;
    int m_fields = 0; // in the current record
    bool m_onlyFieldEmpty = false;
};

} // namespace Outpost::Data
