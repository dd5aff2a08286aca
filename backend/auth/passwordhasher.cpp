#include "passwordhasher.h"

#include <argon2.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/ids.h"

namespace Outpost::Auth {

namespace {
constexpr quint32 kSaltBytes = 16; // RFC 9106 §3.1: 128-bit salt
constexpr quint32 kHashBytes = 32;
constexpr int kHashingNice = 10;

// A storm of logins must not take the CPU from the network threads: on 2 cores, two hashing
// threads at normal priority raised W1's p99 2.57x, at nice +10 1.75x (BENCHMARKS.md, login
// storm). Linux schedules threads, so this demotes only the calling thread, once; it cannot be
// undone without privileges, which is why the server hashes on a pool of its own.
void demoteThisThread()
{
    thread_local bool demoted = false;
    if (demoted)
        return;
    demoted = true;
    const auto tid = id_t(::syscall(SYS_gettid));
    const int current = ::getpriority(PRIO_PROCESS, tid);
    if (current < kHashingNice)
        ::setpriority(PRIO_PROCESS, tid, kHashingNice);
}
} // namespace

Result<QString> PasswordHasher::hash(const QByteArray &password) const
{
    demoteThisThread();
    const QByteArray salt = Ids::randomBytes(kSaltBytes);
    const size_t encodedLength = argon2_encodedlen(m_params.iterations, m_params.memoryKiB, m_params.parallelism,
                                                   kSaltBytes, kHashBytes, Argon2_id);
    QByteArray encoded(qsizetype(encodedLength), '\0');
    const int rc = argon2id_hash_encoded(m_params.iterations, m_params.memoryKiB, m_params.parallelism,
                                         password.constData(), size_t(password.size()), salt.constData(),
                                         size_t(salt.size()), kHashBytes, encoded.data(), encodedLength);
    if (rc != ARGON2_OK)
        return makeError(
            ErrorCode::Internal,
            QStringLiteral("password hashing failed: %1").arg(QString::fromUtf8(argon2_error_message(rc))));
    return QString::fromLatin1(encoded.constData()); // stops at the terminating NUL
}

bool PasswordHasher::verify(const QString &encoded, const QByteArray &password) const
{
    if (!encoded.startsWith(QStringLiteral("$argon2id$")))
        return false;
    demoteThisThread();
    const QByteArray enc = encoded.toLatin1();
    return argon2id_verify(enc.constData(), password.constData(), size_t(password.size())) == ARGON2_OK;
}

bool PasswordHasher::needsRehash(const QString &encoded) const
{
    const QString expected = QStringLiteral("$argon2id$v=19$m=%1,t=%2,p=%3$")
                                 .arg(m_params.memoryKiB)
                                 .arg(m_params.iterations)
                                 .arg(m_params.parallelism);
    return !encoded.startsWith(expected);
}

const QString &PasswordHasher::decoyHash() const
{
    std::call_once(m_decoyOnce, [this] {
        auto h = hash(Ids::randomBytes(24).toBase64());
        m_decoy = h ? *h : QString();
    });
    return m_decoy;
}

} // namespace Outpost::Auth
