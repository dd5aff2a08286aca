#pragma once

#include <QByteArray>
#include <QString>

namespace Outpost::Ids {

// A record id as PocketBase makes them: `length` characters of [a-z0-9] from the system CSPRNG.
QString randomId(int length = 15);

// `count` bytes from the system CSPRNG (getrandom(2) behind QRandomGenerator::system()).
QByteArray randomBytes(int count);

} // namespace Outpost::Ids
