#include "csv.h"

namespace Outpost::Data {

CsvReader::CsvReader(QByteArrayView data)
    : m_data(data.startsWith("\xEF\xBB\xBF") ? data.sliced(3) : data)
{
}

CsvReader::Next CsvReader::next(QStringList &fields)
{
    fields.clear();
    if (!m_error.isEmpty())
        return Next::Error;
    while (m_pos < m_data.size() && isLineEnd(m_pos))
        endLine();
    if (m_pos >= m_data.size())
        return Next::End;
    m_recordLine = m_line;
    for (;;) {
        QByteArray field;
        const bool ok = m_pos < m_data.size() && m_data[m_pos] == '"' ? readQuoted(field) : readPlain(field);
        if (!ok) {
            fields.clear();
            return Next::Error;
        }
        fields.append(QString::fromUtf8(field));
        if (m_pos >= m_data.size())
            return Next::Record;
        if (m_data[m_pos] != ',') {
            endLine();
            return Next::Record;
        }
        ++m_pos;
    }
}

bool CsvReader::isLineEnd(qsizetype pos) const
{
    return m_data[pos] == '\n' || m_data[pos] == '\r';
}

void CsvReader::endLine()
{
    m_pos += m_data[m_pos] == '\r' && m_pos + 1 < m_data.size() && m_data[m_pos + 1] == '\n' ? 2 : 1;
    ++m_line;
}

bool CsvReader::fail(int line, const QString &what)
{
    m_recordLine = line;
    m_error = QStringLiteral("line %1: %2").arg(QString::number(line), what);
    return false;
}

bool CsvReader::readPlain(QByteArray &field)
{
    const qsizetype start = m_pos;
    for (; m_pos < m_data.size() && m_data[m_pos] != ',' && !isLineEnd(m_pos); ++m_pos) {
        if (m_data[m_pos] == '"')
            return fail(m_line,
                        QStringLiteral("a double quote inside an unquoted field (quote the field and double its "
                                       "quotes)"));
    }
    field = m_data.sliced(start, m_pos - start).toByteArray();
    return true;
}

bool CsvReader::readQuoted(QByteArray &field)
{
    const int startLine = m_line;
    ++m_pos;
    for (;;) {
        const qsizetype quote = m_data.indexOf('"', m_pos);
        if (quote < 0)
            return fail(startLine, QStringLiteral("the quoted field starting here is never closed"));
        const QByteArrayView text = m_data.sliced(m_pos, quote - m_pos);
        // Line ends inside the field count too, so that later messages name the right line.
        m_line += int(text.count('\n') + text.count('\r') - text.count("\r\n"));
        field.append(text);
        m_pos = quote + 1;
        if (m_pos < m_data.size() && m_data[m_pos] == '"') {
            field.append('"');
            ++m_pos;
            continue;
        }
        if (m_pos < m_data.size() && m_data[m_pos] != ',' && !isLineEnd(m_pos))
            return fail(m_line, QStringLiteral("unexpected text after a closing quote"));
        return true;
    }
}

void CsvWriter::addField(QStringView text)
{
    if (m_fields++ > 0)
        m_out->append(',');
    m_onlyFieldEmpty = m_fields == 1 && text.isEmpty();
    const QByteArray utf8 = text.toUtf8();
    const bool quote = utf8.contains('"') || utf8.contains(',') || utf8.contains('\r') || utf8.contains('\n');
    if (!quote) {
        m_out->append(utf8);
        return;
    }
    m_out->append('"').append(QByteArray(utf8).replace("\"", "\"\"")).append('"');
}

void CsvWriter::endRecord()
{
    if (m_fields == 1 && m_onlyFieldEmpty)
        m_out->append("\"\"");
    m_out->append("\r\n");
    m_fields = 0;
    m_onlyFieldEmpty = false;
}

} // namespace Outpost::Data
