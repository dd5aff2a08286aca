#pragma once

#include <QByteArray>
#include <QString>
#include <mutex>

#include "../core/result.h"

namespace Outpost::Auth {

// Argon2id as the OWASP Password Storage Cheat Sheet recommends: m=19 MiB, t=2, p=1 by default.
// The PHC string it produces ($argon2id$v=19$m=…,t=…,p=…$salt$hash) carries its parameters, so they
// can be raised later and old hashes still verify (needsRehash() tells which to upgrade on login).
//
// Thread-safe. hash()/verify() take tens of milliseconds and 19 MiB each: call them on a worker
// thread, never on a network or GUI thread. The first call on a thread lowers that thread's
// scheduling priority for good (nice +10), so that hashing yields the CPU to request handling: give
// hashing threads of their own (the server's password pool).
class PasswordHasher
{
public:
    struct Params
    {
        quint32 memoryKiB = 19 * 1024;
        quint32 iterations = 2;
        quint32 parallelism = 1;
    };

    PasswordHasher() = default;
    explicit PasswordHasher(Params params)
        : m_params(params)
    {
    }
    PasswordHasher(const PasswordHasher &) = delete;
    PasswordHasher &operator=(const PasswordHasher &) = delete;

    Result<QString> hash(const QByteArray &password) const;
    // False for a wrong password and for a malformed hash alike.
    bool verify(const QString &encoded, const QByteArray &password) const;
    bool needsRehash(const QString &encoded) const;
    // A valid hash of a random password with our parameters: verifying against it costs what a real
    // verification costs, so an unknown account answers as slowly as a wrong password.
    const QString &decoyHash() const;
    const Params &params() const { return m_params; }

private:
    Params m_params;
    mutable std::once_flag m_decoyOnce;
    mutable QString m_decoy;
};

} // namespace Outpost::Auth
