#include "ids.h"

#include <QRandomGenerator>

namespace Outpost::Ids {

QString randomId(int length)
{
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    constexpr quint32 alphabetSize = sizeof(alphabet) - 1;
    QString id(length, Qt::Uninitialized);
    auto *rng = QRandomGenerator::system();
    for (int i = 0; i < length; ++i)
        id[i] = QLatin1Char(alphabet[rng->bounded(alphabetSize)]);
    return id;
}

QByteArray randomBytes(int count)
{
    QByteArray out(count, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(out.data()), count / 4);
    for (int i = count - count % 4; i < count; ++i)
        out[i] = char(QRandomGenerator::system()->bounded(256));
    return out;
}

} // namespace Outpost::Ids
