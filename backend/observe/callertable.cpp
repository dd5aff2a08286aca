#include "callertable.h"

#include <bit>
#include <thread>

namespace Outpost::Observe {

namespace {

// FNV-1a over the UTF-16 code units, finished with a 64-bit mix (splitmix64) so that the low bits
// used for the first probe are well spread. Deterministic, unlike qHash's per-process seed, which
// makes collisions reproducible in tests.
quint64 hashOf(QStringView id)
{
    quint64 h = 0xcbf29ce484222325ull;
    for (QChar c : id) {
        h ^= c.unicode();
        h *= 0x100000001b3ull;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h | (quint64(1) << 63);
}

bool isStorable(QStringView id)
{
    if (id.isEmpty() || id.size() > CallerTable::kMaxIdLength)
        return false;
    for (QChar c : id)
        if (c.unicode() < 0x20 || c.unicode() >= 0x7f)
            return false;
    return true;
}

} // namespace

CallerTable::CallerTable(int capacity)
    : m_capacity(int(std::bit_ceil(quint32(qMax(capacity, 4)))))
    , m_maxUsed(m_capacity / 4 * 3)
    , m_slots(new Slot[size_t(m_capacity) + 1])
{
}

CallerTable::~CallerTable() = default;

bool CallerTable::holds(const Slot &slot, QStringView id) const
{
    if (slot.length != id.size())
        return false;
    for (qsizetype i = 0; i < id.size(); ++i)
        if (slot.id[i] != char(id[i].unicode()))
            return false;
    return true;
}

int CallerTable::slotOf(QStringView id)
{
    if (!isStorable(id))
        return otherSlot();
    const quint64 hash = hashOf(id);
    const quint64 mask = quint64(m_capacity - 1);
    // Linear probing; the table is never more than 3/4 full, so a probe ends at a free slot.
    for (quint64 i = hash & mask;; i = (i + 1) & mask) {
        Slot &slot = m_slots[size_t(i)];
        quint64 key = slot.key.load(std::memory_order_acquire);
        if (key == 0) {
            if (m_used.load(std::memory_order_relaxed) >= m_maxUsed)
                return otherSlot();
            if (slot.key.compare_exchange_strong(key, kBusy, std::memory_order_acquire)) {
                if (m_used.fetch_add(1, std::memory_order_relaxed) >= m_maxUsed) {
                    // Another thread took the last place meanwhile: give the slot back.
                    m_used.fetch_sub(1, std::memory_order_relaxed);
                    slot.key.store(0, std::memory_order_release);
                    return otherSlot();
                }
                slot.length = quint8(id.size());
                for (qsizetype c = 0; c < id.size(); ++c)
                    slot.id[c] = char(id[c].unicode());
                slot.key.store(hash, std::memory_order_release);
                return int(i);
            }
            // Lost the race for this slot; `key` now holds what the winner wrote.
        }
        // Only on the first sight of an id, and only while another thread is writing it.
        while (key == kBusy) {
            std::this_thread::yield();
            key = slot.key.load(std::memory_order_acquire);
        }
        if (key == hash && holds(slot, id))
            return int(i);
        if (key == 0) // a slot given back: look at it again
            i = (i - 1) & mask;
    }
}

QByteArray CallerTable::idAt(int slot) const
{
    if (slot == otherSlot())
        return QByteArrayLiteral("_other");
    const Slot &s = m_slots[size_t(slot)];
    const quint64 key = s.key.load(std::memory_order_acquire);
    if (key == 0 || key == kBusy)
        return QByteArray();
    return QByteArray(s.id, s.length);
}

QList<CallerTable::Entry> CallerTable::entries() const
{
    QList<Entry> out;
    for (int i = 0; i <= m_capacity; ++i) {
        const quint64 n = countAt(i);
        if (n == 0)
            continue;
        QByteArray id = idAt(i);
        if (!id.isEmpty())
            out.append(Entry {i, std::move(id), n});
    }
    return out;
}

} // namespace Outpost::Observe
